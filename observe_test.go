package sealed_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
)

// events records what an Observer is told.
type events struct {
	mu  sync.Mutex
	got []sealed.Event
}

func (e *events) observe(_ context.Context, ev sealed.Event) {
	e.mu.Lock()
	e.got = append(e.got, ev)
	e.mu.Unlock()
}

// take returns the events since the last take.
func (e *events) take() []sealed.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	got := e.got
	e.got = nil
	return got
}

// outcomes is "op:outcome[:reason]" for each event, for compact asserts.
func outcomes(evs []sealed.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Op + ":" + e.Outcome
		if e.Reason != "" {
			out[i] += ":" + e.Reason
		}
	}
	return out
}

func TestObserverLoadOutcomes(t *testing.T) {
	ctx := context.Background()
	var ev events
	clock := sealed.NewClock(time.Time{})
	k1, k2 := sealed.GenerateKey("k1"), sealed.GenerateKey("k2")
	rot, err := sealed.NewRotatingKeyring(ring(t, k1))
	require.NoError(t, err)
	list := newFaultyList()
	m := sealed.NewTestManager(t, rot, &sealed.Options{
		AllowInsecure: true, Observer: ev.observe, Now: clock.Now, Revocation: list,
		IdleTimeout: time.Hour, AbsoluteTimeout: 2 * time.Hour, ClockSkew: time.Second,
	})
	saveWith := func(set func(*sealed.Session)) string {
		s, err := m.Load(ctx)
		require.NoError(t, err)
		set(s)
		lines, err := m.Save(ctx, s)
		require.NoError(t, err)
		return strings.Join(cookiePairs(lines), "; ")
	}
	load := func(header string) []string {
		ev.take()
		_, _ = m.Load(ctx, header)
		var out []string
		for _, e := range ev.take() {
			if e.Op == "load" {
				out = append(out, outcomesOf(e))
			}
		}
		return out
	}

	assert.Equal(t, []string{"load:new"}, load(""))
	good := saveWith(func(s *sealed.Session) { require.NoError(t, s.Set("a", 1)) })
	assert.Equal(t, []string{"load:opened"}, load(good))

	// Each class of rejection.
	name, value, _ := strings.Cut(good, "=")
	altered := []byte(value)
	if i := len(altered) - 5; altered[i] == 'A' { // inside the tag
		altered[i] = 'B'
	} else {
		altered[i] = 'A'
	}
	assert.Equal(t, []string{"load:rejected:cookie"}, load(name+"=%%%"))
	assert.Equal(t, []string{"load:rejected:format"}, load(name+"=AAAA"))
	assert.Equal(t, []string{"load:rejected:auth"}, load(name+"="+string(altered)))
	other := sealed.NewTestManager(t, sealed.NewTestKeys(t, "k9"), &sealed.Options{AllowInsecure: true})
	s, _ := other.Load(ctx)
	require.NoError(t, s.Set("a", 1))
	lines, err := other.Save(ctx, s)
	require.NoError(t, err)
	assert.Equal(t, []string{"load:rejected:key"}, load(cookiePairs(lines)[0]))

	// A session under an old key: KeyID says which.
	require.NoError(t, rot.Swap(ring(t, k2, k1)))
	ev.take()
	_, _ = m.Load(ctx, good)
	got := ev.take()
	require.Len(t, got, 2, "a revocation lookup, then the load")
	assert.Equal(t, "revocation:ok:Revoked", outcomesOf(got[0]))
	assert.Equal(t, sealed.Event{Op: "load", Outcome: "opened", KeyID: "k1", OldKey: true}, got[1])

	// Expired, both ways, and revoked.
	clock.Advance(time.Hour + 2*time.Second)
	assert.Equal(t, []string{"load:expired:idle"}, load(good))
	fresh := saveWith(func(s *sealed.Session) { require.NoError(t, s.Set("a", 1)) })
	for range 2 {
		clock.Advance(50 * time.Minute)
		s, err := m.Load(ctx, fresh)
		require.NoError(t, err)
		require.False(t, s.IsNew(), "%v", outcomes(ev.take()))
		require.NoError(t, s.Set("n", time.Now().UnixNano()))
		lines, err := m.Save(ctx, s)
		require.NoError(t, err)
		fresh = strings.Join(cookiePairs(lines), "; ")
	}
	clock.Advance(21 * time.Minute) // 121 minutes after creation, 21 after the last save
	assert.Equal(t, []string{"load:expired:absolute"}, load(fresh))

	user := saveWith(func(s *sealed.Session) { require.NoError(t, s.SetSubject("u1")) })
	clock.Advance(time.Second)
	require.NoError(t, m.RevokeSubject(ctx, "u1"))
	clock.Advance(2 * time.Second)
	assert.Equal(t, []string{"load:revoked"}, load(user))

	live := saveWith(func(s *sealed.Session) { require.NoError(t, s.Set("a", 2)) })
	list.down.Store(true)
	ev.take()
	_, err = m.Load(ctx, live)
	require.ErrorIs(t, err, sealed.ErrUnavailable)
	got = ev.take()
	require.Len(t, got, 2)
	assert.Equal(t, "revocation:error:Revoked", outcomesOf(got[0]))
	assert.ErrorIs(t, got[0].Err, errDown)
	assert.Equal(t, "load:failed", outcomesOf(got[1]))
	assert.ErrorIs(t, got[1].Err, sealed.ErrUnavailable)
}

func TestObserverSaveOutcomes(t *testing.T) {
	ctx := context.Background()
	var ev events
	list := newFaultyList()
	m := sealed.NewTestManager(t, nil, &sealed.Options{AllowInsecure: true, Observer: ev.observe, Revocation: list, Budget: sealed.BudgetNginx8k()})

	s, _ := m.Load(ctx)
	require.NoError(t, s.Set("big", strings.Repeat("x", 5000))) // two chunks
	lines, err := m.Save(ctx, s)
	require.NoError(t, err)
	require.Len(t, lines, 2)
	got := ev.take()
	save := got[len(got)-1]
	assert.Equal(t, "save", save.Op)
	assert.Equal(t, "written", save.Outcome)
	assert.Equal(t, 2, save.Chunks)
	assert.Equal(t, len(lines[0])+len(lines[1]), save.Bytes)
	header := strings.Join(cookiePairs(lines), "; ")

	// Nothing changed: nothing written.
	s, _ = m.Load(ctx, header)
	_, err = m.Save(ctx, s)
	require.NoError(t, err)
	assert.Equal(t, []string{"revocation:ok:Revoked", "load:opened", "save:unchanged"}, outcomes(ev.take()))

	// Saving again is not a save.
	_, err = m.Save(ctx, s)
	require.NoError(t, err)
	assert.Empty(t, ev.take())

	// Too large, with the TooLargeError.
	s, _ = m.Load(ctx, header)
	require.NoError(t, s.Set("huge", strings.Repeat("y", 20000)))
	_, err = m.Save(ctx, s)
	require.ErrorIs(t, err, sealed.ErrTooLarge)
	got = ev.take()
	last := got[len(got)-1]
	assert.Equal(t, "save:too large", outcomesOf(last))
	var tl *sealed.TooLargeError
	assert.ErrorAs(t, last.Err, &tl)

	// Invalidate: the ID revoked (one Revoke call), the cookies expired.
	s, _ = m.Load(ctx, header)
	require.NoError(t, s.Invalidate())
	lines, err = m.Save(ctx, s)
	require.NoError(t, err)
	got = ev.take()
	assert.Equal(t, []string{"revocation:ok:Revoked", "load:opened", "revocation:ok:Revoke", "save:expired"}, outcomes(got))
	assert.Zero(t, got[3].Chunks, "deletions are not chunks")
	assert.Len(t, lines, 2)

	// The revocation list down: the save fails, and says why.
	s, _ = m.Load(ctx)
	require.NoError(t, s.Set("a", 1))
	lines, err = m.Save(ctx, s)
	require.NoError(t, err)
	s, err = m.Load(ctx, cookiePairs(lines)...)
	require.NoError(t, err)
	require.False(t, s.IsNew())
	require.NoError(t, s.Invalidate())
	list.down.Store(true)
	_, err = m.Save(ctx, s)
	require.ErrorIs(t, err, sealed.ErrUnavailable)
	got = ev.take()
	assert.Equal(t, "revocation:error:Revoke", outcomesOf(got[len(got)-2]))
	assert.Equal(t, "save:failed", outcomesOf(got[len(got)-1]))
	assert.ErrorIs(t, got[len(got)-1].Err, sealed.ErrUnavailable)

	assert.ErrorIs(t, m.RevokeSubject(ctx, "u1"), sealed.ErrUnavailable)
	got = ev.take()
	require.Len(t, got, 1)
	assert.Equal(t, "revocation:error:RevokeSubject", outcomesOf(got[0]))
}

// The observer runs with no lock held: it may use the request's session,
// which would deadlock if a save called it under the session's mutex.
func TestObserverCalledWithoutLocks(t *testing.T) {
	var (
		mu   sync.Mutex
		sess *sealed.Session
		saw  []string
	)
	m := newManager(t, nil, sealed.Options{Observer: func(ctx context.Context, e sealed.Event) {
		mu.Lock()
		s := sess
		mu.Unlock()
		if s != nil {
			_ = s.Keys() // takes the session's lock
		}
		mu.Lock()
		saw = append(saw, e.Op+":"+e.Outcome)
		mu.Unlock()
	}})
	site := serve(t, m, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Session(r)
		if err != nil {
			return
		}
		mu.Lock()
		sess = s
		mu.Unlock()
		_ = s.Set("a", 1)
		_, _ = w.Write([]byte("ok"))
	}))
	c := site.client(t)
	c.get("/")
	c.get("/")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"load:new", "save:written", "load:opened", "save:unchanged"}, saw)
}

func outcomesOf(e sealed.Event) string { return outcomes([]sealed.Event{e})[0] }

func ring(t testing.TB, keys ...sealed.Key) *sealed.Keyring {
	t.Helper()
	k, err := sealed.NewKeyring(keys...)
	require.NoError(t, err)
	return k
}

// Package revoketest is the conformance suite for sealed.RevocationList
// backends. Every backend, in this module or another, runs the same Run, so
// that they agree on the edge cases the Manager relies on: millisecond
// precision of subject revocation, before never being lowered, entries
// expiring after their ttl (and only then, whatever the instants given),
// and context handling.
//
// The suite waits about two seconds of real time for expiry, since a
// backend like Redis counts ttls down on its own clock; its subtests run
// in parallel so that this wait is paid once.
package revoketest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/sealedgo/sealed"
)

// Run runs the conformance suite. newList is called once per subtest and
// must return a working list; it may register cleanups on the t it is
// given. Lists may share storage: every subtest uses fresh random IDs and
// subjects, so subtests cannot see each other's entries.
func Run(t *testing.T, newList func(t *testing.T) sealed.RevocationList) {
	t.Helper()
	tests := []struct {
		name string
		f    func(t *testing.T, l sealed.RevocationList)
	}{
		{"UnknownIDNotRevoked", testUnknown},
		{"RevokeID", testRevokeID},
		{"SubjectBoundaries", testSubjectBoundaries},
		{"EmptySubjectNeverMatches", testEmptySubject},
		{"SubjectBeforeOnlyRises", testBeforeOnlyRises},
		{"EntriesExpire", testExpiry},
		{"NonPositiveTTL", testNonPositiveTTL},
		{"InstantsFarFromNow", testFarInstants},
		{"HugeTTL", testHugeTTL},
		{"DoneContext", testDoneContext},
		{"Concurrent", testConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.f(t, newList(t))
		})
	}
}

// opTimeout bounds each call, so that a hung backend fails the test
// instead of stalling the whole run.
const opTimeout = 5 * time.Second

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newID returns a session ID shaped like the Manager's: 32 hex digits.
func newID() string { return randomHex(16) }

func newSubject() string { return "user-" + randomHex(8) }

func revoke(t *testing.T, l sealed.RevocationList, id string, ttl time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), opTimeout)
	defer cancel()
	if err := l.Revoke(ctx, id, ttl); err != nil {
		t.Fatalf("Revoke(ttl %v): %v", ttl, err)
	}
}

func revokeSubject(t *testing.T, l sealed.RevocationList, subject string, before time.Time, ttl time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), opTimeout)
	defer cancel()
	if err := l.RevokeSubject(ctx, subject, before, ttl); err != nil {
		t.Fatalf("RevokeSubject(ttl %v): %v", ttl, err)
	}
}

func revoked(t *testing.T, l sealed.RevocationList, id, subject string, created time.Time) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), opTimeout)
	defer cancel()
	r, err := l.Revoked(ctx, id, subject, created)
	if err != nil {
		t.Fatalf("Revoked: %v", err)
	}
	return r
}

// expect fails the test when Revoked's answer is not want; what says which
// case it was.
func expect(t *testing.T, l sealed.RevocationList, want bool, what, id, subject string, created time.Time) {
	t.Helper()
	if got := revoked(t, l, id, subject, created); got != want {
		t.Errorf("%s: Revoked = %v, want %v", what, got, want)
	}
}

// ms returns the start of the millisecond t falls in, the precision at
// which the Manager stores creation times.
func ms(t time.Time) time.Time { return time.UnixMilli(t.UnixMilli()) }

func testUnknown(t *testing.T, l sealed.RevocationList) {
	now := time.Now()
	expect(t, l, false, "unknown ID without subject", newID(), "", now)
	expect(t, l, false, "unknown ID with a subject never revoked", newID(), newSubject(), now.Add(-time.Hour))
}

func testRevokeID(t *testing.T, l sealed.RevocationList) {
	now := time.Now()
	id, other := newID(), newID()
	revoke(t, l, id, time.Hour)
	expect(t, l, true, "revoked ID", id, "", now)
	// An ID revocation holds whatever subject and creation time the
	// session claims.
	expect(t, l, true, "revoked ID with a subject", id, newSubject(), now.Add(time.Hour))
	expect(t, l, false, "another ID", other, "", now)
	expect(t, l, false, "another ID with a subject", other, newSubject(), now.Add(-time.Hour))
	// Revoking twice is not an error and changes nothing.
	revoke(t, l, id, time.Hour)
	expect(t, l, true, "ID revoked twice", id, "", now)
}

func testSubjectBoundaries(t *testing.T, l sealed.RevocationList) {
	sub, other := newSubject(), newSubject()
	// before lies 0.4 ms into millisecond b, as Manager.RevokeSubject's
	// time.Now() does: sessions created during b itself must survive.
	b := ms(time.Now())
	before := b.Add(400 * time.Microsecond)
	revokeSubject(t, l, sub, before, time.Hour)

	cases := []struct {
		what    string
		created time.Time
		want    bool
	}{
		{"created an hour before", b.Add(-time.Hour), true},
		{"created the millisecond before", b.Add(-time.Millisecond), true},
		{"created 1ns before the millisecond", b.Add(-time.Nanosecond), true},
		{"created at the start of before's millisecond", b, false},
		{"created late in before's millisecond", b.Add(999 * time.Microsecond), false},
		{"created the millisecond after", b.Add(time.Millisecond), false},
		{"created an hour after", b.Add(time.Hour), false},
	}
	for _, c := range cases {
		expect(t, l, c.want, c.what, newID(), sub, c.created)
	}
	expect(t, l, false, "another subject, created before", newID(), other, b.Add(-time.Hour))
}

func testEmptySubject(t *testing.T, l sealed.RevocationList) {
	now := time.Now()
	// "" means "no subject". A backend may refuse to revoke it or accept
	// and ignore it; either way, sessions without a subject must not be
	// caught by any subject revocation.
	ctx, cancel := context.WithTimeout(t.Context(), opTimeout)
	defer cancel()
	_ = l.RevokeSubject(ctx, "", now, time.Hour)
	revokeSubject(t, l, newSubject(), now, time.Hour)
	expect(t, l, false, "session without subject", newID(), "", now.Add(-time.Hour))
}

func testBeforeOnlyRises(t *testing.T, l sealed.RevocationList) {
	sub := newSubject()
	const ttl = time.Hour
	t1 := ms(time.Now())
	t0, t2 := t1.Add(-10*time.Second), t1.Add(10*time.Second)
	between := t1.Add(5 * time.Second) // after t1, before t2

	revokeSubject(t, l, sub, t1, ttl)
	expect(t, l, true, "created before the first before", newID(), sub, t1.Add(-time.Millisecond))
	expect(t, l, false, "created between the two befores, first revocation only", newID(), sub, between)

	revokeSubject(t, l, sub, t2, ttl)
	expect(t, l, true, "created between the two befores, after raising", newID(), sub, between)
	expect(t, l, false, "created at the raised before", newID(), sub, t2)

	revokeSubject(t, l, sub, t0, ttl)
	expect(t, l, true, "created between, after an earlier before was given", newID(), sub, between)
	expect(t, l, true, "created just before the raised before, after an earlier before was given", newID(), sub, t2.Add(-time.Millisecond))
	expect(t, l, false, "created at the raised before, after an earlier before was given", newID(), sub, t2)
}

// testExpiry checks that entries live for their ttl and then go, and
// that a subject entry revoked twice lives for the longer ttl, whichever
// call gave it and whichever call gave the later before.
func testExpiry(t *testing.T, l sealed.RevocationList) {
	const short = 1500 * time.Millisecond
	start := time.Now()
	old := start.Add(-time.Hour)
	t1 := ms(start)
	between := t1.Add(5 * time.Second)
	id, sub := newID(), newSubject()
	// longFirst is revoked for long, then raised with a short ttl;
	// longLast is revoked for short, then given a long ttl with a lower
	// before.
	longFirst, longLast := newSubject(), newSubject()
	revoke(t, l, id, short)
	revokeSubject(t, l, sub, start, short)
	revokeSubject(t, l, longFirst, t1, time.Hour)
	revokeSubject(t, l, longFirst, t1.Add(10*time.Second), short)
	revokeSubject(t, l, longLast, t1.Add(10*time.Second), short)
	revokeSubject(t, l, longLast, t1, time.Hour)
	expect(t, l, true, "ID within its ttl", id, "", start)
	expect(t, l, true, "subject within its ttl", newID(), sub, old)

	// Leave half a second for a backend that expires entries lazily, or
	// was slow to record them.
	time.Sleep(time.Until(start.Add(short + 500*time.Millisecond)))
	expect(t, l, false, "ID after its ttl", id, "", start)
	expect(t, l, false, "subject after its ttl", newID(), sub, old)
	expect(t, l, true, "subject revoked for long, then raised for short, after the short ttl", newID(), longFirst, between)
	expect(t, l, true, "subject revoked for short, then for long with a lower before, after the short ttl", newID(), longLast, between)
	expect(t, l, false, "subject revoked twice, created at the higher before", newID(), longLast, t1.Add(10*time.Second))
}

// testNonPositiveTTL checks that a ttl of zero or less records nothing, is
// no error (the Manager passes one for a session that has expired anyway),
// and leaves an existing entry as it was.
func testNonPositiveTTL(t *testing.T, l sealed.RevocationList) {
	now := time.Now()
	for _, ttl := range []time.Duration{0, -time.Nanosecond, -time.Hour, math.MinInt64} {
		id, sub := newID(), newSubject()
		revoke(t, l, id, ttl)
		revokeSubject(t, l, sub, now, ttl)
		expect(t, l, false, "ID revoked for ttl "+ttl.String(), id, "", now)
		expect(t, l, false, "subject revoked for ttl "+ttl.String(), newID(), sub, now.Add(-time.Hour))
	}

	id, sub := newID(), newSubject()
	revoke(t, l, id, time.Hour)
	revokeSubject(t, l, sub, now, time.Hour)
	revoke(t, l, id, 0)
	revokeSubject(t, l, sub, now.Add(time.Hour), 0)
	expect(t, l, true, "revoked ID, revoked again for ttl 0", id, "", now)
	expect(t, l, true, "revoked subject, revoked again for ttl 0", newID(), sub, now.Add(-time.Millisecond))
	expect(t, l, false, "revoked subject, raised for ttl 0: before not raised", newID(), sub, now.Add(time.Minute))
}

// testFarInstants checks that before and created are compared only with
// each other, never with the backend's clock: a Manager whose clock
// (Options.Now) is decades off still revokes, for as long as the ttl says.
func testFarInstants(t *testing.T, l sealed.RevocationList) {
	for _, managerNow := range []time.Time{
		ms(time.Date(2001, 9, 9, 1, 46, 40, 0, time.UTC)),
		ms(time.Date(2150, 1, 1, 0, 0, 0, 0, time.UTC)),
	} {
		id, sub := newID(), newSubject()
		revoke(t, l, id, time.Hour)
		revokeSubject(t, l, sub, managerNow, time.Hour)
		what := " (Manager clock at " + managerNow.Format(time.DateOnly) + ")"
		expect(t, l, true, "revoked ID"+what, id, "", managerNow)
		expect(t, l, true, "subject, created the millisecond before"+what, newID(), sub, managerNow.Add(-time.Millisecond))
		expect(t, l, false, "subject, created at before"+what, newID(), sub, managerNow)
	}
}

// testHugeTTL checks that a ttl too long for the backend's clock arithmetic
// (time.Duration's maximum, about 292 years) still records an entry,
// rather than overflowing into one that has already expired.
func testHugeTTL(t *testing.T, l sealed.RevocationList) {
	now := time.Now()
	id, sub := newID(), newSubject()
	revoke(t, l, id, math.MaxInt64)
	revokeSubject(t, l, sub, now, math.MaxInt64)
	expect(t, l, true, "ID revoked for the longest ttl", id, "", now)
	expect(t, l, true, "subject revoked for the longest ttl", newID(), sub, now.Add(-time.Hour))
}

func testDoneContext(t *testing.T, l sealed.RevocationList) {
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	expired, cancel2 := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel2()

	now := time.Now()
	for _, c := range []struct {
		name string
		ctx  context.Context
	}{{"cancelled", cancelled}, {"past deadline", expired}} {
		check := func(op string, err error) {
			t.Helper()
			if err == nil {
				t.Errorf("%s with a %s context: no error", op, c.name)
			} else if !errors.Is(err, c.ctx.Err()) {
				t.Errorf("%s with a %s context: error %q does not wrap %v", op, c.name, err, c.ctx.Err())
			}
		}
		check("Revoke", l.Revoke(c.ctx, newID(), time.Hour))
		check("RevokeSubject", l.RevokeSubject(c.ctx, newSubject(), now, time.Hour))
		_, err := l.Revoked(c.ctx, newID(), newSubject(), now)
		check("Revoked", err)
	}
}

func testConcurrent(t *testing.T, l sealed.RevocationList) {
	const goroutines, rounds = 16, 20
	shared := newSubject()
	base := ms(time.Now())
	const ttl = time.Hour
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range rounds {
				id := newID()
				if r, err := l.Revoked(ctx, id, shared, base.Add(time.Hour)); err != nil || r {
					t.Errorf("fresh ID: Revoked = %v, %v; want false, nil", r, err)
					return
				}
				if err := l.Revoke(ctx, id, ttl); err != nil {
					t.Errorf("Revoke: %v", err)
					return
				}
				if r, err := l.Revoked(ctx, id, "", base); err != nil || !r {
					t.Errorf("just revoked ID: Revoked = %v, %v; want true, nil", r, err)
					return
				}
				// Every goroutine raises the shared subject's before, in
				// interleaved order; the highest must win.
				before := base.Add(time.Duration(i*goroutines+g) * time.Millisecond)
				if err := l.RevokeSubject(ctx, shared, before, ttl); err != nil {
					t.Errorf("RevokeSubject: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	highest := base.Add((rounds*goroutines - 1) * time.Millisecond)
	expect(t, l, true, "created just before the highest before", newID(), shared, highest.Add(-time.Millisecond))
	expect(t, l, false, "created at the highest before", newID(), shared, highest)
}

// Package redisrevoke is a revocation list for github.com/sealedgo/sealed
// kept in Redis, so that every server of a fleet refuses a session that
// any of them ended.
//
// A *List satisfies sealed.RevocationList by shape; this package does not
// import the sealed package, so that its dependency on Redis stays out of
// the core module:
//
//	m, err := sealed.New(keys, &sealed.Options{
//		Revocation: redisrevoke.New(client, nil),
//	})
//
// Each request that carries a session costs one round trip to Redis (an
// EXISTS and a GET, pipelined). Logouts and CycleID cost one SET each.
//
// Every entry expires in Redis when the session it ends would have expired
// anyway, so Redis holds no more than the sessions ended within the last
// absolute timeout. The Manager gives each entry's lifetime as a ttl and
// Redis counts it down on its own clock, so neither the servers' clocks
// nor the Manager's (Options.Now) need agree with Redis's.
//
// Entries are lost if Redis loses its data (a restart without persistence,
// a failover to a replica that lagged, eviction under maxmemory): a copy
// of a cookie ended before that replays again until it expires. Run Redis
// with persistence and a noeviction policy if that matters.
//
// Create the client with ContextTimeoutEnabled: true. The Manager bounds
// each call with its RevocationTimeout through the context, and go-redis
// ignores context deadlines on the connection unless told otherwise: a
// Redis that hangs would then hold each request for the client's
// ReadTimeout (3 seconds by default) instead.
package redisrevoke

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is the key prefix used when Options.Prefix is empty.
const DefaultPrefix = "sealed:revoked:"

// Options configures a List. The zero value of every field means the
// default given with it; New(client, nil) uses all defaults.
type Options struct {
	// Prefix starts every key the list reads or writes: the key of a
	// revoked session ID is Prefix+"id:"+id and that of a revoked subject
	// Prefix+"sub:"+subject. Give each application sharing a Redis its own
	// prefix, and the same prefix to every server of one application.
	// Default DefaultPrefix ("sealed:revoked:").
	Prefix string
}

// List is a revocation list in Redis. It is safe for concurrent use, as
// the client is.
type List struct {
	c         redis.UniversalClient
	idPrefix  string
	subPrefix string
}

// New returns a List that stores its entries through client, which should
// have ContextTimeoutEnabled set (see the package documentation). A nil
// opts means all defaults. It panics if client is nil, a programming error
// best found at startup.
func New(client redis.UniversalClient, opts *Options) *List {
	if client == nil {
		panic("redisrevoke: New: nil client")
	}
	prefix := DefaultPrefix
	if opts != nil && opts.Prefix != "" {
		prefix = opts.Prefix
	}
	return &List{c: client, idPrefix: prefix + "id:", subPrefix: prefix + "sub:"}
}

// px rounds ttl up to whole milliseconds, Redis's precision, so that an
// entry never expires before its ttl; it returns 0 for a ttl of zero or
// less. The longest ttls (near 292 years) are clamped first so that the
// rounding cannot overflow.
func px(ttl time.Duration) time.Duration {
	if ttl <= 0 {
		return 0
	}
	ttl = min(ttl, math.MaxInt64-time.Millisecond)
	return (ttl + time.Millisecond - 1).Truncate(time.Millisecond)
}

// Revoke marks id as revoked for ttl: a SET with that TTL, so that Redis
// drops the entry when the session would have expired anyway. A ttl of
// zero or less stores nothing and is no error: the session has expired
// anyway.
//
// Errors never name the ID or the subject: the Manager logs them.
func (l *List) Revoke(ctx context.Context, id string, ttl time.Duration) error {
	return store(ctx, "revoke", "session ID", id, ttl, func(d time.Duration) error {
		return l.c.Set(ctx, l.idPrefix+id, "1", d).Err()
	})
}

// store checks what Revoke and RevokeSubject share (a live ctx, a
// non-empty name, a positive ttl) and calls write with ttl in whole
// milliseconds. op names the call in errors, what the name.
func store(ctx context.Context, op, what, name string, ttl time.Duration, write func(d time.Duration) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisrevoke: %s: %w", op, err)
	}
	if name == "" {
		return errors.New("redisrevoke: " + op + ": empty " + what)
	}
	d := px(ttl)
	if d == 0 {
		return nil
	}
	if err := write(d); err != nil {
		return fmt.Errorf("redisrevoke: %s: %w", op, err)
	}
	return nil
}

// raiseSubject stores a subject's before (Unix ms) unless a later one is
// there, and keeps the key alive for the longer of the two TTLs: a later
// call must neither lower before nor cut short what an earlier call
// promised. A script makes the read and the write one atomic step, so that
// two servers revoking the same subject at once cannot lower it either.
//
// KEYS[1] the subject's key; ARGV[1] before in Unix ms; ARGV[2] TTL in ms.
var raiseSubject = redis.NewScript(`
local before = ARGV[1]
local px = tonumber(ARGV[2])
local cur = redis.call('GET', KEYS[1])
if cur then
	local n = tonumber(cur)
	if n and n >= tonumber(before) then
		before = cur
	end
end
local left = redis.call('PTTL', KEYS[1])
if left > px then
	px = left
end
redis.call('SET', KEYS[1], before, 'PX', px)
return 1
`)

// RevokeSubject revokes subject's sessions created before before, to the
// millisecond, for ttl. before is stored as given and compared only with
// creation times, never with Redis's clock. It never lowers a before
// already stored nor shortens the key's remaining TTL, and a ttl of zero
// or less stores nothing. An empty subject is an error: it stands for "no
// subject".
func (l *List) RevokeSubject(ctx context.Context, subject string, before time.Time, ttl time.Duration) error {
	return store(ctx, "revoke subject", "subject", subject, ttl, func(d time.Duration) error {
		return raiseSubject.Run(ctx, l.c, []string{l.subPrefix + subject},
			strconv.FormatInt(before.UnixMilli(), 10), strconv.FormatInt(d.Milliseconds(), 10)).Err()
	})
}

// Revoked reports whether the session is revoked by its ID, or by its
// subject because it was created in an earlier millisecond than the
// subject's stored before. It costs one round trip: EXISTS on the ID's key
// and GET on the subject's key, pipelined. (With a cluster client the two
// keys may live on different nodes; go-redis then asks both in parallel.)
func (l *List) Revoked(ctx context.Context, id, subject string, created time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("redisrevoke: lookup: %w", err)
	}
	var exists *redis.IntCmd
	var before *redis.StringCmd
	_, err := l.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, l.idPrefix+id)
		if subject != "" {
			before = p.Get(ctx, l.subPrefix+subject)
		}
		return nil
	})
	// A missing subject key is redis.Nil, the usual case, not a failure.
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("redisrevoke: lookup: %w", err)
	}
	n, err := exists.Result()
	if err != nil {
		return false, fmt.Errorf("redisrevoke: lookup: %w", err)
	}
	if n > 0 {
		return true, nil
	}
	if before == nil {
		return false, nil
	}
	v, err := before.Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("redisrevoke: lookup: %w", err)
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		// Fail closed on a value this package did not write: someone
		// else uses the prefix.
		return false, errors.New("redisrevoke: lookup: subject entry is not a Unix millisecond time")
	}
	return created.UnixMilli() < ms, nil
}

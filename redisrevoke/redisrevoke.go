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
// EXISTS and a GET, pipelined). Logouts and CycleID cost one SET each
// (with Options.WaitReplicas, a SET and a WAIT in one round trip).
//
// Every entry expires in Redis when the session it ends would have expired
// anyway, so Redis holds no more than the sessions ended within the last
// absolute timeout. The Manager gives each entry's lifetime as a ttl and
// Redis counts it down on its own clock, so neither the servers' clocks
// nor the Manager's (Options.Now) need agree with Redis's.
//
// # Clients
//
// The client is any go-redis v9 UniversalClient: a *redis.Client for one
// server, a *redis.ClusterClient for Redis Cluster, or, for a primary
// watched by Sentinel, the Sentinel-aware client of redis.NewFailoverClient
// (or of redis.NewUniversalClient with a MasterName), which asks Sentinel
// for the primary and follows it when Sentinel promotes a replica:
//
//	client := redis.NewFailoverClient(&redis.FailoverOptions{
//		MasterName:            "mymaster",
//		SentinelAddrs:         []string{"10.0.0.1:26379", "10.0.0.2:26379", "10.0.0.3:26379"},
//		ContextTimeoutEnabled: true,
//	})
//	list := redisrevoke.New(client, &redisrevoke.Options{WaitReplicas: 1})
//
// Every command the list sends names a single key (no MULTI, MGET or
// multi-key script), so a cluster never refuses one as CROSSSLOT.
//
// Create the client with ContextTimeoutEnabled: true. The Manager bounds
// each call with its RevocationTimeout through the context, and go-redis
// ignores context deadlines on the connection unless told otherwise: a
// Redis that hangs would then hold each request for the client's
// ReadTimeout (3 seconds by default) instead. With the deadline honoured,
// a primary that is down or hung fails each request closed within
// RevocationTimeout (sealed.ErrUnavailable, a 503 from the middleware)
// until a replica is promoted.
//
// # Durability
//
// Entries are lost if Redis loses its data (a restart without persistence,
// eviction under maxmemory, a failover to a replica that had not yet
// received them): a copy of a cookie ended before that replays again until
// it expires. Run Redis with persistence and a noeviction policy if that
// matters. Redis replicates asynchronously, so a primary that fails right
// after acknowledging a logout can take it down with it; set
// Options.WaitReplicas to make each revocation wait until replicas have
// it, and fail (so the logout fails, and the client keeps its cookie)
// when they cannot confirm in time. That narrows the window without
// closing it: WAIT does not make Redis strongly consistent (a failover may
// still promote a replica without the entry), as its documentation says.
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

	// WaitReplicas, when above zero, makes Revoke and RevokeSubject send
	// a WAIT for that many replicas after their write, in the same round
	// trip, and fail unless that many replicas acknowledged it before the
	// call's deadline (the Manager's RevocationTimeout). A logout the user
	// saw succeed is then on a replica, and survives the loss of the
	// primary if a replica that has it is promoted (Sentinel prefers, among
	// replicas of equal priority, the one that replicated most; Redis
	// Cluster lets that one try first); one that could not be confirmed
	// answers 503 and leaves the client's cookie in place (the entry may
	// still have reached the primary: the session then ends anyway). While fewer replicas are up, every logout fails (so does a
	// logout in the second or so after a replica's full resync, before
	// Redis streams writes to it again): use at most the number of
	// replicas normally connected to each primary, less the number you
	// want to be able to lose. Lookups (Revoked) never wait.
	//
	// The client must be a *redis.Client (one primary, or Sentinel's
	// failover client) or a *redis.ClusterClient, where the write and its
	// WAIT go to the master of the key's slot on one connection, as WAIT
	// requires; New panics for other clients. Default 0: no waiting, and
	// replication as Redis does it, asynchronously.
	WaitReplicas int
}

// List is a revocation list in Redis. It is safe for concurrent use, as
// the client is.
type List struct {
	c         redis.UniversalClient
	idPrefix  string
	subPrefix string
	replicas  int // Options.WaitReplicas
}

// New returns a List that stores its entries through client, which should
// have ContextTimeoutEnabled set (see the package documentation). A nil
// opts means all defaults. It panics if client is nil, if WaitReplicas is
// negative, or if it is positive and client is neither a *redis.Client nor
// a *redis.ClusterClient: programming errors best found at startup.
func New(client redis.UniversalClient, opts *Options) *List {
	if client == nil {
		panic("redisrevoke: New: nil client")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	switch client.(type) {
	case *redis.Client, *redis.ClusterClient:
	default:
		if o.WaitReplicas != 0 {
			panic(fmt.Sprintf("redisrevoke: New: WaitReplicas needs a *redis.Client or *redis.ClusterClient, not %T", client))
		}
	}
	if o.WaitReplicas < 0 {
		panic("redisrevoke: New: negative WaitReplicas")
	}
	return &List{c: client, idPrefix: o.Prefix + "id:", subPrefix: o.Prefix + "sub:", replicas: o.WaitReplicas}
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
	key := l.idPrefix + id
	return store(ctx, "revoke", "session ID", id, ttl, func(d time.Duration) error {
		return l.write(ctx, key, func(c redis.Cmdable, _ bool) redis.Cmder {
			return c.Set(ctx, key, "1", d)
		})
	})
}

// defaultWait bounds a WAIT whose context has no deadline (the Manager
// always gives one); waitMargin is the least time a WAIT leaves for its
// reply (see write).
const (
	defaultWait = time.Second
	waitMargin  = 150 * time.Millisecond
)

// write sends the command that cmd queues on c for key: straight through
// the client, or, with WaitReplicas, pipelined with a WAIT on one
// connection to the key's primary, since WAIT counts the replicas that
// have the writes of its own connection. pipelined tells cmd which of the
// two it is.
func (l *List) write(ctx context.Context, key string, cmd func(c redis.Cmdable, pipelined bool) redis.Cmder) error {
	if l.replicas == 0 {
		return cmd(l.c, false).Err()
	}
	var node *redis.Client
	switch c := l.c.(type) {
	case *redis.Client:
		node = c
	case *redis.ClusterClient:
		// A cluster pipeline would send the keyless WAIT to a node of
		// its own choosing. A slot that moves meanwhile answers MOVED,
		// an error: that logout fails rather than go unconfirmed.
		var err error
		if node, err = c.MasterForKey(ctx, key); err != nil {
			return err
		}
	}
	// A pipeline reads every reply within the client's ReadTimeout and
	// the context's deadline. WAIT's own timeout is shorter, so that
	// Redis answers with its count before the client gives up on the
	// connection: Redis notices an expired WAIT on its own timer, up to
	// 1000/hz ms (100 ms by default) late. It is at least 1 ms, since
	// WAIT 0 blocks forever.
	timeout := defaultWait
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if rt := node.Options().ReadTimeout; rt > 0 {
		timeout = min(timeout, rt)
	}
	timeout -= max(timeout/4, waitMargin)
	timeout = max(timeout.Truncate(time.Millisecond), time.Millisecond)
	w := redis.NewIntCmd(ctx, "wait", l.replicas, timeout.Milliseconds())
	if _, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
		cmd(p, true)
		return p.Process(ctx, w)
	}); err != nil {
		return err
	}
	if n := w.Val(); n < int64(l.replicas) {
		return fmt.Errorf("written, but only %d of %d replicas acknowledged within %v", n, l.replicas, timeout)
	}
	return nil
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
	key := l.subPrefix + subject
	return store(ctx, "revoke subject", "subject", subject, ttl, func(d time.Duration) error {
		return l.write(ctx, key, func(c redis.Cmdable, pipelined bool) redis.Cmder {
			keys, ms, px := []string{key}, strconv.FormatInt(before.UnixMilli(), 10), strconv.FormatInt(d.Milliseconds(), 10)
			if pipelined {
				// Run's fallback from EVALSHA to EVAL on NOSCRIPT
				// needs the reply, which a pipeline gives only at the
				// end; send the script itself.
				return raiseSubject.Eval(ctx, c, keys, ms, px)
			}
			return raiseSubject.Run(ctx, c, keys, ms, px)
		})
	})
}

// Revoked reports whether the session is revoked by its ID, or by its
// subject because it was created in an earlier millisecond than the
// subject's stored before. It costs one round trip: EXISTS on the ID's key
// and GET on the subject's key, pipelined.
//
// On Redis Cluster the two keys usually hash to different slots, and no
// hash tag could join them: Revoke knows only the ID, and one subject key
// serves all of a subject's sessions. Each command names one key, though,
// so the cluster client sends each to its slot's node, both at once: one
// round trip's time still, to at most two nodes.
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

package redisrevoke_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/redisrevoke"
	"github.com/sealedgo/sealed/revoketest"
)

// redisCluster is a Redis Cluster of three masters on loopback, created
// by redis-cli as an operator would, each master then given one replica
// (for Options.WaitReplicas).
type redisCluster struct {
	masters  []*redisServer
	replicas []*redisServer // replicas[i] replicates masters[i]
}

// The cluster is started by the first test that needs it and stopped by
// TestMain.
var (
	clusterOnce sync.Once
	cluster     *redisCluster
	clusterErr  error
)

// sharedCluster returns the cluster, starting it on first use; it skips t
// when Redis is not installed.
func sharedCluster(t *testing.T) *redisCluster {
	t.Helper()
	needRedis(t)
	clusterOnce.Do(func() {
		start := time.Now()
		cluster, clusterErr = startCluster()
		if clusterErr == nil {
			t.Logf("cluster of 3 masters and 3 replicas ready in %v", time.Since(start).Round(time.Millisecond))
		}
	})
	if clusterErr != nil {
		t.Fatal(clusterErr)
	}
	return cluster
}

func stopSharedCluster() {
	if cluster != nil {
		cluster.stop()
	}
}

func (c *redisCluster) stop() {
	for _, s := range append(c.masters, c.replicas...) {
		if s != nil {
			s.stop()
		}
	}
}

// clusterNode is the argv of a cluster node: its cluster state in its own
// directory, named by its port.
func clusterNode(port int, dir string) ([]string, error) {
	return []string{"--cluster-enabled", "yes", "--cluster-config-file",
		fmt.Sprintf("%s/nodes-%d.conf", dir, port)}, nil
}

// clusterSetupTimeout bounds the whole of startCluster.
const clusterSetupTimeout = 30 * time.Second

func startCluster() (c *redisCluster, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), clusterSetupTimeout)
	defer cancel()
	c = &redisCluster{}
	defer func() {
		if err != nil {
			c.stop()
			err = fmt.Errorf("start cluster: %w", err)
		}
	}()
	nodes := make([]*redisServer, 6)
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { nodes[i], errs[i] = startRedis(clusterNode) })
	}
	wg.Wait()
	c.masters, c.replicas = nodes[:3], nodes[3:]
	if err := errors.Join(errs...); err != nil {
		return c, err
	}

	args := []string{"--cluster", "create"}
	for _, m := range c.masters {
		args = append(args, m.addr())
	}
	out, err := exec.CommandContext(ctx, "redis-cli", append(args, "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		return c, fmt.Errorf("redis-cli --cluster create: %w\n%s", err, out)
	}

	// Each replica meets the cluster and follows its master once it has
	// heard of it through gossip.
	for i, r := range c.replicas {
		var id string
		if err := withAdmin(c.masters[i], func(a *redis.Client) (err error) {
			id, err = a.ClusterMyID(ctx).Result()
			return err
		}); err != nil {
			return c, err
		}
		if err := withAdmin(r, func(a *redis.Client) error {
			if err := a.ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(c.masters[i].port)).Err(); err != nil {
				return err
			}
			return poll(ctx, "replica "+r.addr()+" to follow "+c.masters[i].addr(), func() error {
				return a.ClusterReplicate(ctx, id).Err() // "Unknown node" until gossip has it
			})
		}); err != nil {
			return c, err
		}
	}

	// Ready when every master sees a healthy cluster and has its replica
	// online. (Gossip takes a second or two more to tell every node of
	// every other; the tests only talk to masters, and to a replica
	// directly.)
	for _, m := range c.masters {
		if err := withAdmin(m, func(a *redis.Client) error {
			return poll(ctx, m.addr()+" to report cluster_state:ok", func() error {
				info, err := a.ClusterInfo(ctx).Result()
				if err != nil {
					return err
				}
				if !strings.Contains(info, "cluster_state:ok") {
					return errors.New("cluster info:\n" + info)
				}
				return nil
			})
		}); err != nil {
			return c, err
		}
		if err := waitReplicaOnline(ctx, m); err != nil {
			return c, err
		}
	}
	return c, nil
}

// waitReplicaOnline waits until primary's replica acknowledges its writes:
// a write followed by WAIT on one connection counts one replica, twice in
// a row. Redis 7.0 reports state=online too early: after a diskless sync
// it streams writes to the replica only from its next REPLCONF ACK, up to
// a second later, and a write that went into the sync's snapshot counts
// as acknowledged before that; only a write made after a first success
// proves that writes reach the replica. On a cluster master, keys of
// other masters' slots are MOVED; the probe tries others until one is its
// own.
func waitReplicaOnline(ctx context.Context, primary *redisServer) error {
	return withAdmin(primary, func(a *redis.Client) error {
		i, acked := 0, 0
		return poll(ctx, primary.addr()+"'s replica to acknowledge writes", func() error {
			key := "redisrevoke-test:probe:" + strconv.Itoa(i)
			w := redis.NewIntCmd(ctx, "wait", 1, 100)
			cmds, err := a.Pipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, key, "1", time.Minute)
				return p.Process(ctx, w)
			})
			if err != nil {
				if len(cmds) > 0 && cmds[0].Err() != nil && strings.HasPrefix(cmds[0].Err().Error(), "MOVED ") {
					i++
				}
				acked = 0
				return err
			}
			if w.Val() < 1 {
				acked = 0
				return errors.New("WAIT 1: no replica acknowledged")
			}
			if acked++; acked < 2 {
				return errors.New("one write acknowledged, perhaps through the sync's snapshot")
			}
			return nil
		})
	})
}

// adminClient is a plain client for setting servers up and inspecting
// them, not for the list under test.
func adminClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, DisableIdentity: true})
}

// withAdmin runs f with an admin client of s, closed afterwards.
func withAdmin(s *redisServer, f func(*redis.Client) error) error {
	a := adminClient(s.addr())
	defer a.Close()
	return f(a)
}

// poll calls f every 20 ms until it returns nil or ctx ends; then it
// returns f's last error, saying what it waited for.
func poll(ctx context.Context, what string, f func() error) error {
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", what, ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// client returns a cluster client configured as the package
// documentation asks, seeded with the masters' addresses.
func (c *redisCluster) client(t *testing.T) redis.UniversalClient {
	t.Helper()
	var addrs []string
	for _, m := range c.masters {
		addrs = append(addrs, m.addr())
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 addrs,
		ContextTimeoutEnabled: true,
		DisableIdentity:       true, // CLIENT SETINFO needs Redis 7.2
	})
	t.Cleanup(func() { cc.Close() })
	return cc
}

// The conformance suite through a cluster client, with and without
// waiting for replicas; the Manager-level tests run on the cluster too
// (onEachBackend).
func TestClusterConformance(t *testing.T) {
	for _, wait := range []int{0, 1} {
		t.Run("WaitReplicas="+strconv.Itoa(wait), func(t *testing.T) {
			t.Parallel()
			c := sharedCluster(t)
			client := c.client(t)
			revoketest.Run(t, func(*testing.T) sealed.RevocationList {
				return redisrevoke.New(client, &redisrevoke.Options{Prefix: uniquePrefix(), WaitReplicas: wait})
			})
		})
	}
}

// The keys of one lookup sit in different slots, on different masters, and
// the lookup still works: each command names one key, so the cluster never
// answers CROSSSLOT. (Two keys of different slots in one command would be
// refused, as the first check shows.)
func TestClusterKeysOnDifferentMasters(t *testing.T) {
	c := sharedCluster(t)
	ctx := t.Context()
	client := c.client(t)
	prefix := uniquePrefix()
	l := redisrevoke.New(client, &redisrevoke.Options{Prefix: prefix})

	id, subject := randomID(), ""
	a := adminClient(c.masters[0].addr())
	defer a.Close()
	owner := func(key string) string {
		t.Helper()
		addr, err := slotOwner(ctx, a, key)
		require.NoError(t, err)
		return addr
	}
	for i := 0; subject == ""; i++ {
		require.Less(t, i, 1000, "no subject on another master than the ID")
		if s := "user" + strconv.Itoa(i); owner(prefix+"sub:"+s) != owner(prefix+"id:"+id) {
			subject = s
		}
	}
	err := client.Do(ctx, "mget", prefix+"id:"+id, prefix+"sub:"+subject).Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CROSSSLOT", "the cluster refuses one command over both keys")

	created := time.Now().Add(-time.Minute)
	revoked, err := l.Revoked(ctx, id, subject, created)
	require.NoError(t, err)
	assert.False(t, revoked)
	require.NoError(t, l.RevokeSubject(ctx, subject, time.Now(), time.Hour))
	revoked, err = l.Revoked(ctx, id, subject, created)
	require.NoError(t, err)
	assert.True(t, revoked, "revoked by the subject, on the other master")
	require.NoError(t, l.Revoke(ctx, id, time.Hour))
	revoked, err = l.Revoked(ctx, id, "", created)
	require.NoError(t, err)
	assert.True(t, revoked, "revoked by the ID")
}

// slotOwner asks the cluster (not go-redis) which master serves key.
func slotOwner(ctx context.Context, a *redis.Client, key string) (string, error) {
	slot, err := a.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		return "", err
	}
	shards, err := a.ClusterShards(ctx).Result()
	if err != nil {
		return "", err
	}
	for _, sh := range shards {
		for _, r := range sh.Slots {
			if r.Start <= slot && slot <= r.End {
				for _, n := range sh.Nodes {
					if n.Role == "master" {
						return net.JoinHostPort(n.IP, strconv.FormatInt(n.Port, 10)), nil
					}
				}
			}
		}
	}
	return "", fmt.Errorf("slot %d has no owner", slot)
}

// With WaitReplicas, a revocation waits for the replica of the master that
// holds its key, and fails when that replica cannot confirm: WAIT must go
// on the connection that made the write. A WAIT sent anywhere else (to
// another master, through the cluster client's own routing) would find
// that master's replica up-to-date and succeed, and this test would fail.
//
// Not parallel: it pauses a replica of the shared cluster.
func TestClusterWaitReplicas(t *testing.T) {
	c := sharedCluster(t)
	ctx := t.Context()
	prefix := uniquePrefix()
	l := redisrevoke.New(c.client(t), &redisrevoke.Options{Prefix: prefix, WaitReplicas: 1})

	// IDs and a subject whose keys masters[0] holds or not, as asked.
	a := adminClient(c.masters[0].addr())
	defer a.Close()
	find := func(kind string, onFirst bool, name func() string) string {
		t.Helper()
		for range 1000 {
			n := name()
			addr, err := slotOwner(ctx, a, prefix+kind+n)
			require.NoError(t, err)
			if (addr == c.masters[0].addr()) == onFirst {
				return n
			}
		}
		t.Fatal("no key found on the wanted master")
		return ""
	}
	subject := find("sub:", true, func() string { return "user-" + randomID()[:8] })

	const timeout = 500 * time.Millisecond
	call := func(f func(ctx context.Context) error) (time.Duration, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		start := time.Now()
		err := f(ctx)
		return time.Since(start), err
	}

	c.replicas[0].pause()
	defer c.replicas[0].resume() // if the test stops early
	// Several calls, since a misrouted WAIT may still hit the right
	// master now and then.
	for range 3 {
		id := find("id:", true, randomID)
		took, err := call(func(ctx context.Context) error { return l.Revoke(ctx, id, time.Hour) })
		t.Logf("Revoke with masters[0]'s replica paused: %v in %v (deadline %v)", err, took, timeout)
		assert.Error(t, err, "the replica of the key's master did not confirm")
		assert.Less(t, took, timeout+time.Second, "bounded by the deadline")
	}
	_, err := call(func(ctx context.Context) error {
		return l.RevokeSubject(ctx, subject, time.Now(), time.Hour)
	})
	assert.Error(t, err, "the replica of the subject key's master did not confirm")
	for range 3 {
		id := find("id:", false, randomID)
		_, err = call(func(ctx context.Context) error { return l.Revoke(ctx, id, time.Hour) })
		assert.NoError(t, err, "another master's replica confirms")
	}
	c.replicas[0].resume()

	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	require.NoError(t, poll(pctx, "the resumed replica to confirm", func() error {
		_, err := call(func(ctx context.Context) error { return l.Revoke(ctx, randomID(), time.Hour) })
		return err
	}))
	// Once Revoke returns, the replica has the entry.
	id := find("id:", true, randomID)
	_, err = call(func(ctx context.Context) error { return l.Revoke(ctx, id, time.Hour) })
	require.NoError(t, err)
	r := c.replicas[0].readOnlyConn(t)
	n, err := r.Exists(ctx, prefix+"id:"+id).Result()
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "the entry is on the replica when Revoke returns")
}

// readOnlyConn returns one connection to a cluster replica that serves
// reads (READONLY) of the slots its master owns.
func (s *redisServer) readOnlyConn(t *testing.T) *redis.Conn {
	t.Helper()
	a := adminClient(s.addr())
	t.Cleanup(func() { a.Close() })
	conn := a.Conn()
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.ReadOnly(t.Context()).Err())
	return conn
}

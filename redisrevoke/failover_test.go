package redisrevoke_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/redisrevoke"
	"github.com/sealedgo/sealed/revoketest"
)

const masterName = "mymaster"

// sentinelArgv is the argv of a Sentinel watching the primary on
// primaryPort, with a quorum of one. It would fail over on its own only
// after a minute of silence: the test orders each failover (SENTINEL
// FAILOVER), so that it, not a race, decides how long the primary stays
// dead before a replica takes over.
func sentinelArgv(primaryPort int) argvFunc {
	return func(port int, dir string) ([]string, error) {
		conf := filepath.Join(dir, "sentinel.conf")
		body := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d 1\n"+
			"sentinel down-after-milliseconds %[1]s 60000\n"+
			"sentinel failover-timeout %[1]s 60000\n", masterName, primaryPort)
		return []string{conf, "--sentinel"}, os.WriteFile(conf, []byte(body), 0o600)
	}
}

// A primary with one replica, watched by Sentinel, reached through
// Sentinel-aware failover clients (redis.NewFailoverClient), as users
// deploy it. Revocations wait for the replica (WaitReplicas: 1), so those
// made before the primary fails are on the replica when they answer;
// while the primary is gone and no replica is promoted yet, every request
// fails closed within RevocationTimeout; once Sentinel has promoted the
// replica, the clients follow it on their own and the old logouts are
// still refused.
//
// The primary fails in two ways: killed (connections refused) and hung
// (SIGSTOP: connections open, nothing answered, as in a partition).
func TestFailover(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"killed", "hung"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			testFailover(t, mode)
		})
	}
}

func testFailover(t *testing.T, mode string) {
	ctx := t.Context()
	primary := ownRedis(t)
	replica := ownRedis(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.port))
	setup, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, waitReplicaOnline(setup, primary))
	sentinel, err := startRedis(sentinelArgv(primary.port))
	require.NoError(t, err)
	t.Cleanup(sentinel.stop)
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinel.addr(), ContextTimeoutEnabled: true, DisableIdentity: true})
	t.Cleanup(func() { sc.Close() })
	require.NoError(t, poll(setup, "Sentinel to know the replica", func() error {
		rs, err := sc.Replicas(setup, masterName).Result()
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r["port"] == strconv.Itoa(replica.port) && r["flags"] == "slave" && r["master-link-status"] == "ok" {
				return nil
			}
		}
		return fmt.Errorf("replicas: %v", rs)
	}))

	connect := func(t *testing.T) redis.UniversalClient {
		c := redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:            masterName,
			SentinelAddrs:         []string{sentinel.addr()},
			ContextTimeoutEnabled: true,
			DisableIdentity:       true, // CLIENT SETINFO needs Redis 7.2
		})
		t.Cleanup(func() { c.Close() })
		return c
	}
	if mode == "killed" { // once is enough
		t.Run("conformance", func(t *testing.T) {
			client := connect(t)
			revoketest.Run(t, func(*testing.T) sealed.RevocationList {
				return redisrevoke.New(client, &redisrevoke.Options{Prefix: uniquePrefix(), WaitReplicas: 1})
			})
		})
	}

	keys, prefix := newKeys(t), uniquePrefix()
	var h hook
	newServer := func() *site {
		return newSite(t, keys, redisrevoke.New(connect(t), &redisrevoke.Options{Prefix: prefix, WaitReplicas: 1}),
			sealed.Options{RevocationTimeout: revocationTimeout, ErrorHandler: h.handle})
	}
	s1, s2 := newServer(), newServer()
	onReplica := func(key string) bool {
		t.Helper()
		r := adminClient(replica.addr())
		defer r.Close()
		n, err := r.Exists(ctx, prefix+key).Result()
		require.NoError(t, err)
		return n == 1
	}
	// failsClosed sends a request and checks that it fails closed, in
	// time; it returns how long the request took.
	failsClosed := func(what string, do func() response) time.Duration {
		t.Helper()
		h.reset()
		r := do()
		assert.Equal(t, http.StatusServiceUnavailable, r.status, what)
		assert.ErrorIs(t, h.lastErr(), sealed.ErrUnavailable, what)
		assert.Empty(t, r.setCookies, what+": cookies left alone")
		assert.Less(t, r.took, revocationTimeout+time.Second, what+": bounded by RevocationTimeout")
		return r.took
	}

	// Before the failover: a logout, a "log out everywhere", an ID cycle.
	alice := newBrowser(t)
	alice.login(s1, "alice")
	aliceID := strings.Fields(alice.do(http.MethodGet, s1, "/info", nil).body)[0]
	aliceCopy := alice.cookies(s1)
	r := alice.do(http.MethodPost, s2, "/logout", nil)
	require.Equal(t, http.StatusOK, r.status, "%s: %v", r.body, h.lastErr())
	assert.True(t, onReplica("id:"+aliceID), "the logout is on the replica when it answers")

	bob := newBrowser(t)
	bob.login(s1, "bob")
	bobCopy := bob.cookies(s1)
	time.Sleep(2 * time.Millisecond) // created strictly before the revocation
	require.NoError(t, s2.m.RevokeSubject(ctx, "bob"))
	assert.True(t, onReplica("sub:bob"))

	carol := newBrowser(t)
	carol.login(s1, "carol")
	carolBeforeCycle := carol.cookies(s1)
	require.Equal(t, http.StatusOK, carol.do(http.MethodPost, s1, "/cycle", nil).status)
	require.Equal(t, "carol", carol.whoami(s2))

	// A logout the replica cannot confirm fails, and the client keeps
	// its cookie; it stops failing once the replica is back.
	dave := newBrowser(t)
	dave.login(s1, "dave")
	held := dave.cookies(s1)
	replica.pause()
	took := failsClosed("logout with the replica paused", func() response {
		defer replica.resume() // do stops the test on a transport error
		return dave.do(http.MethodPost, s1, "/logout", nil)
	})
	t.Logf("logout with the replica paused: 503 in %v", took)
	assert.Equal(t, held, dave.cookies(s1))
	wait, cancel := context.WithTimeout(ctx, 30*time.Second) // bounds the rest of the test
	defer cancel()
	require.NoError(t, poll(wait, "the resumed replica to confirm writes", func() error {
		return s1.m.RevokeSubject(wait, "nobody")
	}))

	// The primary fails. Until a replica is promoted, every request that
	// carries a session fails closed: a live one, a logged-out copy, a
	// logout.
	killed := time.Now()
	if mode == "killed" {
		primary.kill()
	} else {
		primary.pause()
	}
	var fastest, slowest time.Duration
	requests := 0
	for _, s := range []*site{s1, s2} {
		for _, req := range []struct {
			what string
			do   func() response
		}{
			{"live session", func() response { return carol.do(http.MethodGet, s, "/whoami", nil) }},
			{"logged-out copy", func() response { return replay(t, s, aliceCopy) }},
			{"copy from before the cycle", func() response { return replay(t, s, carolBeforeCycle) }},
			{"logout", func() response { return carol.do(http.MethodPost, s, "/logout", nil) }},
		} {
			took := failsClosed("primary "+mode+", "+req.what, req.do)
			if requests == 0 {
				fastest = took
			}
			fastest, slowest = min(fastest, took), max(slowest, took)
			requests++
		}
	}
	t.Logf("primary %s, no replica promoted: %d requests answered 503 in %v to %v (RevocationTimeout %v)",
		mode, requests, fastest, slowest, revocationTimeout)

	// Sentinel promotes the replica; the failover clients find it.
	ordered := time.Now()
	require.NoError(t, sc.Failover(ctx, masterName).Err())
	require.NoError(t, poll(wait, "Sentinel to name the replica as primary", func() error {
		addr, err := sc.GetMasterAddrByName(wait, masterName).Result()
		if err != nil {
			return err
		}
		if len(addr) != 2 || addr[1] != strconv.Itoa(replica.port) {
			return fmt.Errorf("primary is %v", addr)
		}
		return nil
	}))
	promoted := time.Now()
	for _, s := range []*site{s1, s2} {
		require.NoError(t, poll(wait, "requests to be served again", func() error {
			r, err := carol.try(http.MethodGet, s, "/whoami", nil)
			if err != nil {
				return err
			}
			if r.status != http.StatusOK || r.body != "carol" {
				return fmt.Errorf("%d %q", r.status, r.body)
			}
			return nil
		}))
	}
	t.Logf("SENTINEL FAILOVER: replica promoted after %v; both servers serving after %v; primary down %v in all",
		promoted.Sub(ordered).Round(time.Millisecond), time.Since(ordered).Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))

	// What was revoked before the failover still is.
	for _, s := range []*site{s1, s2} {
		assert.Equal(t, "anonymous", replay(t, s, aliceCopy).body, "logged out before the failover")
		assert.Equal(t, "anonymous", replay(t, s, bobCopy).body, "subject revoked before the failover")
		assert.Equal(t, "anonymous", replay(t, s, carolBeforeCycle).body, "ID cycled before the failover")
		assert.Equal(t, "carol", carol.whoami(s), "a live session survives the failover")
	}

	// The new primary has no replica yet, so no logout can be confirmed;
	// once one follows it, logouts work again, and so do subject
	// revocations.
	erin := newBrowser(t)
	erin.login(s1, "erin")
	failsClosed("logout on a primary without replicas", func() response {
		return erin.do(http.MethodPost, s1, "/logout", nil)
	})
	second := ownRedis(t, "--replicaof", "127.0.0.1", strconv.Itoa(replica.port))
	require.NoError(t, waitReplicaOnline(wait, replica), "replica %s", second.addr())
	frank := newBrowser(t)
	frank.login(s2, "frank")
	frankCopy := frank.cookies(s2)
	r = frank.do(http.MethodPost, s2, "/logout", nil)
	require.Equal(t, http.StatusOK, r.status, "%s: %v", r.body, h.lastErr())
	assert.Equal(t, "anonymous", replay(t, s1, frankCopy).body)
	require.NoError(t, s1.m.RevokeSubject(ctx, "carol")) // a script the new primary runs for the first time
	assert.Equal(t, "anonymous", carol.whoami(s2))
}

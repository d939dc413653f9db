// Package revoketest is the conformance suite for sealed.RevocationList
// backends. Every backend, in this module or another, runs the same Run, so
// that they agree on the edge cases the Manager relies on: millisecond
// precision of subject revocation, before never being lowered, entries
// expiring after until, and context handling.
//
// The suite waits about two seconds of real time for expiry, since a
// backend like Redis expires keys by its own clock; its subtests run in
// parallel so that this wait is paid once.
package revoketest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
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
		{"UntilInPast", testUntilInPast},
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

func revoke(t *testing.T, l sealed.RevocationList, id string, until time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), opTimeout)
	defer cancel()
	if err := l.Revoke(ctx, id, until); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
}

func revokeSubject(t *testing.T, l sealed.RevocationList, subject string, before, until time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), opTimeout)
	defer cancel()
	if err := l.RevokeSubject(ctx, subject, before, until); err != nil {
		t.Fatalf("RevokeSubject: %v", err)
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
	revoke(t, l, id, now.Add(time.Hour))
	expect(t, l, true, "revoked ID", id, "", now)
	// An ID revocation holds whatever subject and creation time the
	// session claims.
	expect(t, l, true, "revoked ID with a subject", id, newSubject(), now.Add(time.Hour))
	expect(t, l, false, "another ID", other, "", now)
	expect(t, l, false, "another ID with a subject", other, newSubject(), now.Add(-time.Hour))
	// Revoking twice is not an error and changes nothing.
	revoke(t, l, id, now.Add(time.Hour))
	expect(t, l, true, "ID revoked twice", id, "", now)
}

func testSubjectBoundaries(t *testing.T, l sealed.RevocationList) {
	sub, other := newSubject(), newSubject()
	// before lies 0.4 ms into millisecond b, as Manager.RevokeSubject's
	// time.Now() does: sessions created during b itself must survive.
	b := ms(time.Now())
	before := b.Add(400 * time.Microsecond)
	revokeSubject(t, l, sub, before, time.Now().Add(time.Hour))

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
	_ = l.RevokeSubject(ctx, "", now, now.Add(time.Hour))
	revokeSubject(t, l, newSubject(), now, now.Add(time.Hour))
	expect(t, l, false, "session without subject", newID(), "", now.Add(-time.Hour))
}

func testBeforeOnlyRises(t *testing.T, l sealed.RevocationList) {
	sub := newSubject()
	until := time.Now().Add(time.Hour)
	t1 := ms(time.Now())
	t0, t2 := t1.Add(-10*time.Second), t1.Add(10*time.Second)
	between := t1.Add(5 * time.Second) // after t1, before t2

	revokeSubject(t, l, sub, t1, until)
	expect(t, l, true, "created before the first before", newID(), sub, t1.Add(-time.Millisecond))
	expect(t, l, false, "created between the two befores, first revocation only", newID(), sub, between)

	revokeSubject(t, l, sub, t2, until)
	expect(t, l, true, "created between the two befores, after raising", newID(), sub, between)
	expect(t, l, false, "created at the raised before", newID(), sub, t2)

	revokeSubject(t, l, sub, t0, until)
	expect(t, l, true, "created between, after an earlier before was given", newID(), sub, between)
	expect(t, l, true, "created just before the raised before, after an earlier before was given", newID(), sub, t2.Add(-time.Millisecond))
	expect(t, l, false, "created at the raised before, after an earlier before was given", newID(), sub, t2)
}

func testExpiry(t *testing.T, l sealed.RevocationList) {
	now := time.Now()
	until := now.Add(1500 * time.Millisecond)
	id, sub := newID(), newSubject()
	old := now.Add(-time.Hour)
	revoke(t, l, id, until)
	revokeSubject(t, l, sub, now, until)
	expect(t, l, true, "ID before until", id, "", now)
	expect(t, l, true, "subject before until", newID(), sub, old)

	// Leave half a second for a backend whose clock is a little behind
	// ours, or that expires keys lazily.
	time.Sleep(time.Until(until.Add(500 * time.Millisecond)))
	expect(t, l, false, "ID after until", id, "", now)
	expect(t, l, false, "subject after until", newID(), sub, old)
}

func testUntilInPast(t *testing.T, l sealed.RevocationList) {
	now := time.Now()
	id, sub := newID(), newSubject()
	revoke(t, l, id, now.Add(-time.Second))
	revokeSubject(t, l, sub, now, now.Add(-time.Second))
	expect(t, l, false, "ID revoked until a past time", id, "", now)
	expect(t, l, false, "subject revoked until a past time", newID(), sub, now.Add(-time.Hour))
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
		check("Revoke", l.Revoke(c.ctx, newID(), now.Add(time.Hour)))
		check("RevokeSubject", l.RevokeSubject(c.ctx, newSubject(), now, now.Add(time.Hour)))
		_, err := l.Revoked(c.ctx, newID(), newSubject(), now)
		check("Revoked", err)
	}
}

func testConcurrent(t *testing.T, l sealed.RevocationList) {
	const goroutines, rounds = 16, 20
	shared := newSubject()
	base := ms(time.Now())
	until := time.Now().Add(time.Hour)
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
				if err := l.Revoke(ctx, id, until); err != nil {
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
				if err := l.RevokeSubject(ctx, shared, before, until); err != nil {
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

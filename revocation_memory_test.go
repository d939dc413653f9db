package sealed_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/revoketest"
)

func TestMemoryRevocationListConformance(t *testing.T) {
	revoketest.Run(t, func(*testing.T) sealed.RevocationList {
		return sealed.NewMemoryRevocationList()
	})
}

func benchIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		b := make([]byte, 16)
		rand.Read(b)
		ids[i] = hex.EncodeToString(b)
	}
	return ids
}

// BenchmarkMemoryRevocationList measures the per-request lookup (hit and
// miss) and the per-logout write, on a list holding 100k entries, which is
// what a busy single server could carry.
func BenchmarkMemoryRevocationList(b *testing.B) {
	const held = 100_000
	ctx := context.Background()
	const ttl = time.Hour
	created := time.Now()
	l := sealed.NewMemoryRevocationList()
	ids := benchIDs(held)
	for i, id := range ids {
		if err := l.Revoke(ctx, id, ttl); err != nil {
			b.Fatal(err)
		}
		if i%10 == 0 {
			if err := l.RevokeSubject(ctx, "user"+strconv.Itoa(i), created, ttl); err != nil {
				b.Fatal(err)
			}
		}
	}
	misses := benchIDs(1024)

	b.Run("RevokedHit", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if r, _ := l.Revoked(ctx, ids[i%held], "", created); !r {
				b.Fatal("not revoked")
			}
		}
	})
	b.Run("RevokedMiss", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if r, _ := l.Revoked(ctx, misses[i%len(misses)], "user1", created); r {
				b.Fatal("revoked")
			}
		}
	})
	b.Run("Revoke", func(b *testing.B) {
		fresh := benchIDs(b.N)
		b.ResetTimer()
		for i := range b.N {
			if err := l.Revoke(ctx, fresh[i], ttl); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("RevokedParallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := l.Revoked(ctx, ids[i%held], "user1", created); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
	b.Run("MixedParallel", func(b *testing.B) {
		// One write per 100 reads: about one logout per 100 requests.
		fresh := benchIDs(1 + b.N/100)
		b.ResetTimer()
		var n atomicCounter
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if i%100 == 0 {
					if err := l.Revoke(ctx, fresh[n.next()%len(fresh)], ttl); err != nil {
						b.Fatal(err)
					}
				} else if _, err := l.Revoked(ctx, misses[i%len(misses)], "", created); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	})
}

type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) next() int { return int(c.n.Add(1)) }

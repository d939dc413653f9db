package sealed

import (
	"math/bits"
	"sync"
)

// scratch is working memory for sealing a session: the payload is encoded
// into it and sealed in place, then base64-encoded into the Set-Cookie
// lines, which are new memory. Nothing outside Manager.seal ever sees a
// scratch, and it is cleared before it goes back to the pool, so no
// session's bytes outlive the save that wrote them there.
type scratch struct {
	b []byte
}

const (
	minScratchShift = 9  // 512 bytes: a small session and its header
	maxScratchShift = 17 // 128 KiB: the largest envelope the format allows
)

// scratches pools scratch by capacity, one pool per power of two, so that
// a small session never holds on to memory sized for a large one.
var scratches [maxScratchShift - minScratchShift + 1]sync.Pool

func scratchClass(n int) int {
	return max(bits.Len(uint(n-1)), minScratchShift) - minScratchShift
}

// getScratch returns a scratch whose b has length n.
func getScratch(n int) *scratch {
	c := scratchClass(n)
	if c >= len(scratches) {
		return &scratch{b: make([]byte, n)}
	}
	if sc, ok := scratches[c].Get().(*scratch); ok {
		sc.b = sc.b[:n]
		return sc
	}
	return &scratch{b: make([]byte, n, 1<<(c+minScratchShift))}
}

// putScratch clears sc and gives it back for reuse. The caller must hold
// no reference into it.
func putScratch(sc *scratch) {
	clear(sc.b)
	if c := scratchClass(cap(sc.b)); c < len(scratches) && cap(sc.b) == 1<<(c+minScratchShift) {
		scratches[c].Put(sc)
	}
}

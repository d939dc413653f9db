package sealed

import (
	"math/bits"
	"sync"
)

// readBuf is the memory a loaded session borrows: the buffer its cookie is
// decoded and decrypted into, which the session's values point into, and
// room for the index of its keys. Allocating it anew for every request was
// the largest cost of a read after the cipher and base64 themselves: on a
// small heap every allocated kilobyte brings the next GC cycle closer, and
// a 7 KiB buffer cost 2 µs a request on the machine in BENCHMARKS.md.
//
// Nothing handed to callers ever points into a readBuf (Get decodes,
// GetRaw and Remove copy, keys and subjects are copied to strings), so it
// can be reused once the session lets go of it: when the session is reset
// (a rejected cookie, Invalidate) or released (Session.Release, which the
// middleware calls when the request ends). Both happen under the
// session's mutex, and a released session refuses further reads, so no
// goroutine can see a reused buffer through an old session.
type readBuf struct {
	b       []byte
	entries [8]entry // a session with more keys allocates its index
}

const (
	minReadBufShift = 9  // 512 bytes: a small session and its header
	maxReadBufShift = 17 // 128 KiB: the largest envelope the format allows
)

// readBufs pools readBufs by capacity, one pool per power of two, so that
// a small session never holds on to a buffer sized for a large one.
var readBufs [maxReadBufShift - minReadBufShift + 1]sync.Pool

func readBufClass(n int) int {
	return max(bits.Len(uint(n-1)), minReadBufShift) - minReadBufShift
}

// getReadBuf returns a readBuf whose b has length n.
func getReadBuf(n int) *readBuf {
	c := readBufClass(n)
	if c >= len(readBufs) {
		return &readBuf{b: make([]byte, n)} // cannot happen: open caps the length first
	}
	if rb, ok := readBufs[c].Get().(*readBuf); ok {
		rb.b = rb.b[:n]
		return rb
	}
	return &readBuf{b: make([]byte, n, 1<<(c+minReadBufShift))}
}

// putReadBuf gives rb back for reuse. The caller must hold no reference
// into it, and must have cleared anything in entries it filled.
func putReadBuf(rb *readBuf) {
	if c := readBufClass(cap(rb.b)); c < len(readBufs) && cap(rb.b) == 1<<(c+minReadBufShift) {
		readBufs[c].Put(rb)
	}
}

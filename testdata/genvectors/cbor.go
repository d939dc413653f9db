package main

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"
)

// A minimal CBOR writer (RFC 8949): heads in shortest form and definite
// lengths, which is all core deterministic encoding needs for the types a
// payload holds. The negative vectors build their faults from raw bytes.

// CBOR major types.
const (
	mUint  = 0
	mNeg   = 1
	mBytes = 2
	mText  = 3
	mArray = 4
	mMap   = 5
	mTag   = 6
	mOther = 7
)

// head is the shortest head of major type m with argument n.
func head(m byte, n uint64) []byte {
	ib := m << 5
	switch {
	case n < 24:
		return []byte{ib | byte(n)}
	case n < 1<<8:
		return []byte{ib | 24, byte(n)}
	case n < 1<<16:
		return binary.BigEndian.AppendUint16([]byte{ib | 25}, uint16(n))
	case n < 1<<32:
		return binary.BigEndian.AppendUint32([]byte{ib | 26}, uint32(n))
	default:
		return binary.BigEndian.AppendUint64([]byte{ib | 27}, n)
	}
}

func cUint(n uint64) []byte  { return head(mUint, n) }
func cText(s string) []byte  { return append(head(mText, uint64(len(s))), s...) }
func cBytes(b []byte) []byte { return append(head(mBytes, uint64(len(b))), b...) }

// cArray is an array of already encoded items.
func cArray(items ...[]byte) []byte {
	return cat(append([][]byte{head(mArray, uint64(len(items)))}, items...)...)
}

// cMap is a map of already encoded keys and values, k1, v1, k2, v2, ...,
// in the order given.
func cMap(kv ...[]byte) []byte {
	if len(kv)%2 != 0 {
		panic("cMap: odd number of items")
	}
	return cat(append([][]byte{head(mMap, uint64(len(kv)/2))}, kv...)...)
}

func cat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}

// nested is n arrays, each holding the next, the innermost holding inner
// (or nothing when inner is nil).
func nested(n int, inner []byte) []byte {
	b := bytes.Repeat([]byte{0x81}, n-1)
	if inner == nil {
		return append(b, 0x80)
	}
	return append(append(b, 0x81), inner...)
}

// keyLess is the order of the payload's keys (SPEC.md, decision 2): by
// UTF-8 byte length, then bytewise.
func keyLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func validUTF8(s string) bool { return utf8.ValidString(s) }

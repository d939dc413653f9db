// Package b64 is strict unpadded base64url (RFC 4648 section 5), the only
// encoding of a sealed value.
//
// encoding/base64 with Strict() does the same job, but it skips '\r' and
// '\n' (so "ab\ncd" and "abcd" would both decode, and a value would have
// many encodings). Decode rejects every byte outside the alphabet in the
// same pass that decodes, and both directions run faster than
// encoding/base64 (BenchmarkB64Decode, BenchmarkB64Encode; BENCHMARKS.md).
//
// Both use tables indexed by the data. That is fine here: what is encoded
// and decoded is ciphertext, which is public, so the memory access pattern
// leaks nothing.
package b64

import (
	"encoding/binary"
	"math/bits"
)

// EncodedLen is the length of the unpadded encoding of n bytes.
func EncodedLen(n int) int { return (n*8 + 5) / 6 }

// DecodedLen is the length of the bytes that n characters decode to.
func DecodedLen(n int) int { return n * 6 / 8 }

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// b64Bad is the whole entry of b64Dec for a byte outside the alphabet.
// Valid entries never set bit 63, so after ORing any number of entries
// bit 63 says whether one of them was bad: one test per call, not per
// character.
const b64Bad = 1 << 63

// b64Dec[k<<8+c] is character c decoded as the k-th of a group of eight
// characters, which make six bytes. Its six bits sit where a little-endian
// 8-byte store puts them: the OR of the group's eight entries, stored, is
// the six bytes in order followed by two zero bytes. So a group costs eight
// lookups, seven ORs and one store, with no shifts or byte swaps; smaller
// tables would need the ORed words shifted and combined. 16 KiB in all,
// but only the entries from '-' to 'z' (about 5 KiB) are used by valid
// input. It is one flat array, not [8][256], so that the compiler keeps
// its address in one register and folds k<<8 into each load's offset.
var b64Dec = func() (t [8 << 8]uint64) {
	for i := range t {
		t[i] = b64Bad
	}
	for v, c := range []byte(b64Alphabet) {
		for k := range 8 {
			// Big-endian, the group's 48 bits fill the top six bytes and
			// the k-th character's six bits start at bit 58-6k; reversed,
			// they are in place for a little-endian store.
			t[k<<8+int(c)] = bits.ReverseBytes64(uint64(v) << (58 - 6*k))
		}
	}
	return t
}()

// b64Pair[v] is the two characters that encode the 12 bits v, as the two
// bytes of a little-endian uint16: two lookups per three input bytes
// instead of four.
var b64Pair = func() (t [4096]uint16) {
	for v := range t {
		t[v] = uint16(b64Alphabet[v>>6]) | uint16(b64Alphabet[v&63])<<8
	}
	return t
}()

// Decode decodes src into dst, which must have room for
// DecodedLen(len(src)) bytes, and returns that length; it may also
// write up to two bytes of dst past the decoded length. ok is false for a
// byte outside the alphabet (line breaks and '=' included), a length of
// 1 modulo 4, or unused trailing bits that are not zero (so each value has
// exactly one encoding).
func Decode(dst []byte, src string) (n int, ok bool) {
	t := &b64Dec
	d := dst
	var bad uint64
	// Eight characters to six bytes, written as one 8-byte store whose
	// last two bytes the next step overwrites; stop while d still has room
	// for the whole store. Reslicing src and d lets the compiler drop the
	// bounds checks on the loads.
	for len(src) >= 8 && len(d) >= 8 {
		x := t[src[0]] | t[1<<8+int(src[1])] | t[2<<8+int(src[2])] | t[3<<8+int(src[3])] |
			t[4<<8+int(src[4])] | t[5<<8+int(src[5])] | t[6<<8+int(src[6])] | t[7<<8+int(src[7])]
		bad |= x
		binary.LittleEndian.PutUint64(d, x)
		src, d = src[8:], d[6:]
	}
	// At most ten characters are left: whole quanta of four, then two or
	// three characters. The first positions of the tables serve here too.
	for len(src) >= 4 {
		x := t[src[0]] | t[1<<8+int(src[1])] | t[2<<8+int(src[2])] | t[3<<8+int(src[3])]
		bad |= x
		d[2], d[1], d[0] = byte(x>>16), byte(x>>8), byte(x)
		src, d = src[4:], d[3:]
	}
	switch len(src) {
	case 1: // six bits, not a byte
		return 0, false
	case 2: // twelve bits: one byte, and four unused bits that must be zero
		x := t[src[0]] | t[1<<8+int(src[1])]
		if byte(x>>8) != 0 {
			return 0, false
		}
		bad |= x
		d[0] = byte(x)
		d = d[1:]
	case 3: // eighteen bits: two bytes, and two unused bits that must be zero
		x := t[src[0]] | t[1<<8+int(src[1])] | t[2<<8+int(src[2])]
		if byte(x>>16) != 0 {
			return 0, false
		}
		bad |= x
		d[1], d[0] = byte(x>>8), byte(x)
		d = d[2:]
	}
	if bad&b64Bad != 0 {
		return 0, false
	}
	return len(dst) - len(d), true
}

// Encode writes the unpadded base64url encoding of src to dst, which
// must be EncodedLen(len(src)) bytes long.
func Encode(dst, src []byte) {
	p := &b64Pair
	// quad is the eight characters for the top 48 bits of v, as the bytes
	// of a little-endian uint64.
	quad := func(v uint64) uint64 {
		return uint64(p[v>>52]) | uint64(p[v>>40&0xfff])<<16 |
			uint64(p[v>>28&0xfff])<<32 | uint64(p[v>>16&0xfff])<<48
	}
	// Twelve bytes to sixteen characters, read as two overlapping 8-byte
	// loads of six bytes each and written as two 8-byte stores: half the
	// loop overhead of a six-byte step.
	for len(src) >= 14 && len(dst) >= 16 {
		v, w := binary.BigEndian.Uint64(src), binary.BigEndian.Uint64(src[6:])
		binary.LittleEndian.PutUint64(dst, quad(v))
		binary.LittleEndian.PutUint64(dst[8:], quad(w))
		src, dst = src[12:], dst[16:]
	}
	// At most thirteen bytes are left: whole groups of three, then one or
	// two bytes, whose last character carries zero bits.
	for len(src) >= 3 {
		v := uint32(src[0])<<16 | uint32(src[1])<<8 | uint32(src[2])
		binary.LittleEndian.PutUint32(dst, uint32(p[v>>12])|uint32(p[v&0xfff])<<16)
		src, dst = src[3:], dst[4:]
	}
	switch len(src) {
	case 1:
		binary.LittleEndian.PutUint16(dst, p[uint32(src[0])<<4])
	case 2:
		v := uint32(src[0])<<8 | uint32(src[1])
		binary.LittleEndian.PutUint16(dst, p[v>>4])
		dst[2] = b64Alphabet[v<<2&63]
	}
}

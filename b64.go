package sealed

import "encoding/binary"

// Strict unpadded base64url (RFC 4648 section 5), the only encoding of a
// sealed value. encoding/base64 with Strict() does the same job, but it
// skips '\r' and '\n' (so "ab\ncd" and "abcd" would both decode, and a
// value would have many encodings) and it was about half of the time of
// reading a session. These decode four characters with four table
// lookups and one check, and reject every byte outside the alphabet in
// the same pass. Tables indexed by input bytes are fine here: what is
// encoded and decoded is ciphertext, which is public.

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// b64Bad is set in a decode table entry for a byte outside the alphabet.
// It lies above the 24 data bits of a quantum, so one test of the OR of
// four entries finds a bad byte among them.
const b64Bad = 1 << 31

// b64Dec[k][c] is the 6-bit value of character c shifted to its place as
// the k-th character of a 4-character quantum, or b64Bad.
var b64Dec = func() (t [4][256]uint32) {
	for k := range t {
		for c := range t[k] {
			t[k][c] = b64Bad
		}
	}
	for v, c := range []byte(b64Alphabet) {
		for k := range t {
			t[k][c] = uint32(v) << (18 - 6*k)
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

// decodeB64 decodes src into dst, which must have room for
// b64DecodedLen(len(src)) bytes, and returns that length. ok is false for
// a byte outside the alphabet (line breaks and '=' included), a length of
// 1 modulo 4, or unused trailing bits that are not zero (so each value has
// exactly one encoding).
func decodeB64(dst []byte, src string) (n int, ok bool) {
	t0, t1, t2, t3 := &b64Dec[0], &b64Dec[1], &b64Dec[2], &b64Dec[3]
	i, j := 0, 0
	var bad uint32
	// Eight characters to six bytes, written as one 8-byte store whose
	// last two bytes the next step overwrites; stop while dst still has
	// room for the whole store.
	for ; i+8 <= len(src) && j+8 <= len(dst); i, j = i+8, j+6 {
		s := src[i : i+8]
		x := t0[s[0]] | t1[s[1]] | t2[s[2]] | t3[s[3]]
		y := t0[s[4]] | t1[s[5]] | t2[s[6]] | t3[s[7]]
		bad |= x | y
		binary.BigEndian.PutUint64(dst[j:], uint64(x)<<40|uint64(y)<<16)
	}
	for ; i+4 <= len(src); i, j = i+4, j+3 {
		s := src[i : i+4]
		x := t0[s[0]] | t1[s[1]] | t2[s[2]] | t3[s[3]]
		bad |= x
		dst[j], dst[j+1], dst[j+2] = byte(x>>16), byte(x>>8), byte(x)
	}
	switch len(src) - i {
	case 1:
		return 0, false
	case 2:
		x := t0[src[i]] | t1[src[i+1]]
		if x&0xf000 != 0 { // the last character's low 4 bits are unused: must be zero
			return 0, false
		}
		bad |= x
		dst[j] = byte(x >> 16)
		j++
	case 3:
		x := t0[src[i]] | t1[src[i+1]] | t2[src[i+2]]
		if x&0xc0 != 0 { // the last character's low 2 bits are unused: must be zero
			return 0, false
		}
		bad |= x
		dst[j], dst[j+1] = byte(x>>16), byte(x>>8)
		j += 2
	}
	if bad&b64Bad != 0 {
		return 0, false
	}
	return j, true
}

// encodeB64 writes the unpadded base64url encoding of src to dst, which
// must be b64EncodedLen(len(src)) bytes long.
func encodeB64(dst, src []byte) {
	i, j := 0, 0
	for ; i+3 <= len(src); i, j = i+3, j+4 {
		v := uint32(src[i])<<16 | uint32(src[i+1])<<8 | uint32(src[i+2])
		binary.LittleEndian.PutUint32(dst[j:], uint32(b64Pair[v>>12])|uint32(b64Pair[v&0xfff])<<16)
	}
	switch len(src) - i {
	case 1:
		v := uint32(src[i]) << 4
		binary.LittleEndian.PutUint16(dst[j:], b64Pair[v])
	case 2:
		v := uint32(src[i])<<16 | uint32(src[i+1])<<8
		binary.LittleEndian.PutUint16(dst[j:], b64Pair[v>>12])
		dst[j+2] = b64Alphabet[v>>6&63]
	}
}

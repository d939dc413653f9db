package payload

import (
	"math"
	"unicode/utf8"
)

// Find returns the index of key in the sorted entries, and whether it is
// there. A hand-written binary search: slices.BinarySearchFunc with a
// comparison closure costs more than the rest of a small Get.
func (st *State) Find(key string) (int, bool) {
	e := st.Entries
	lo, hi := 0, len(e)
	for lo < hi {
		h := int(uint(lo+hi) >> 1)
		if k := e[h].Key; len(k) < len(key) || (len(k) == len(key) && string(k) < key) {
			lo = h + 1
		} else {
			hi = h
		}
	}
	return lo, lo < len(e) && string(e[lo].Key) == key
}

// Encode encodes a value as deterministic CBOR that CheckValue accepts, or
// says why it cannot: the value cannot be encoded, is cyclic, or exceeds
// the limits. The scalars DecodeScalar reads skip the reflection-based
// encoder.
func Encode(value any) ([]byte, error) {
	if enc, ok := encodeScalar(value); ok {
		return enc, nil
	}
	// The encoder recurses without a bound: a cyclic value would end the
	// process with a stack overflow, which no recover catches.
	if err := checkEncodable(value); err != nil {
		return nil, err
	}
	enc, err := encMode.Marshal(value)
	if err != nil {
		return nil, err
	}
	if err := CheckValueErr(enc); err != nil {
		return nil, err
	}
	return enc, nil
}

// Decode checks an encoded value against the payload rules (the walk that
// opened the session did not look inside it) and decodes it into a T.
func Decode[T any](val []byte) (T, error) {
	// The decoder gets a variable of its own: taking the address of a
	// caller's variable would move it to the heap on every call, fast path
	// included.
	p := new(T)
	if !CheckValue(val) {
		return *p, errMalformedValue
	}
	err := decMode.Unmarshal(val, p)
	return *p, err
}

// DecodeScalar decodes the most common value shapes (a text string into a
// string, an integer into an int or int64, a boolean into a bool) without
// the reflection-based decoder, which costs more than the rest of a small
// session's read. It handles only well-formed exact matches of CBOR type
// and Go type whose results Decode would give too, and reports false for
// everything else, which then takes Decode (and its checks and errors).
func DecodeScalar(val []byte, dst any) bool {
	w := walker{b: val}
	major, ai, arg, ok := w.head()
	if !ok {
		return false
	}
	switch p := dst.(type) {
	case *string:
		if major != 3 || uint64(len(val)-w.off) != arg || !validText(val, w.off, len(val)) {
			return false
		}
		*p = string(val[w.off:])
		return true
	case *int:
		n, ok := cborInt(major, arg)
		if !ok || w.off != len(val) || n != int64(int(n)) {
			return false
		}
		*p = int(n)
		return true
	case *int64:
		n, ok := cborInt(major, arg)
		if !ok || w.off != len(val) {
			return false
		}
		*p = n
		return true
	case *bool:
		if major != 7 || (ai != 20 && ai != 21) || len(val) != 1 {
			return false
		}
		*p = ai == 21
		return true
	}
	return false
}

// encodeScalar encodes the value shapes DecodeScalar reads (a string, an
// int, an int64, a bool) without the reflection-based encoder, giving the
// bytes encMode would. Strings that are not valid UTF-8 take the general
// path, which refuses them.
func encodeScalar(value any) ([]byte, bool) {
	switch v := value.(type) {
	case string:
		if !utf8.ValidString(v) {
			return nil, false
		}
		b := make([]byte, 0, 9+len(v))
		return append(appendHead(b, 3, uint64(len(v))), v...), true
	case int:
		return appendInt(nil, int64(v)), true
	case int64:
		return appendInt(nil, v), true
	case bool:
		if v {
			return []byte{0xf5}, true
		}
		return []byte{0xf4}, true
	}
	return nil, false
}

func appendInt(b []byte, n int64) []byte {
	if n < 0 {
		return appendHead(b, 1, uint64(-(n + 1)))
	}
	return appendHead(b, 0, uint64(n))
}

// cborInt converts a major type 0 or 1 argument to an int64 if it fits.
func cborInt(major byte, arg uint64) (int64, bool) {
	if arg > math.MaxInt64 {
		return 0, false
	}
	switch major {
	case 0:
		return int64(arg), true
	case 1:
		return -1 - int64(arg), true
	}
	return 0, false
}

package payload

// The fuzz targets of the payload codec. Their seed corpora are in
// testdata/fuzz/<Target>/, written by fuzz/gencorpus.go; run them with
// fuzz/run.sh. Identifiers start with fz so as not to collide with the
// package's other test files.

import (
	"bytes"
	"math"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
	"github.com/sealedgo/sealed/internal/fuzzseed"
	"github.com/stretchr/testify/require"
)

// ---------------------------------------------------------------------------
// Reference reader of SPEC.md "Session payload", written from the document
// alone.

type fzRefPayload struct {
	id      [16]byte
	created uint64 // Unix ms
	subject string
	keys    []string
	vals    [][]byte // encoded items (the wrappers' content), in key order
	valOK   []bool   // whether each item passes the rules (Get can decode it)
	flashes []string
	flags   uint64
}

type fzRefReader struct {
	b   []byte
	off int
}

func (r *fzRefReader) head() (major, ai byte, arg uint64, ok bool) {
	if r.off >= len(r.b) {
		return 0, 0, 0, false
	}
	major, ai = r.b[r.off]>>5, r.b[r.off]&0x1f
	r.off++
	if ai < 24 {
		return major, ai, uint64(ai), true
	}
	if ai > 27 { // reserved, indefinite length, break
		return 0, 0, 0, false
	}
	n := 1 << (ai - 24)
	if len(r.b)-r.off < n {
		return 0, 0, 0, false
	}
	for _, c := range r.b[r.off : r.off+n] {
		arg = arg<<8 | uint64(c)
	}
	r.off += n
	if major == 7 {
		// One-byte simple values below 32 are not well formed; floats of
		// any width are allowed.
		return major, ai, arg, ai != 24 || arg >= 32
	}
	var smallest uint64 = 24
	if n > 1 {
		smallest = 1 << (8 * (n / 2))
	}
	return major, ai, arg, arg >= smallest
}

func (r *fzRefReader) str(n uint64) ([]byte, bool) {
	rest := r.b[r.off:]
	if uint64(len(rest)) < n {
		return nil, false
	}
	r.off += int(n)
	return rest[:n], true
}

func (r *fzRefReader) text() (string, bool) {
	major, _, n, ok := r.head()
	if !ok || major != 3 {
		return "", false
	}
	s, ok := r.str(n)
	return string(s), ok && utf8.Valid(s)
}

// item reads one data item that would be a container at nesting level.
func (r *fzRefReader) item(level int) bool {
	major, _, arg, ok := r.head()
	if !ok {
		return false
	}
	switch major {
	case 0, 1, 7:
		return true
	case 2:
		_, ok := r.str(arg)
		return ok
	case 3:
		s, ok := r.str(arg)
		return ok && utf8.Valid(s)
	case 4, 5:
		if level > 16 || arg > 4096 {
			return false
		}
		n := arg
		if major == 5 {
			n *= 2
		}
		for i := uint64(0); i < n; i++ {
			// SPEC.md, key-type: a map key is an integer or a string.
			if major == 5 && i%2 == 0 && r.off < len(r.b) && r.b[r.off]>>5 > 3 {
				return false
			}
			if !r.item(level + 1) {
				return false
			}
		}
		return true
	}
	return false // tags
}

func fzRefKeyLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// fzRefParse applies every rule of the "Decoding" table: the payload's at
// once, each value's (in valOK) as a reader would when the value is read.
func fzRefParse(b []byte) (*fzRefPayload, bool) {
	if len(b) > 98304 {
		return nil, false
	}
	r := &fzRefReader{b: b}
	p := &fzRefPayload{}
	// Five items, or six with the flags (SPEC.md: only when non-zero).
	major, _, fields, ok := r.head()
	if !ok || major != 4 || (fields != 5 && fields != 6) {
		return nil, false
	}
	major, _, n, ok := r.head()
	if !ok || major != 2 || n != 16 {
		return nil, false
	}
	id, ok := r.str(16)
	if !ok {
		return nil, false
	}
	copy(p.id[:], id)
	// SPEC.md: created above 2^63-1 is refused (it fits no signed time).
	if major, _, n, ok = r.head(); !ok || major != 0 || n > math.MaxInt64 {
		return nil, false
	}
	p.created = n
	if p.subject, ok = r.text(); !ok {
		return nil, false
	}
	if major, _, n, ok = r.head(); !ok || major != 5 || n > 4096 {
		return nil, false
	}
	for i := uint64(0); i < n; i++ {
		k, ok := r.text()
		if !ok || (i > 0 && !fzRefKeyLess(p.keys[i-1], k)) {
			return nil, false
		}
		// Each value is a byte string wrapping one item; the payload rules
		// stop at the wrapper, and the item is checked when it is read.
		major, _, vn, ok := r.head()
		if !ok || major != 2 {
			return nil, false
		}
		v, ok := r.str(vn)
		if !ok {
			return nil, false
		}
		vr := &fzRefReader{b: v}
		p.keys = append(p.keys, k)
		p.vals = append(p.vals, v)
		p.valOK = append(p.valOK, vr.item(3) && vr.off == len(v))
	}
	if major, _, n, ok = r.head(); !ok || major != 4 || n > 4096 {
		return nil, false
	}
	for i := uint64(0); i < n; i++ {
		f, ok := r.text()
		if !ok {
			return nil, false
		}
		p.flashes = append(p.flashes, f)
	}
	if fields == 6 {
		// Bit 0 (browser-session cookies) is the only flag defined.
		if major, _, n, ok = r.head(); !ok || major != 0 || n == 0 || n > 1 {
			return nil, false
		}
		p.flags = n
	}
	if r.off != len(b) {
		return nil, false
	}
	return p, true
}

// ---------------------------------------------------------------------------

// FuzzPayload treats the input as a decrypted session payload. Parse must
// never panic and must accept exactly the payloads the reference reader
// (SPEC.md "Session payload") accepts, with the same ID, creation time,
// subject, keys, raw values and flashes. For an accepted payload, Append of
// the parsed state must give the input back byte for byte (parse then
// encode is the identity), within Size, the state must be Storable, Find
// must find every key at its index, and each value must pass CheckValue
// exactly when the reference's value rules accept it; Decode[any] must not
// panic on any value and must fail on every value the rules refuse.
func FuzzPayload(f *testing.F) {
	fuzzseed.RequireCorpus(f)
	f.Fuzz(func(t *testing.T, pt []byte) {
		var st State
		err := Parse(pt, &st)
		ref, ok := fzRefParse(pt)
		require.Equal(t, ok, err == nil, "Parse error %v, the reference says accepted=%v", err, ok)
		if !ok {
			return
		}
		require.Equal(t, ref.id, st.ID)
		require.Equal(t, int64(ref.created), st.Created)
		require.Equal(t, ref.subject, st.Subject)
		require.Len(t, st.Entries, len(ref.keys))
		for i, e := range st.Entries {
			require.Equal(t, ref.keys[i], string(e.Key))
			require.True(t, bytes.Equal(ref.vals[i], e.Val), "value of key %q", e.Key)
		}
		require.Equal(t, len(ref.flashes), len(st.Flashes))
		for i := range ref.flashes {
			require.Equal(t, ref.flashes[i], st.Flashes[i])
		}
		require.Equal(t, ref.flags, st.Flags)

		require.True(t, Storable(&st), "a parsed state is not Storable")
		out := Append(nil, &st)
		require.True(t, bytes.Equal(pt, out), "parse then Append changed the payload bytes")
		require.LessOrEqual(t, len(out), Size(&st), "Size does not bound what Append writes")

		for i, e := range st.Entries {
			j, found := st.Find(string(e.Key))
			require.True(t, found, "Find misses key %q", e.Key)
			require.Equal(t, i, j)
			ok := CheckValue(e.Val)
			require.Equal(t, ref.valOK[i], ok, "CheckValue of key %q says %v, the reference %v", e.Key, ok, ref.valOK[i])
			require.Equal(t, ok, CheckValueErr(e.Val) == nil, "CheckValue and CheckValueErr disagree on key %q", e.Key)
			_, err := Decode[any](e.Val) // other decode errors are allowed
			if !ok {
				require.Error(t, err, "Decode accepts a value the rules refuse")
			}
		}
	})
}

// fzOracle mirrors the payload array for fxamacker/cbor.
type fzOracle struct {
	_       struct{} `cbor:",toarray"`
	ID      []byte
	Created uint64
	Subject string
	Values  map[string][]byte
	Flashes []string
}

// fzOracleFlagged is the payload array with its optional sixth item.
type fzOracleFlagged struct {
	_       struct{} `cbor:",toarray"`
	ID      []byte
	Created uint64
	Subject string
	Values  map[string][]byte
	Flashes []string
	Flags   uint64
}

// fzOracleDec decodes with the options values are decoded with (no
// duplicate keys, indefinite lengths or tags; valid UTF-8; the payload
// limits), which are as strict as the walker where fxamacker/cbor has an
// option for it; fzOracleEnc is RFC 8949 core deterministic encoding,
// writing nil maps and slices as empty ones (see FuzzPayloadOracle).
var fzOracleDec, fzOracleEnc = func() (cbor.DecMode, cbor.EncMode) {
	dm, err := decOptions.DecMode()
	if err != nil {
		panic(err)
	}
	eo := cbor.CoreDetEncOptions()
	eo.NilContainers = cbor.NilContainerAsEmpty
	em, err := eo.EncMode()
	if err != nil {
		panic(err)
	}
	return dm, em
}()

// FuzzPayloadOracle checks the walker (Parse) against fxamacker/cbor, which
// decodes the payload into a toarray struct and encodes it again in core
// deterministic mode.
//
// The two accept different inputs by design: fxamacker/cbor decodes any
// well-formed encoding (heads longer than needed, map keys in any order,
// null for a byte string, map or array, an ID of any length, a creation
// time up to 2^64-1), while the walker accepts only the one core
// deterministic encoding of a payload within the format's limits. So the
// rule tested is
//
//	Parse accepts pt  ⇔  len(pt) ≤ MaxBytes ∧ the oracle decodes pt ∧
//	                     len(ID) = 16 ∧ Created ≤ 2^63-1 ∧
//	                     (no flags item ∨ flags is 1) ∧
//	                     the oracle's re-encoding = pt
//
// and, when it accepts, the ID, creation time, subject, entries (in the
// re-encoded map's order) and flashes are equal. The encoder writes nil
// maps and slices as empty ones: written as null, a null in place of the
// values map, the flashes or a value would survive the byte comparison
// though the walker rightly refuses it.
func FuzzPayloadOracle(f *testing.F) {
	fuzzseed.RequireCorpus(f)
	f.Fuzz(func(t *testing.T, pt []byte) {
		var st State
		werr := Parse(pt, &st)

		var o fzOracle
		var of fzOracleFlagged
		oerr := fzOracleDec.Unmarshal(pt, &o)
		flagged := false
		if oerr != nil && fzOracleDec.Unmarshal(pt, &of) == nil {
			o = fzOracle{ID: of.ID, Created: of.Created, Subject: of.Subject, Values: of.Values, Flashes: of.Flashes}
			oerr, flagged = nil, true
		}
		var re []byte
		if oerr == nil {
			var err error
			if flagged {
				re, err = fzOracleEnc.Marshal(&of)
			} else {
				re, err = fzOracleEnc.Marshal(&o)
			}
			require.NoError(t, err, "the oracle cannot encode what it decoded")
		}
		flagsOK := !flagged || of.Flags == FlagBrowserSession
		want := len(pt) <= MaxBytes && oerr == nil && len(o.ID) == 16 && o.Created <= math.MaxInt64 && flagsOK && bytes.Equal(re, pt)
		if want != (werr == nil) {
			t.Fatalf("walker error %v; oracle: error %v, ID %d bytes, created %d, re-encoding equal %v", werr, oerr, len(o.ID), o.Created, bytes.Equal(re, pt))
		}
		if !want {
			return
		}
		require.Equal(t, o.ID, st.ID[:])
		require.Equal(t, int64(o.Created), st.Created)
		require.Equal(t, of.Flags, st.Flags)
		require.Equal(t, o.Subject, st.Subject)
		keys := make([]string, 0, len(o.Values))
		for k := range o.Values {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return compareKeys([]byte(a), []byte(b)) })
		require.Len(t, st.Entries, len(keys))
		for i, e := range st.Entries {
			require.Equal(t, keys[i], string(e.Key))
			require.True(t, bytes.Equal(o.Values[keys[i]], e.Val), "value of key %q", e.Key)
		}
		require.Equal(t, len(o.Flashes), len(st.Flashes))
		for i := range o.Flashes {
			require.Equal(t, o.Flashes[i], st.Flashes[i])
		}
	})
}

// FuzzScalar checks the fast paths of Get and Set against the general
// ones. For any encoded value, DecodeScalar into a *string, *int, *int64 or
// *bool either declines, leaving the destination as it was, or gives
// exactly what Decode gives (which must then succeed); it declines every
// other destination. For any string, int, int64 and bool, encodeScalar
// gives the bytes encMode gives (and declines only strings that are not
// valid UTF-8, which Encode then refuses), and Encode gives them too.
func FuzzScalar(f *testing.F) {
	fuzzseed.RequireCorpus(f)
	f.Fuzz(func(t *testing.T, val []byte, s string, i int64, b bool) {
		fzDecodeAgrees(t, val, "\x00untouched")
		fzDecodeAgrees(t, val, int(-12345))
		fzDecodeAgrees(t, val, int64(-12345))
		fzDecodeAgrees(t, val, true)
		fzDecodeAgrees(t, val, false)
		for _, dst := range []any{new(float64), new([]byte), new(any), new(uint64), new(int32), new(cbor.RawMessage), "not a pointer", nil} {
			require.False(t, DecodeScalar(val, dst), "DecodeScalar takes a %T", dst)
		}

		fzEncodeAgrees(t, s)
		fzEncodeAgrees(t, int(i))
		fzEncodeAgrees(t, i)
		fzEncodeAgrees(t, b)
	})
}

func fzDecodeAgrees[T comparable](t *testing.T, val []byte, sentinel T) {
	t.Helper()
	got := sentinel
	if !DecodeScalar(val, &got) {
		require.Equal(t, sentinel, got, "DecodeScalar declined but wrote its %T destination", got)
		return
	}
	want, err := Decode[T](val)
	require.NoError(t, err, "DecodeScalar reads %x as a %T that Decode refuses", val, got)
	require.Equal(t, want, got, "DecodeScalar and Decode read %x differently", val)
}

func fzEncodeAgrees[T string | int | int64 | bool](t *testing.T, v T) {
	t.Helper()
	enc, ok := encodeScalar(v)
	gen, err := Encode(v)
	if !ok {
		s, isString := any(v).(string)
		require.True(t, isString && !utf8.ValidString(s), "encodeScalar declines %T %v", v, v)
		require.Error(t, err, "Encode accepts a string that is not valid UTF-8")
		return
	}
	want, err2 := encMode.Marshal(v)
	require.NoError(t, err2)
	require.True(t, bytes.Equal(want, enc), "encodeScalar(%T %v) = %x, encMode gives %x", v, v, enc, want)
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, gen), "Encode(%T %v) = %x, encMode gives %x", v, v, gen, want)
	// And the fast path reads it back.
	var back T
	require.True(t, DecodeScalar(enc, &back), "DecodeScalar declines what encodeScalar wrote for %T %v", v, v)
	require.Equal(t, v, back)
}

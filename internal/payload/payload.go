// Package payload is the session payload codec. The payload is one CBOR
// array (SPEC.md, "Session payload"):
//
//	[ id: bstr .size 16, created: uint (Unix ms), subject: tstr,
//	  values: { * tstr => bstr .cbor any }, flashes: [ * tstr ] ]
//
// Each value is one CBOR item wrapped in a byte string. The wrapping is what
// makes reads cheap: opening a session walks only the fixed fields, the keys
// and the byte-string heads, jumping over every value whatever it holds, so
// its cost grows with the number of keys, not with the size of the state.
// A value is checked (well formed, within the limits below, canonical
// heads, valid UTF-8) when Get decodes it, and by Set before it is stored.
// The payload walk checks its own level the same way: shortest heads,
// definite lengths, map keys sorted and unique.
//
// Values are encoded and decoded by fxamacker/cbor in RFC 8949 core
// deterministic mode, with a fast path for the common scalars (Encode,
// DecodeScalar) that gives the same bytes and results without reflection.
package payload

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
)

// Decode limits. Every payload, and every value Set accepts, is checked
// against them, so a session that can be saved can always be read back.
const (
	// MaxBytes caps a decrypted payload. It is checked on the
	// encrypted input's length before anything is decoded.
	MaxBytes = 96 << 10
	// MaxDepth caps nesting of arrays and maps inside the payload (the
	// payload array and the values map count as two levels).
	MaxDepth = 16
	// MaxItems caps the elements of any one array and the pairs of any one map.
	MaxItems = 4096
)

// payloadFields is the payload array's length without its optional flags.
const payloadFields = 5

var (
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func init() {
	eo := cbor.CoreDetEncOptions() // RFC 8949 section 4.2.1: equal state, equal bytes
	eo.Time = cbor.TimeRFC3339Nano // exact instants; the default (whole seconds) loses precision
	eo.TimeTag = cbor.EncTagNone   // tags are refused on decode
	var err error
	if encMode, err = eo.EncMode(); err != nil {
		panic(err)
	}
	if decMode, err = decOptions.DecMode(); err != nil {
		panic(err)
	}
}

// decOptions are what values are decoded with: as strict as the payload
// rules where fxamacker/cbor has an option for them.
var decOptions = cbor.DecOptions{
	DupMapKey:        cbor.DupMapKeyEnforcedAPF,
	IndefLength:      cbor.IndefLengthForbidden,
	TagsMd:           cbor.TagsForbidden,
	MaxNestedLevels:  MaxDepth,
	MaxArrayElements: MaxItems,
	MaxMapPairs:      MaxItems,
	UTF8:             cbor.UTF8RejectInvalid,
}

var (
	errMalformed      = errors.New("sealed: malformed payload")
	errMalformedValue = errors.New("sealed: malformed value")
)

// Entry is one top-level session value: its key (UTF-8, no CBOR head) and
// the encoded CBOR item (the content of the byte string that wraps it in
// the payload). Both usually alias the decrypted payload.
type Entry struct {
	Key []byte
	Val []byte
}

// State is a payload after the walk.
type State struct {
	ID      [16]byte
	Created int64 // Unix milliseconds
	Subject string
	Entries []Entry // sorted with compareKeys, unique
	Flashes []string
	Flags   uint64 // FlagBrowserSession; 0 is encoded by omission
}

// Flags of a session payload (its optional sixth item).
const (
	// FlagBrowserSession: the session's cookies carry no Max-Age, so the
	// browser drops them when it closes ("remember me" unchecked).
	FlagBrowserSession = 1 << 0
	KnownFlags         = FlagBrowserSession
)

type walker struct {
	b   []byte
	off int
}

// valueLevel is the level of a value in the payload: the payload array is
// level 1 and the values map level 2. A value may therefore nest
// MaxDepth-2 arrays or maps.
const valueLevel = 3

// valueFault is why skip refused an item. It is an error so that Set can
// return it as is; the texts describe a value, the only item skip walks.
type valueFault uint8

const (
	faultNone        valueFault = iota
	faultMalformed              // not well-formed: truncated, reserved or stray bytes, impossible counts
	faultNotShortest            // a head not in its shortest form
	faultIndefinite             // an indefinite length (or a break outside one)
	faultTag                    // any tag
	faultUTF8                   // a text string that is not valid UTF-8
	faultDepth                  // arrays or maps nested beyond MaxDepth
	faultItems                  // an array or map of more than MaxItems
	faultTrailing               // bytes after the item
	faultKeyType                // a map key that is not an integer, text or byte string
)

func (f valueFault) Error() string {
	switch f {
	case faultNone:
		return "value has no fault"
	case faultNotShortest:
		return "value is not canonical CBOR (a head is not in its shortest form)"
	case faultIndefinite:
		return "value is not canonical CBOR (indefinite length)"
	case faultTag:
		return "value holds a CBOR tag, which sessions do not store"
	case faultUTF8:
		return "value holds text that is not valid UTF-8 (store binary data as []byte)"
	case faultDepth:
		return fmt.Sprintf("value nests arrays or maps deeper than %d levels", MaxDepth-valueLevel+1)
	case faultItems:
		return fmt.Sprintf("value has more than %d items in one array or map", MaxItems)
	case faultTrailing:
		return "value is not well-formed CBOR (bytes after the item)"
	case faultKeyType:
		return "value has a map key that is not an integer, text or byte string"
	default:
		return "value is not well-formed CBOR"
	}
}

// headFault tells apart the initial bytes skip refuses outright
// (additional information 28 to 31).
func headFault(major, ai byte) valueFault {
	if ai == 31 && major >= 2 && major <= 5 {
		return faultIndefinite
	}
	return faultMalformed // 28..30 are reserved; 31 elsewhere is a stray break
}

// head reads an initial byte and its argument. It refuses reserved
// additional-information values, indefinite lengths and non-shortest
// arguments. For major type 7 it returns ai in arg for simple values
// 0..23 and the raw bits for floats.
func (w *walker) head() (major byte, ai byte, arg uint64, ok bool) {
	if w.off >= len(w.b) {
		return 0, 0, 0, false
	}
	ib := w.b[w.off]
	w.off++
	major, ai = ib>>5, ib&0x1f
	var n int
	switch {
	case ai < 24:
		return major, ai, uint64(ai), true
	case ai == 24:
		n = 1
	case ai == 25:
		n = 2
	case ai == 26:
		n = 4
	case ai == 27:
		n = 8
	default: // 28..30 reserved, 31 indefinite length or break
		return 0, 0, 0, false
	}
	if len(w.b)-w.off < n {
		return 0, 0, 0, false
	}
	p := w.b[w.off : w.off+n]
	w.off += n
	switch n {
	case 1:
		arg = uint64(p[0])
	case 2:
		arg = uint64(binary.BigEndian.Uint16(p))
	case 4:
		arg = uint64(binary.BigEndian.Uint32(p))
	default:
		arg = binary.BigEndian.Uint64(p)
	}
	if major == 7 {
		// ai 24 is a one-byte simple value, which must be 32 or more;
		// 25..27 are floats, whose width is their own business.
		return major, ai, arg, ai != 24 || arg >= 32
	}
	// Shortest form: each width only for values that need it.
	return major, ai, arg, arg >= minArg[ai-24]
}

// minArg is the smallest argument each width (additional information 24
// to 27) may carry in shortest form.
var minArg = [4]uint64{24, 0x100, 0x10000, 0x100000000}

// bytesOf reads the content of a byte or text string of length n.
func (w *walker) bytesOf(n uint64) ([]byte, bool) {
	if n > uint64(len(w.b)-w.off) {
		return nil, false
	}
	s := w.b[w.off : w.off+int(n)]
	w.off += int(n)
	return s, true
}

// skip walks one data item, checking well-formedness and the limits, and
// reports the first fault it finds (faultNone if none). It is a loop, not
// a recursion, so nesting costs no calls: left counts the items still to
// walk in the innermost open container, and pending holds the counts of
// the containers around it. Heads are decoded inline, with the same checks
// as head. Telling faults apart happens only on the way out, so the walk
// of a good item costs what a yes/no check did.
func (w *walker) skip(depth int) valueFault {
	if depth > MaxDepth {
		return faultDepth
	}
	var pending [MaxDepth + 1]uint64
	var wasMap [MaxDepth + 1]bool
	top := 0 // containers open around the current item
	left := uint64(1)
	inMap := false // the innermost open container is a map
	b, off := w.b, w.off
	for {
		for left == 0 {
			if top == 0 {
				w.off = off
				return faultNone
			}
			top--
			left, inMap = pending[top], wasMap[top]
		}
		left--
		if off >= len(b) {
			return faultMalformed
		}
		major, ai := b[off]>>5, b[off]&0x1f
		off++
		// A map's items alternate key, value: with 2n to walk, a key
		// leaves an odd count. Keys are integers or strings only, so
		// that equal keys are equal bytes in every language's map.
		if inMap && left&1 == 1 && major > 3 {
			return faultKeyType
		}
		arg := uint64(ai)
		if ai >= 24 {
			// An argument of 1, 2, 4 or 8 bytes, in shortest form; for
			// major type 7 a one-byte simple value of 32 or more, or a
			// float. 28 to 31 are reserved or indefinite lengths.
			if ai > 27 {
				return headFault(major, ai)
			}
			n := 1 << (ai - 24)
			if len(b)-off < n {
				return faultMalformed
			}
			switch n {
			case 1:
				arg = uint64(b[off])
			case 2:
				arg = uint64(binary.BigEndian.Uint16(b[off:]))
			case 4:
				arg = uint64(binary.BigEndian.Uint32(b[off:]))
			default:
				arg = binary.BigEndian.Uint64(b[off:])
			}
			off += n
			if major == 7 {
				if ai == 24 && arg < 32 {
					return faultMalformed // RFC 8949 3.3: not well-formed
				}
			} else if arg < minArg[ai-24] {
				return faultNotShortest
			}
		}
		switch major {
		case 0, 1, 7:
		case 2, 3:
			if arg > uint64(len(b)-off) {
				return faultMalformed
			}
			end := off + int(arg)
			if major == 3 && !validText(b, off, end) {
				return faultUTF8
			}
			off = end
		case 4, 5:
			// Only arrays and maps are levels (SPEC.md: nesting deeper
			// than MaxDepth is refused): this container is at level
			// depth+top; its scalar items add none.
			if depth+top > MaxDepth {
				return faultDepth
			}
			if arg > MaxItems {
				return faultItems
			}
			n := arg
			if major == 5 {
				n *= 2
			}
			// Every item is at least one byte: reject counts the input
			// cannot hold, so a tiny input cannot claim billions of items.
			if n > uint64(len(b)-off) {
				return faultMalformed
			}
			if n > 0 {
				pending[top], wasMap[top] = left, inMap
				top++
				left, inMap = n, major == 5
			}
		default: // 6: tags are refused
			return faultTag
		}
	}
}

// validText reports whether b[off:end] is valid UTF-8. Session keys and
// most text values are short and ASCII, so it first ORs the bytes together
// eight at a time, reading whole words of b even past end (masked off)
// where b has them; only text with a byte of 0x80 or more goes on to
// utf8.Valid.
func validText(b []byte, off, end int) bool {
	var acc uint64
	i := off
	for ; i+8 <= end; i += 8 {
		acc |= binary.LittleEndian.Uint64(b[i:])
	}
	if i < end {
		if i+8 <= len(b) {
			acc |= binary.LittleEndian.Uint64(b[i:]) & (1<<(8*(end-i)) - 1)
		} else {
			for ; i < end; i++ {
				acc |= uint64(b[i])
			}
		}
	}
	return acc&0x8080808080808080 == 0 || utf8.Valid(b[off:end])
}

func (w *walker) text() ([]byte, bool) {
	major, _, arg, ok := w.head()
	if !ok || major != 3 {
		return nil, false
	}
	s, ok := w.bytesOf(arg)
	return s, ok && validText(w.b, w.off-len(s), w.off)
}

// compareKeys orders map keys as RFC 8949 core deterministic encoding does:
// bytewise on the encoded key, which for text strings with shortest heads
// means shorter first, then bytewise.
func compareKeys(a, b []byte) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return bytes.Compare(a, b)
}

// Parse walks pt (which it aliases) into d. entries is appended to
// d.Entries, so a caller can offer inline storage.
func Parse(pt []byte, d *State) error {
	if len(pt) > MaxBytes {
		return errMalformed
	}
	w := walker{b: pt}
	major, _, fields, ok := w.head()
	if !ok || major != 4 || (fields != payloadFields && fields != payloadFields+1) {
		return errMalformed
	}
	// id
	major, _, n, ok := w.head()
	if !ok || major != 2 || n != 16 {
		return errMalformed
	}
	id, _ := w.bytesOf(16)
	if id == nil {
		return errMalformed
	}
	copy(d.ID[:], id)
	// created
	major, _, n, ok = w.head()
	if !ok || major != 0 || n > math.MaxInt64 {
		return errMalformed
	}
	d.Created = int64(n)
	// subject
	sub, ok := w.text()
	if !ok {
		return errMalformed
	}
	d.Subject = string(sub)
	// values
	major, _, n, ok = w.head()
	if !ok || major != 5 || n > MaxItems || n > uint64(len(pt)-w.off) {
		return errMalformed
	}
	var prev []byte
	for i := uint64(0); i < n; i++ {
		k, ok := w.text()
		if !ok || (i > 0 && compareKeys(prev, k) >= 0) {
			return errMalformed
		}
		// The value: a byte string, jumped over. Its content is checked
		// when it is decoded (Get) or was checked when it was stored (Set).
		major, _, vn, ok := w.head()
		if !ok || major != 2 {
			return errMalformed
		}
		v, ok := w.bytesOf(vn)
		if !ok {
			return errMalformed
		}
		d.Entries = append(d.Entries, Entry{Key: k, Val: v})
		prev = k
	}
	// flashes
	major, _, n, ok = w.head()
	if !ok || major != 4 || n > MaxItems || n > uint64(len(pt)-w.off) {
		return errMalformed
	}
	if n > 0 {
		d.Flashes = make([]string, 0, n)
		for i := uint64(0); i < n; i++ {
			f, ok := w.text()
			if !ok {
				return errMalformed
			}
			d.Flashes = append(d.Flashes, string(f))
		}
	}
	// flags: present only when non-zero, so that each state has one
	// encoding, and only with bits this version knows.
	d.Flags = 0
	if fields > payloadFields {
		major, _, n, ok = w.head()
		if !ok || major != 0 || n == 0 || n&^KnownFlags != 0 {
			return errMalformed
		}
		d.Flags = n
	}
	if w.off != len(pt) {
		return errMalformed
	}
	return nil
}

func appendHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= math.MaxUint8:
		return append(b, m|24, byte(n))
	case n <= math.MaxUint16:
		return binary.BigEndian.AppendUint16(append(b, m|25), uint16(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, m|26), uint32(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, m|27), n)
	}
}

func Size(d *State) int {
	n := 1 + 17 + 9 + 9 + len(d.Subject) + 9 + 9 + 9
	for _, e := range d.Entries {
		n += 9 + len(e.Key) + 9 + len(e.Val)
	}
	for _, f := range d.Flashes {
		n += 9 + len(f)
	}
	return n
}

// Storable reports whether Parse accepts Append(d), for a d
// whose keys are sorted and unique, as every mutation keeps them. The walk
// does not look inside values (each passed CheckValue in Set, or came
// unchanged from a payload that opened), and every key was checked as
// UTF-8 by Set or by the walk, so this checks only the creation time, the
// subject, the flash messages and the counts. The size limit is the
// caller's.
func Storable(d *State) bool {
	if d.Created < 0 || d.Flags&^KnownFlags != 0 || len(d.Entries) > MaxItems || len(d.Flashes) > MaxItems || !utf8.ValidString(d.Subject) {
		return false
	}
	for _, f := range d.Flashes {
		if !utf8.ValidString(f) {
			return false
		}
	}
	return true
}

// Append encodes d canonically. d.Entries must already be sorted
// with compareKeys and unique, which every mutation keeps true.
func Append(b []byte, d *State) []byte {
	if d.Flags != 0 {
		b = appendHead(b, 4, payloadFields+1)
	} else {
		b = appendHead(b, 4, payloadFields)
	}
	b = appendHead(b, 2, 16)
	b = append(b, d.ID[:]...)
	b = appendHead(b, 0, uint64(d.Created))
	b = appendHead(b, 3, uint64(len(d.Subject)))
	b = append(b, d.Subject...)
	b = appendHead(b, 5, uint64(len(d.Entries)))
	for _, e := range d.Entries {
		b = appendHead(b, 3, uint64(len(e.Key)))
		b = append(b, e.Key...)
		b = appendHead(b, 2, uint64(len(e.Val)))
		b = append(b, e.Val...)
	}
	b = appendHead(b, 4, uint64(len(d.Flashes)))
	for _, f := range d.Flashes {
		b = appendHead(b, 3, uint64(len(f)))
		b = append(b, f...)
	}
	if d.Flags != 0 {
		b = appendHead(b, 0, d.Flags)
	}
	return b
}

// CheckValue reports whether an encoded value is one item within the
// limits, at the depth a value sits in the payload.
func CheckValue(v []byte) bool {
	w := walker{b: v}
	return w.skip(valueLevel) == faultNone && w.off == len(v)
}

// CheckValueErr is CheckValue with the reason: nil for a value CheckValue
// accepts, else a valueFault saying why it is refused, for Set to report.
func CheckValueErr(v []byte) error {
	w := walker{b: v}
	if f := w.skip(valueLevel); f != faultNone {
		return f
	}
	if w.off != len(v) {
		return faultTrailing
	}
	return nil
}

package payload

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/fxamacker/cbor/v2"
)

// checkEncodable is run on a value before encMode.Marshal, which recurses
// once per level of the value with no limit of its own: a value that
// contains itself, or a chain of millions of pointers, would overflow the
// goroutine stack, which is fatal, not a panic. checkEncodable refuses
// such values with an error instead.
//
// It walks the value the way the encoder does (see encodedFields and
// encodesItself), keeping the pointers, maps and slices of the current
// path: meeting one of them again is a cycle. Values shared by two paths
// (a DAG) are walked twice and are fine. Besides cycles it stops at
// nesting that could never be stored: more than MaxDepth-2 arrays or maps
// (checkValueErr would refuse the encoding anyway), or more than
// maxWalkSteps pointers, interfaces and containers on one path.
//
// Most values cannot hold a cycle at all: a type that reaches neither an
// interface nor itself (strings, numbers, []byte, map[string]string,
// structs of those, time.Time) bounds its own depth. That verdict is
// cached per type, so for such values the check is one map lookup.
func checkEncodable(v any) error {
	return walkAny(v, nil, 0, 0)
}

// maxWalkSteps bounds the pointers, interfaces and containers on one path
// of the walk. A storable value nests at most MaxDepth-2 containers, each
// reached through an interface or a pointer or two, so this refuses only
// pointer and interface chains no session would hold; it also bounds the
// walk's own recursion.
const maxWalkSteps = 4 * MaxDepth

var (
	errCyclic  = errors.New("value is cyclic (a pointer, map or slice in it leads back to itself)")
	errTooDeep = fmt.Errorf("value is cyclic or nests pointers and interfaces deeper than %d levels", maxWalkSteps)
)

// pathKey identifies a pointer, map or slice on the walk's path. The type
// is part of it because a struct and its first field share an address;
// the length because a slice and a shorter slice of it share their data.
// Equal keys walk identically, so meeting one again means the walk would
// never end.
type pathKey struct {
	p unsafe.Pointer
	t reflect.Type
	n int
}

// pathNode is the path as a list on the walk's own stack frames, so that
// keeping it allocates nothing.
type pathNode struct {
	key pathKey
	up  *pathNode
}

func (n *pathNode) has(k pathKey) bool {
	for ; n != nil; n = n.up {
		if n.key == k {
			return true
		}
	}
	return false
}

// nesting checks the counts of a path after one more value on it.
func nesting(steps, levels int) error {
	if levels > MaxDepth-valueLevel+1 {
		return faultDepth
	}
	if steps > maxWalkSteps {
		return errTooDeep
	}
	return nil
}

// enter puts the container k on the path below up, refusing it when it
// is on the path already (a cycle) or when the path, counted with it, is
// too deep.
func enter(k pathKey, up *pathNode, steps, levels int) (pathNode, error) {
	if up.has(k) {
		return pathNode{}, errCyclic
	}
	if err := nesting(steps, levels); err != nil {
		return pathNode{}, err
	}
	return pathNode{k, up}, nil
}

var (
	typeStringAnyMap = reflect.TypeFor[map[string]any]()
	typeAnySlice     = reflect.TypeFor[[]any]()
	typeCBORTag      = reflect.TypeFor[cbor.Tag]()
)

// walkAny walks x, the dynamic value of an interface. steps and levels
// count the values on the path above it. The types Get[any] decodes to
// are handled without reflection, as the encoder does.
func walkAny(x any, up *pathNode, steps, levels int) error {
	switch x := x.(type) {
	case nil, string, bool, int, int64, uint64, float64, []byte:
		return nil
	case map[string]any:
		if x == nil {
			return nil
		}
		k := pathKey{p: reflect.ValueOf(x).UnsafePointer(), t: typeStringAnyMap}
		return walkElems(k, up, steps, levels, maps.Values(x))
	case []any:
		if x == nil {
			return nil
		}
		k := pathKey{p: unsafe.Pointer(unsafe.SliceData(x)), t: typeAnySlice, n: len(x)}
		return walkElems(k, up, steps, levels, slices.Values(x))
	}
	if !mayCycle(reflect.TypeOf(x)) {
		return nil
	}
	return walkValue(reflect.ValueOf(x), up, steps, levels)
}

// walkElems walks the elements of the map[string]any or []any k stands
// for, one level below it.
func walkElems(k pathKey, up *pathNode, steps, levels int, elems iter.Seq[any]) error {
	node, err := enter(k, up, steps+1, levels+1)
	if err != nil {
		return err
	}
	for e := range elems {
		if err := walkAny(e, &node, steps+2, levels+1); err != nil {
			return err
		}
	}
	return nil
}

// walkValue walks v, whose type mayCycle. Values reached through
// unexported embedded fields are read-only; the walk only reads them and
// never calls Interface on them.
func walkValue(v reflect.Value, up *pathNode, steps, levels int) error {
	t := v.Type()
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return nil
		}
		if err := nesting(steps+1, levels); err != nil {
			return err
		}
		e := v.Elem()
		if e.CanInterface() {
			return walkAny(e.Interface(), up, steps+1, levels)
		}
		if !mayCycle(e.Type()) {
			return nil
		}
		return walkValue(e, up, steps+1, levels)

	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		k := pathKey{p: v.UnsafePointer(), t: t}
		node, err := enter(k, up, steps+1, levels)
		if err != nil {
			return err
		}
		return walkValue(v.Elem(), &node, steps+1, levels)

	case reflect.Map:
		if v.IsNil() { // encoded as null, not a level
			return nil
		}
		k := pathKey{p: v.UnsafePointer(), t: t}
		node, err := enter(k, up, steps+1, levels+1)
		if err != nil {
			return err
		}
		p := planOf(t)
		for it := v.MapRange(); it.Next(); {
			if p.key {
				if err := walkValue(it.Key(), &node, steps+1, levels+1); err != nil {
					return err
				}
			}
			if p.elem {
				if err := walkValue(it.Value(), &node, steps+1, levels+1); err != nil {
					return err
				}
			}
		}
		return nil

	case reflect.Slice:
		if v.IsNil() {
			return nil
		}
		n := v.Len()
		k := pathKey{p: v.UnsafePointer(), t: t, n: n}
		node, err := enter(k, up, steps+1, levels+1)
		if err != nil {
			return err
		}
		for i := range n {
			if err := walkValue(v.Index(i), &node, steps+1, levels+1); err != nil {
				return err
			}
		}
		return nil

	case reflect.Array:
		// Held inline: a cycle through it passes a pointer, map or slice.
		if err := nesting(steps+1, levels+1); err != nil {
			return err
		}
		for i := range v.Len() {
			if err := walkValue(v.Index(i), up, steps+1, levels+1); err != nil {
				return err
			}
		}
		return nil

	case reflect.Struct:
		if t != typeCBORTag { // a tag heads its content; it is no level
			levels++
		}
		if err := nesting(steps+1, levels); err != nil {
			return err
		}
		for _, f := range planOf(t).fields {
			fv, ok := fieldAt(v, f.index)
			if !ok {
				continue
			}
			if err := walkValue(fv, up, steps+1, levels); err != nil {
				return err
			}
		}
		return nil
	}
	return nil
}

// fieldAt follows an index path through embedded structs, as the encoder
// does; a nil embedded pointer on the way means the field is not written.
func fieldAt(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, n := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return v, false
			}
			v = v.Elem()
		}
		v = v.Field(n)
	}
	return v, true
}

// encPlan is what the walk needs of a map or struct type whose values
// mayCycle: which of its parts can.
type encPlan struct {
	key, elem bool       // map: keys, elements
	fields    []encField // struct: the encoded fields whose types mayCycle
}

var encPlans sync.Map // reflect.Type -> *encPlan

func planOf(t reflect.Type) *encPlan {
	if p, ok := encPlans.Load(t); ok {
		return p.(*encPlan)
	}
	p := new(encPlan)
	switch t.Kind() {
	case reflect.Map:
		p.key, p.elem = mayCycle(t.Key()), mayCycle(t.Elem())
	case reflect.Struct:
		for _, f := range encodedFields(t) {
			if mayCycle(f.typ) {
				p.fields = append(p.fields, f)
			}
		}
	}
	encPlans.Store(t, p)
	return p
}

// encVerdicts caches mayCycle: reflect.Type -> bool.
var encVerdicts sync.Map

// mayCycle reports whether values of type t can be cyclic or nest without
// bound, as the encoder walks them: whether t reaches, through the parts
// the encoder visits, an interface (which may hold anything) or itself.
func mayCycle(t reflect.Type) bool {
	if v, ok := encVerdicts.Load(t); ok {
		return v.(bool)
	}
	s := typeSearch{onPath: map[reflect.Type]bool{}, done: map[reflect.Type]bool{}}
	r := s.reaches(t)
	// A type whose search ended without a find cannot cycle, whichever
	// search it was met in; a find is recorded only for t (the types above
	// it on the path were cut short).
	for d := range s.done {
		encVerdicts.Store(d, false)
	}
	encVerdicts.Store(t, r)
	return r
}

type typeSearch struct {
	onPath, done map[reflect.Type]bool
}

func (s *typeSearch) reaches(t reflect.Type) bool {
	if v, ok := encVerdicts.Load(t); ok {
		return v.(bool)
	}
	if s.onPath[t] {
		return true // t contains itself
	}
	if s.done[t] {
		return false
	}
	s.onPath[t] = true
	r := s.edges(t)
	delete(s.onPath, t)
	if !r {
		s.done[t] = true
	}
	return r
}

// edges reports whether any type the encoder visits inside a t reaches an
// interface or a type on the search path.
func (s *typeSearch) edges(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Pointer: // the encoder looks through every pointer level
		return s.reaches(t.Elem())
	}
	if t != typeCBORTag && encodesItself(t) {
		return false
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		// Byte slices and arrays are byte strings (ByteArrayToByteSlice is
		// the default, and encMode keeps it).
		return t.Elem().Kind() != reflect.Uint8 && s.reaches(t.Elem())
	case reflect.Map:
		return s.reaches(t.Key()) || s.reaches(t.Elem())
	case reflect.Struct:
		for _, f := range encodedFields(t) {
			if s.reaches(f.typ) {
				return true
			}
		}
	}
	return false
}

var (
	typeTime            = reflect.TypeFor[time.Time]()
	typeBigInt          = reflect.TypeFor[big.Int]()
	typeMarshaler       = reflect.TypeFor[cbor.Marshaler]()
	typeBinaryMarshaler = reflect.TypeFor[encoding.BinaryMarshaler]()
	typeTextMarshaler   = reflect.TypeFor[encoding.TextMarshaler]()
	typeJSONMarshaler   = reflect.TypeFor[json.Marshaler]()
)

// encOptions are encMode's options, read when the first type is looked at
// (after init has made encMode).
var encOptions = sync.OnceValue(func() cbor.EncOptions { return encMode.EncOptions() })

// encodesItself reports whether the encoder writes a non-pointer type t
// without walking its parts: the types it knows (time.Time, big.Int), and
// types whose pointer has a method it calls instead. fxamacker v2.10.0
// (newEncodeFunc) calls MarshalCBOR always, MarshalBinary under
// BinaryMarshalerByteString (the default, which encMode keeps), and
// MarshalText or MarshalJSON only when the mode asks for them, which
// encMode does not: a type with only MarshalText is walked like any other.
// cbor.Tag is the one known type whose part (Content) is walked; callers
// handle it before asking.
func encodesItself(t reflect.Type) bool {
	if t == typeTime || t == typeBigInt {
		return true
	}
	pt := reflect.PointerTo(t)
	if pt.Implements(typeMarshaler) {
		return true
	}
	o := encOptions()
	return o.BinaryMarshaler == cbor.BinaryMarshalerByteString && pt.Implements(typeBinaryMarshaler) ||
		o.TextMarshaler == cbor.TextMarshalerTextString && pt.Implements(typeTextMarshaler) ||
		o.JSONMarshalerTranscoder != nil && pt.Implements(typeJSONMarshaler)
}

// encField is a struct field the encoder writes: its index path from the
// struct (through embedded structs) and its type.
type encField struct {
	index []int
	typ   reflect.Type
}

// encodedFields lists the fields of struct type t the encoder may write,
// by its rules (the encoding/json rules): exported fields, not tagged "-"
// (the cbor tag, else the json one); an untagged embedded struct, or
// pointer to one, exported or not, stands for its own fields, one level
// deeper, unless two embed the same type at one level or the type was
// expanded at a shallower level. Where embedded fields' names collide the
// encoder keeps only the shallowest; this keeps them all, which can only
// walk more than the encoder does.
func encodedFields(t reflect.Type) []encField {
	type embedded struct {
		t     reflect.Type
		index []int
	}
	var out []encField
	level := []embedded{{t: t}}
	expanded := map[reflect.Type]bool{t: true}
	for len(level) > 0 {
		var next []embedded
		count := map[reflect.Type]int{}
		for _, e := range level {
			for i := range e.t.NumField() {
				f := e.t.Field(i)
				ft := f.Type
				for ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				embeds := f.Anonymous && ft.Kind() == reflect.Struct
				if !f.IsExported() && !embeds {
					continue
				}
				tag := f.Tag.Get("cbor")
				if tag == "" {
					tag = f.Tag.Get("json")
				}
				if tag == "-" {
					continue
				}
				name, _, _ := strings.Cut(tag, ",")
				index := append(slices.Clip(e.index), i)
				if embeds && name == "" {
					next = append(next, embedded{ft, index})
					count[ft]++
				} else {
					out = append(out, encField{index, f.Type})
				}
			}
		}
		level = level[:0]
		for _, e := range next {
			if count[e.t] == 1 && !expanded[e.t] {
				expanded[e.t] = true
				level = append(level, e)
			}
		}
	}
	return out
}

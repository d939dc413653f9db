// Package jwk reads and writes the key configuration, a JWK Set of
// symmetric ("oct") keys in order: the first is the primary.
package jwk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/go-jose/go-jose/v4"
	"github.com/sealedgo/sealed/internal/b64"
	"github.com/sealedgo/sealed/internal/envelope"
)

// Key is one configured key.
type Key struct {
	ID     string
	Secret []byte
}

// Ring validates keys and returns them as an envelope ring.
func Ring(keys []Key) (envelope.Ring, error) {
	ids := make([]string, len(keys))
	secrets := make([][]byte, len(keys))
	for i, k := range keys {
		ids[i], secrets[i] = k.ID, k.Secret
	}
	return envelope.NewRing(ids, secrets)
}

// Parse reads a JWK Set of "oct" keys, each with a "kid", in order. It is
// stricter than JSON and RFC 7517 require, so that one configuration has
// one meaning in every implementation (SPEC.md, "Keys"):
//
//   - the text is UTF-8 and one JSON object, with a "keys" array of
//     objects; member names are matched exactly (case-sensitively), and
//     none appears twice in the set or in a key (which member a reader
//     takes varies between JSON libraries);
//   - a "kid" is a non-empty string of Unicode text: a JSON escape of a lone
//     surrogate ("\ud800"), which encoding/json silently turns into U+FFFD,
//     is refused, so two different documents cannot name the same key;
//   - "k" is strict unpadded base64url, as sealed values are (no '=', line
//     breaks or other characters, no length of 1 modulo 4, zero spare bits);
//   - "kty" is "oct": a key of another type is an error rather than
//     skipped as RFC 7517 section 5 allows, since skipping a key would log
//     out the users it sealed. Other members are ignored;
//   - the keys make a valid ring (envelope.NewRing: 32-byte secrets that
//     are not all zero, unique ids and 4-byte key ids).
//
// Errors name the key by position and kid and never contain secret
// material, nor any character of the input where JSON is malformed.
func Parse(data []byte) ([]Key, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("sealed: JWK Set: not UTF-8 text")
	}
	raw, err := walk(data)
	if err != nil {
		return nil, err
	}
	keys := make([]Key, 0, len(raw))
	for i, rk := range raw {
		k, err := rk.key(i)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	if _, err := Ring(keys); err != nil {
		return nil, err
	}
	return keys, nil
}

// member is what a key object gave for one of the members Parse reads.
type member struct {
	present, isString bool
	value             string
	lit               []byte // the JSON string literal, quotes and escapes included
}

// rawKey is one key object of the set, as the walk found it.
type rawKey struct {
	kty, kid, k member
}

// label names key i in an error: by position, and by kid when it has a
// usable one.
func (rk *rawKey) label(i int) string {
	if rk.kid.isString && rk.kid.value != "" && !loneSurrogate(rk.kid.lit) {
		return fmt.Sprintf("key %d (kid %q)", i, rk.kid.value)
	}
	return fmt.Sprintf("key %d", i)
}

// key checks key i's members and returns it.
func (rk *rawKey) key(i int) (Key, error) {
	fail := func(format string, a ...any) (Key, error) {
		return Key{}, fmt.Errorf("sealed: JWK Set: %s: "+format, append([]any{rk.label(i)}, a...)...)
	}
	switch {
	case !rk.kid.present || rk.kid.isString && rk.kid.value == "":
		return fail("missing kid")
	case !rk.kid.isString:
		return fail("kid must be a string")
	case loneSurrogate(rk.kid.lit):
		return fail("kid is not Unicode text (it escapes half of a UTF-16 surrogate pair)")
	case !rk.kty.isString || rk.kty.value != "oct":
		return fail(`kty must be "oct"`)
	case !rk.k.present:
		return fail("missing k")
	case !rk.k.isString:
		return fail("k must be a string")
	}
	secret := make([]byte, b64.DecodedLen(len(rk.k.value))+2) // Decode may write two bytes past the end
	n, ok := b64.Decode(secret, rk.k.value)
	if !ok {
		return fail("k is not unpadded base64url (RFC 4648 section 5 without '=', line breaks or other characters)")
	}
	return Key{ID: rk.kid.value, Secret: secret[:n:n]}, nil
}

// walker reads a JWK Set token by token, so that it sees what
// encoding/json's Unmarshal hides: repeated member names and the literal
// text of strings.
type walker struct {
	dec  *json.Decoder
	data []byte
}

// errJSON is the error for malformed JSON: the position only, since
// encoding/json's messages quote the offending character, which may be
// part of a secret.
func (w *walker) errJSON(err error) error {
	off := w.dec.InputOffset()
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		off = syn.Offset
	}
	return fmt.Errorf("sealed: JWK Set: invalid JSON at byte offset %d", off)
}

func (w *walker) token() (json.Token, error) {
	t, err := w.dec.Token()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, w.errJSON(err)
	}
	return t, nil
}

// skip reads the rest of a value whose first token was t.
func (w *walker) skip(t json.Token) error {
	depth := 0
	for {
		if d, ok := t.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
		var err error
		if t, err = w.token(); err != nil {
			return err
		}
	}
}

// names tracks the member names of one object. Only well-known names are
// repeated in errors: another could hold anything, a secret included.
type names map[string]bool

var knownNames = map[string]bool{
	"keys": true, "kty": true, "use": true, "key_ops": true, "alg": true, "kid": true,
	"x5u": true, "x5c": true, "x5t": true, "x5t#S256": true, "k": true,
}

func (n names) add(name, where string) error {
	if !n[name] {
		n[name] = true
		return nil
	}
	if knownNames[name] {
		return fmt.Errorf("sealed: JWK Set: %smember %q appears twice", where, name)
	}
	return fmt.Errorf("sealed: JWK Set: %sa member name appears twice", where)
}

// walk reads the whole document: one object, its "keys" member an array
// of objects, no name twice in the set or in a key, nothing after it.
func walk(data []byte) ([]rawKey, error) {
	w := &walker{dec: json.NewDecoder(bytes.NewReader(data)), data: data}
	w.dec.UseNumber() // numbers are skipped, never converted (1e999 is valid JSON)
	t, err := w.token()
	if err != nil {
		return nil, err
	}
	if t != json.Delim('{') {
		return nil, errors.New("sealed: JWK Set: not a JSON object")
	}
	var keys []rawKey
	found := false
	seen := names{}
	for w.dec.More() {
		t, err := w.token()
		if err != nil {
			return nil, err
		}
		name := t.(string) // the decoder allows nothing else here
		if err := seen.add(name, ""); err != nil {
			return nil, err
		}
		if name != "keys" {
			if err := w.skipValue(); err != nil {
				return nil, err
			}
			continue
		}
		found = true
		if keys, err = w.keys(); err != nil {
			return nil, err
		}
	}
	if _, err := w.token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := w.dec.Token(); err != io.EOF {
		return nil, errors.New("sealed: JWK Set: data after the JWK Set")
	}
	if !found {
		return nil, errors.New(`sealed: JWK Set: no "keys" member`)
	}
	if len(keys) == 0 {
		return nil, errors.New("sealed: JWK Set: no keys")
	}
	return keys, nil
}

func (w *walker) skipValue() error {
	t, err := w.token()
	if err != nil {
		return err
	}
	return w.skip(t)
}

func (w *walker) keys() ([]rawKey, error) {
	t, err := w.token()
	if err != nil {
		return nil, err
	}
	if t != json.Delim('[') {
		return nil, errors.New(`sealed: JWK Set: "keys" must be an array`)
	}
	var keys []rawKey
	for i := 0; w.dec.More(); i++ {
		k, err := w.key(i)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	if _, err := w.token(); err != nil { // the closing bracket
		return nil, err
	}
	return keys, nil
}

func (w *walker) key(i int) (rawKey, error) {
	var k rawKey
	t, err := w.token()
	if err != nil {
		return k, err
	}
	if t != json.Delim('{') {
		return k, fmt.Errorf("sealed: JWK Set: key %d: not a JSON object", i)
	}
	seen := names{}
	where := fmt.Sprintf("key %d: ", i)
	for w.dec.More() {
		t, err := w.token()
		if err != nil {
			return k, err
		}
		name := t.(string)
		if err := seen.add(name, where); err != nil {
			return k, err
		}
		var m *member
		switch name {
		case "kty":
			m = &k.kty
		case "kid":
			m = &k.kid
		case "k":
			m = &k.k
		default:
			if err := w.skipValue(); err != nil {
				return k, err
			}
			continue
		}
		// The value's literal lies between the name and the decoder's
		// position after the value, behind the ':' and any whitespace.
		start := w.dec.InputOffset()
		t, err = w.token()
		if err != nil {
			return k, err
		}
		m.present = true
		if s, ok := t.(string); ok {
			lit := w.data[start:w.dec.InputOffset()]
			m.isString, m.value, m.lit = true, s, lit[bytes.IndexByte(lit, '"'):]
		} else if err := w.skip(t); err != nil {
			return k, err
		}
	}
	if _, err := w.token(); err != nil { // the closing brace
		return k, err
	}
	return k, nil
}

// loneSurrogate reports whether the JSON string literal lit (valid JSON)
// has a \u escape of a surrogate that is not half of an escaped pair.
func loneSurrogate(lit []byte) bool {
	for i := 0; i < len(lit); i++ {
		if lit[i] != '\\' {
			continue
		}
		i++
		if lit[i] != 'u' {
			continue
		}
		r := hex4(lit[i+1 : i+5])
		i += 4
		switch {
		case 0xdc00 <= r && r <= 0xdfff:
			return true
		case 0xd800 <= r && r <= 0xdbff:
			if i+6 < len(lit) && lit[i+1] == '\\' && lit[i+2] == 'u' {
				if lo := hex4(lit[i+3 : i+7]); 0xdc00 <= lo && lo <= 0xdfff {
					i += 6
					continue
				}
			}
			return true
		}
	}
	return false
}

// hex4 is the value of four hex digits.
func hex4(h []byte) rune {
	var r rune
	for _, c := range h {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// Marshal encodes keys as a JWK Set, in order. The output contains the
// secrets.
func Marshal(keys []Key) ([]byte, error) {
	if _, err := Ring(keys); err != nil {
		return nil, err
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, len(keys))}
	for i, k := range keys {
		set.Keys[i] = jose.JSONWebKey{Key: append([]byte(nil), k.Secret...), KeyID: k.ID}
	}
	return json.MarshalIndent(set, "", "  ")
}

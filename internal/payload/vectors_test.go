package payload

import (
	"encoding/hex"
	"testing"

	"github.com/sealedgo/sealed/internal/fuzzseed"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// payloadVector is a file of testdata/vectors/payload/ (the kit's README
// defines the fields).
type payloadVector struct {
	Plaintext *string `json:"plaintext_hex"`
	Expect    string  `json:"expect"`
	Rule      string  `json:"rule"`
	Session   *struct {
		ID      string  `json:"id_hex"`
		Created *int64  `json:"created_ms"`
		Subject *string `json:"subject"`
		Values  []struct {
			Key    string `json:"key"`
			CBOR   string `json:"cbor_hex"`
			Expect string `json:"expect"`
			Rule   string `json:"rule"`
		} `json:"values"`
		Flashes []string `json:"flashes"`
		Flags   *uint64  `json:"flags"`
	} `json:"session"`
}

// The rules of the payload layer (SPEC.md's Decoding table) and of the
// values inside it (its value table).
var (
	payloadRules = map[string]bool{
		"size": true, "shape": true, "created": true, "heads": true, "tags": true,
		"text": true, "keys": true, "items": true, "flags": true,
	}
	valueRules = map[string]bool{
		"heads": true, "tags": true, "text": true, "depth": true, "items": true, "duplicate-keys": true,
		"well-formed": true, "key-type": true,
	}
)

// TestPayloadVectors runs every vector of testdata/vectors/payload/. Parse
// must refuse a negative one. A positive one must parse to the session the
// vector describes: its ID, creation time, subject, flags, flashes, and its
// values in storage order, each value's bytes as stored; each value must
// then decode (CheckValue and Decode[any]) when the vector says ok and be
// refused by Decode when it says refused, the session staying valid. And
// the parsed state must encode back to the same bytes, a payload having
// one encoding.
func TestPayloadVectors(t *testing.T) {
	for _, f := range fuzzseed.Vectors(t, "payload") {
		var v payloadVector
		f.Decode(t, &v)
		t.Run(f.Name, func(t *testing.T) {
			require.NotNil(t, v.Plaintext, "plaintext_hex")
			pt := fuzzseed.Hex(t, "plaintext_hex", *v.Plaintext)
			var st State
			err := Parse(pt, &st)
			switch v.Expect {
			case "invalid":
				require.True(t, payloadRules[v.Rule], "unknown rule %q", v.Rule)
				require.Error(t, err, "Parse accepts a payload that breaks rule %s", v.Rule)
				return
			case "ok":
				require.Empty(t, v.Rule, "a positive vector breaks no rule")
			}
			require.NoError(t, err)
			s := v.Session
			require.NotNil(t, s, "a positive vector describes its session")
			require.True(t, s.Created != nil && s.Subject != nil && s.Flags != nil && s.Values != nil && s.Flashes != nil,
				"session needs created_ms, subject, values, flashes and flags")
			assert.Equal(t, s.ID, hex.EncodeToString(st.ID[:]), "id_hex")
			assert.Equal(t, *s.Created, st.Created, "created_ms")
			assert.Equal(t, *s.Subject, st.Subject, "subject")
			assert.Equal(t, *s.Flags, st.Flags, "flags")
			if len(s.Flashes) == 0 {
				assert.Empty(t, st.Flashes, "flashes")
			} else {
				assert.Equal(t, s.Flashes, st.Flashes, "flashes")
			}
			require.Len(t, st.Entries, len(s.Values), "values")
			for i, want := range s.Values {
				e := st.Entries[i]
				assert.Equal(t, want.Key, string(e.Key), "value %d: key", i)
				assert.Equal(t, fuzzseed.Hex(t, "cbor_hex", want.CBOR), e.Val, "value %q: cbor_hex", want.Key)
				_, derr := Decode[any](e.Val)
				switch want.Expect {
				case "ok":
					require.Empty(t, want.Rule, "value %q: an ok value breaks no rule", want.Key)
					assert.True(t, CheckValue(e.Val), "value %q: CheckValue refuses it", want.Key)
					assert.NoError(t, derr, "value %q", want.Key)
				case "refused":
					require.True(t, valueRules[want.Rule], "value %q: unknown rule %q", want.Key, want.Rule)
					assert.Error(t, derr, "value %q: Decode accepts a value that breaks rule %s", want.Key, want.Rule)
					if want.Rule != "duplicate-keys" {
						// The walk's own rules; duplicate map keys are the
						// decoder's to refuse.
						assert.False(t, CheckValue(e.Val), "value %q: CheckValue accepts a value that breaks rule %s", want.Key, want.Rule)
					}
				default:
					t.Fatalf("value %q: expect %q, want ok or refused", want.Key, want.Expect)
				}
			}
			assert.Equal(t, pt, Append(nil, &st), "the parsed state does not encode back to the payload")
		})
	}
}

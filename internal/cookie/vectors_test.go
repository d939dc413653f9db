package cookie

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/sealedgo/sealed/internal/envelope"
	"github.com/sealedgo/sealed/internal/fuzzseed"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chunkVector is a file of testdata/vectors/chunks/ (the kit's README
// defines the fields).
type chunkVector struct {
	CookieName   string   `json:"cookie_name"`
	MaxChunks    *int     `json:"max_chunks"`
	MaxBytes     *int     `json:"max_bytes"`
	CookieHeader []string `json:"cookie_header"`
	Expect       string   `json:"expect"`
	Rule         string   `json:"rule"`
	Sealed       *string  `json:"sealed"`
}

// vectorJar is the reader a chunks vector configures: its cookie name,
// chunk count and byte budget (0: none). The byte budget is set after New,
// which refuses one below 256 bytes that a vector may well use.
func vectorJar(t *testing.T, v *chunkVector) *Jar {
	t.Helper()
	require.NotNil(t, v.MaxChunks, "max_chunks")
	require.NotNil(t, v.MaxBytes, "max_bytes")
	require.True(t, *v.MaxChunks >= 1 && *v.MaxChunks <= MaxChunks, "max_chunks %d: a reader is configured for 1 to %d", *v.MaxChunks, MaxChunks)
	require.GreaterOrEqual(t, *v.MaxBytes, 0, "max_bytes")
	j, err := New(Config{
		Name: v.CookieName, Path: "/", Secure: true, SameSite: http.SameSiteLaxMode,
		Budget: Budget{MaxBytes: 1 << 30, MaxChunks: *v.MaxChunks, MaxLineBytes: MaxLine},
		MaxAge: 400 * 24 * 3600, MaxDecoded: envelope.MaxSize,
	})
	require.NoError(t, err)
	if *v.MaxBytes > 0 {
		j.c.Budget.MaxBytes = *v.MaxBytes
	}
	return j
}

// chunkRuleReasons is the reason Jar.Read gives for each rule of the
// chunks layer ("" for no chunk at all). Read does not tell the structural
// rules apart ("chunks" for all), only the budget.
var chunkRuleReasons = map[string][]string{
	"missing-first": {"", "chunks"},
	"duplicate":     {"chunks"},
	"count":         {"chunks"},
	"missing-chunk": {"chunks"},
	"partial":       {"chunks"},
	"empty-chunk":   {"chunks"},
	"over-budget":   {"over budget"},
}

// TestChunkVectors runs every vector of testdata/vectors/chunks/: the
// Cookie header values, read by a jar configured as the vector says,
// must reassemble to the vector's sealed text, or to no session for the
// reason its rule names. This layer does not decode: the reassembly is
// compared as text (and, when the text is base64url, Read must decode it
// to the same bytes).
func TestChunkVectors(t *testing.T) {
	for _, f := range fuzzseed.Vectors(t, "chunks") {
		var v chunkVector
		f.Decode(t, &v)
		t.Run(f.Name, func(t *testing.T) {
			require.NotEmpty(t, v.CookieName, "cookie_name")
			j := vectorJar(t, &v)
			var pbuf [MaxChunks]string
			pieces, n, present, reason := j.join(v.CookieHeader, pbuf[:0])
			switch v.Expect {
			case "ok":
				require.NotNil(t, v.Sealed, "a positive vector needs sealed")
				require.Empty(t, v.Rule, "a positive vector breaks no rule")
				require.NotZero(t, present, "no chunk found")
				require.Empty(t, reason, "the chunks do not reassemble")
				assert.Equal(t, *v.Sealed, strings.Join(pieces, ""))
				assert.Equal(t, len(*v.Sealed), n)
				assert.Equal(t, len(pieces), j.Chunks(v.CookieHeader))
				if want, err := base64.RawURLEncoding.Strict().DecodeString(*v.Sealed); err == nil && !strings.ContainsAny(*v.Sealed, "\r\n") && len(*v.Sealed) <= j.maxEncoded {
					buf, _, reason := j.Read(v.CookieHeader, 3)
					require.Empty(t, reason)
					assert.Equal(t, want, buf[3:])
				}
			case "absent":
				reasons, known := chunkRuleReasons[v.Rule]
				require.True(t, known, "unknown rule %q", v.Rule)
				assert.True(t, present == 0 || reason != "", "the chunks reassemble to %q; want no session (%s)", strings.Join(pieces, ""), v.Rule)
				assert.Contains(t, reasons, reason, "rule %s", v.Rule)
				buf, _, _ := j.Read(v.CookieHeader, 0)
				assert.Nil(t, buf)
				if reason != "over budget" {
					// Chunks counts the chunks of a value over the budget.
					assert.Zero(t, j.Chunks(v.CookieHeader))
				}
			}
		})
	}
}

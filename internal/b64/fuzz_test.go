package b64

import (
	"testing"

	"github.com/sealedgo/sealed/internal/fuzzseed"
)

// FuzzB64 checks Decode and Encode against encoding/base64 (strict, with
// line breaks refused) on any input. Its seed corpus is in
// testdata/fuzz/FuzzB64/, written by fuzz/gencorpus.go.
func FuzzB64(f *testing.F) {
	fuzzseed.RequireCorpus(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, string(b))
		checkEncode(t, b)
	})
}

package b64

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzB64 checks Decode and Encode against encoding/base64 (strict, with
// line breaks refused) on any input. Its seed corpus is in
// testdata/fuzz/FuzzB64/, written by fuzz/gencorpus.go.
func FuzzB64(f *testing.F) {
	fzRequireCorpus(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, string(b))
		checkEncode(t, b)
	})
}

// fzRequireCorpus fails the target when its committed seed corpus is
// missing or empty, so that a lost or renamed directory cannot leave a
// target fuzzing from nothing. It must run before f.Fuzz.
func fzRequireCorpus(f *testing.F) {
	f.Helper()
	dir := filepath.Join("testdata", "fuzz", f.Name())
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatalf("seed corpus %s: %v (run: go run ./fuzz/gencorpus.go)", dir, err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			return
		}
	}
	f.Fatalf("seed corpus %s has no files (run: go run ./fuzz/gencorpus.go)", dir)
}

// Command genvectors writes the conformance kit in testdata/vectors/: one
// directory per layer of SPEC.md (envelope, payload, chunks, jwk, times,
// sessions), one JSON file per vector, in the formats of
// testdata/vectors/README.md.
//
// It is a second, deliberately independent implementation of SPEC.md: it
// imports no package of the sealed module, only the standard library and
// XChaCha20-Poly1305, and writes CBOR by hand. The Go tests then check the
// library against the specification rather than against itself. Keys,
// nonces, session IDs and clocks are fixed, so every run writes the same
// bytes. Run it from the repository root:
//
//	go run ./testdata/genvectors
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

// root is the kit's directory, relative to the repository root.
var root = filepath.Join("testdata", "vectors")

// layer is one directory of the kit and the vectors it holds, in file
// order. Each vector is a struct whose fields are in the README's order.
type layer struct {
	dir     string
	vectors []any
}

func main() {
	log.SetFlags(0)
	if _, err := os.Stat(filepath.Join(root, "README.md")); err != nil {
		log.Fatalf("genvectors: run from the repository root (%v)", err)
	}
	layers := []layer{
		{"envelope", envelopeVectors()},
		{"payload", payloadVectors()},
		{"chunks", chunkVectors()},
		{"jwk", jwkVectors()},
		{"times", timeVectors()},
		{"sessions", sessionVectors()},
	}
	for _, l := range layers {
		if err := write(l); err != nil {
			log.Fatalf("genvectors: %s: %v", l.dir, err)
		}
	}
}

// write replaces the layer's directory with its vectors, checking on the
// way that names are unique and that there are positive and negative ones.
func write(l layer) error {
	dir := filepath.Join(root, l.dir)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	seen := map[string]bool{}
	pos, neg := 0, 0
	for i, v := range l.vectors {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil { // Encode ends with a newline
			return err
		}
		var common struct{ Name, Expect string }
		if err := json.Unmarshal(buf.Bytes(), &common); err != nil {
			return err
		}
		switch {
		case common.Name == "" || seen[common.Name]:
			return fmt.Errorf("vector %d: empty or repeated name %q", i+1, common.Name)
		case common.Expect == "ok":
			pos++
		case common.Expect == "invalid" || common.Expect == "absent":
			neg++
		default:
			return fmt.Errorf("%s: expect %q", common.Name, common.Expect)
		}
		seen[common.Name] = true
		p := filepath.Join(dir, fmt.Sprintf("%02d-%s.json", i+1, common.Name))
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if pos == 0 || neg == 0 {
		return fmt.Errorf("%d positive and %d negative vectors; want both", pos, neg)
	}
	fmt.Printf("%-9s %3d vectors (%d positive, %d negative)\n", l.dir+"/", len(l.vectors), pos, neg)
	return nil
}

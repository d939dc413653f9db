// Package fuzz holds the coverage-guided fuzz targets of
// github.com/sealedgo/sealed. It has no code of its own: the targets live in
// the package's _test.go files and use only the public API, and their seed
// corpora are committed under testdata/fuzz/<Target>/ (written by
// gencorpus.go from the golden vectors and from sessions made with fixed
// keys).
//
// Run every target for a while with
//
//	bash fuzz/run.sh 1m
//
// or one of them with
//
//	go test -run '^$' -fuzz '^FuzzOpen$' -fuzztime 1m ./fuzz
//
// A plain `go test ./fuzz` replays the committed corpora (seeds and any
// crashers kept as regression inputs) as ordinary tests.
package fuzz

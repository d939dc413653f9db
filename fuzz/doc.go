// Package fuzz holds the tools of github.com/sealedgo/sealed's fuzz
// targets and no code of its own. The targets live next to the code they
// test, each with its seed corpus in <package>/testdata/fuzz/<Target>/:
//
//   - internal/b64: FuzzB64 (against encoding/base64)
//   - internal/envelope: FuzzOpen (against a reference opener written from
//     SPEC.md), FuzzCanonicalEnvelope (one encoding, one envelope)
//   - internal/cookie: FuzzChunks (reading against a reference reader,
//     writing and reading back)
//   - internal/payload: FuzzPayload (against a reference reader),
//     FuzzPayloadOracle (against fxamacker/cbor), FuzzScalar (the fast
//     paths of Get and Set against the general ones)
//   - internal/jwk: FuzzKeyringConfig
//   - internal/inspect: FuzzInspect
//   - the root package, through the public API: FuzzMiddleware, FuzzLoad,
//     FuzzSave
//
// gencorpus.go writes the seeds from the golden vectors and from sessions
// made with the vectors' keys and a fixed clock:
//
//	go run ./fuzz/gencorpus.go
//
// Run every target for a while with
//
//	bash fuzz/run.sh 1m
//
// or some of them with
//
//	bash fuzz/run.sh 1m FuzzOpen FuzzPayloadOracle
//
// A plain `go test ./...` replays the committed corpora (seeds and any
// failing inputs kept as regression inputs) as ordinary tests.
package fuzz

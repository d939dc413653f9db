module github.com/sealedgo/sealed/redisrevoke

go 1.26.0

require (
	github.com/redis/go-redis/v9 v9.23.0
	github.com/sealedgo/sealed v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/fxamacker/cbor/v2 v2.10.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.8 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

// The tests drive the core module's Manager and conformance suite from
// this checkout.
replace github.com/sealedgo/sealed => ../

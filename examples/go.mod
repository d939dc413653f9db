module github.com/sealedgo/sealed/examples

go 1.26.0

replace github.com/sealedgo/sealed => ../

replace github.com/sealedgo/sealed/redisrevoke => ../redisrevoke

require (
	github.com/aws/aws-lambda-go v1.55.1
	github.com/redis/go-redis/v9 v9.23.0
	github.com/sealedgo/sealed v0.0.0-00010101000000-000000000000
	github.com/sealedgo/sealed/redisrevoke v0.0.0-00010101000000-000000000000
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/fxamacker/cbor/v2 v2.10.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.8 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

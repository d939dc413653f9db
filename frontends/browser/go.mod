module github.com/sealedgo/sealed/frontends/browser

go 1.26.0

replace github.com/sealedgo/sealed => ../../

replace github.com/sealedgo/sealed/examples => ../../examples

replace github.com/sealedgo/sealed/frontends => ../

replace github.com/sealedgo/sealed/redisrevoke => ../../redisrevoke

require (
	github.com/chromedp/cdproto v0.159.0
	github.com/chromedp/chromedp v0.23.0
	github.com/sealedgo/sealed/frontends v0.0.0-00010101000000-000000000000
)

require (
	github.com/fxamacker/cbor/v2 v2.10.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.8 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/sealedgo/sealed v0.0.0-00010101000000-000000000000 // indirect
	github.com/sealedgo/sealed/examples v0.0.0-00010101000000-000000000000 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

// The examples the browser test builds and runs (go build
// github.com/sealedgo/sealed/examples/basic): a main package cannot be
// imported, so the tool directives keep the examples module required.
tool (
	github.com/sealedgo/sealed/examples/basic
	github.com/sealedgo/sealed/examples/cart
)

module github.com/sealedgo/sealed

go 1.26.0

require (
	github.com/go-jose/go-jose/v4 v4.1.8
	github.com/stretchr/testify v1.12.1
	golang.org/x/crypto v0.58.0
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.49.0 // indirect
)

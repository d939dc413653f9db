// Command serverless is an AWS Lambda function behind an API Gateway HTTP
// API (payload format 2.0) that keeps a per-visitor counter in a sealed
// session. There is no session store: the session travels in the event's
// cookies array and comes back in the response's cookies array, through
// Manager.Load and Manager.Save, without net/http.
//
// Routes (configure them in the HTTP API):
//
//	GET  /        count a visit and answer {"visits": N}
//	POST /reset   end the session
//
// The keys come from the SEALED_KEYS environment variable, a JWK Set made
// with "sealed keygen"; the function refuses to start without it. Every
// instance of the function must get the same keys (store them in Secrets
// Manager or an encrypted environment variable, not in the code).
//
// Build and deploy it as usual for the provided.al2023 runtime:
//
//	GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -o bootstrap ./serverless
//
// The test in this directory replays recorded API Gateway events from
// testdata/ through the handler, no AWS account needed:
//
//	go test ./serverless
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/sealedgo/sealed"
)

// keysEnv names the environment variable that holds the keys.
const keysEnv = "SEALED_KEYS"

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	h, err := newHandlerFromEnv(os.Getenv, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		os.Exit(1)
	}
	lambda.Start(h.handle)
}

// newHandlerFromEnv reads the keys from the environment (through getenv)
// and builds the handler. A missing or bad key set is an error that says
// what to do, never what the value was.
func newHandlerFromEnv(getenv func(string) string, logger *slog.Logger) (*handler, error) {
	v := getenv(keysEnv)
	if v == "" {
		return nil, fmt.Errorf("%s is not set: give the function a JWK Set of session keys (make one with \"sealed keygen\")", keysEnv)
	}
	keys, err := sealed.ParseKeyring([]byte(v))
	if err != nil {
		return nil, fmt.Errorf("%s does not hold a valid JWK Set of session keys: %w", keysEnv, err)
	}
	return newHandler(keys, logger)
}

// handler serves the API Gateway events.
type handler struct {
	m      *sealed.Manager
	logger *slog.Logger
}

func newHandler(keys sealed.KeySource, logger *slog.Logger) (*handler, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := sealed.New(keys, &sealed.Options{
		// API Gateway's limit for the request line and all headers is
		// 10 KiB; this budget keeps the session's cookies within 8 KiB.
		Budget: sealed.BudgetAPIGatewayHTTP(),
		Logger: logger,
		// API Gateway serves https only, so the defaults fit: a Secure,
		// HttpOnly, SameSite=Lax cookie named __Host-session.
	})
	if err != nil {
		return nil, err
	}
	return &handler{m: m, logger: logger}, nil
}

// handle answers one request. Errors become HTTP responses; the returned
// error is always nil, so that Lambda does not retry or report a failed
// invocation for what is an ordinary 4xx or 5xx.
func (h *handler) handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	method, path := req.RequestContext.HTTP.Method, req.RawPath
	switch {
	case path == "/" && method == http.MethodGet:
	case path == "/reset" && method == http.MethodPost:
	case path == "/" || path == "/reset":
		return text(http.StatusMethodNotAllowed), nil
	default:
		return text(http.StatusNotFound), nil
	}

	// HTTP APIs (payload 2.0) put the Cookie header's pairs in Cookies,
	// one "name=value" per element; Load takes them as they are.
	// A missing, forged or expired cookie gives a new empty session.
	s, err := h.m.Load(ctx, req.Cookies...)
	if err != nil {
		// Only ErrUnavailable, with a revocation list configured.
		h.logger.Error("load session", "err", err)
		return text(http.StatusServiceUnavailable), nil
	}

	var body any
	if path == "/reset" {
		if err := s.Invalidate(); err != nil {
			h.logger.Error("end session", "err", err)
			return text(http.StatusInternalServerError), nil
		}
		body = map[string]string{"status": "reset"}
	} else {
		n, _, err := sealed.Get[int](s, "visits")
		if err != nil {
			n = 0 // a value of another type: start over
		}
		n++
		if err := s.Set("visits", n); err != nil {
			h.logger.Error("set visits", "err", err)
			return text(http.StatusInternalServerError), nil
		}
		body = map[string]int{"visits": n}
	}

	// Save gives full Set-Cookie values, which an HTTP API sends as
	// one Set-Cookie header each. None when nothing needs writing.
	lines, err := h.m.Save(ctx, s)
	if err != nil {
		// ErrTooLarge or ErrUnavailable: nothing was saved and the client
		// keeps its cookies.
		h.logger.Error("save session", "err", err)
		code := http.StatusInternalServerError
		if errors.Is(err, sealed.ErrUnavailable) {
			code = http.StatusServiceUnavailable
		}
		return text(code), nil
	}
	b, err := json.Marshal(body)
	if err != nil {
		return text(http.StatusInternalServerError), nil
	}
	headers := map[string]string{"Content-Type": "application/json"}
	if len(lines) > 0 {
		// The response sets a per-visitor cookie: shared caches must not
		// keep it, nor serve this body to others.
		headers["Cache-Control"] = "private, no-store"
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusOK,
		Headers:    headers,
		Body:       string(b),
		Cookies:    lines,
	}, nil
}

// text is a plain-text response with the status text as body.
func text(code int) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: code,
		Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		Body:       http.StatusText(code) + "\n",
	}
}

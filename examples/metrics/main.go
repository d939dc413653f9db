// Command metrics shows Options.Observer feeding Prometheus: every session
// load, save and revocation-list call becomes a counter or a histogram,
// served at /metrics next to a visit counter at /.
//
// Run it from the repository root:
//
//	go -C examples run ./metrics
//
// then open http://127.0.0.1:8083 a few times and read
// http://127.0.0.1:8083/metrics. The series:
//
//	sealed_session_loads_total{outcome,reason}  each load: opened, new,
//	    imported, rejected (reason: cookie, format, key, auth, payload,
//	    time), expired (idle, absolute), revoked, failed
//	sealed_session_old_key_loads_total{key_id}  sessions that opened
//	    under a key that is no longer the primary: the rotation runbook
//	    retires a key once its count stops growing
//	sealed_session_saves_total{outcome}         written, unchanged,
//	    expired, too large, failed
//	sealed_session_cookie_bytes                 Set-Cookie bytes per write
//	sealed_revocation_call_seconds{method,outcome}  latency of each call
//	    to the revocation list
//
// The observer runs on the request's goroutine with no lock held; the
// Prometheus client's vectors are safe for that. Flags: -addr HOST:PORT
// (default 127.0.0.1:8083) and -cookies MODE (see the examples' README).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sealedgo/sealed"
	"github.com/sealedgo/sealed/examples/internal/demo"
)

// observer returns an Options.Observer that records into reg.
func observer(reg prometheus.Registerer) func(context.Context, sealed.Event) {
	loads := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sealed_session_loads_total", Help: "Session loads by outcome and, for rejections and expiry, reason.",
	}, []string{"outcome", "reason"})
	oldKey := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sealed_session_old_key_loads_total", Help: "Sessions opened under a key that is not the primary.",
	}, []string{"key_id"})
	saves := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sealed_session_saves_total", Help: "Session saves by outcome.",
	}, []string{"outcome"})
	size := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "sealed_session_cookie_bytes", Help: "Bytes of Set-Cookie values per session write.",
		Buckets: []float64{512, 1024, 2048, 3072, 4096, 6144, 8192, 16384},
	})
	calls := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "sealed_revocation_call_seconds", Help: "Latency of revocation list calls.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 8),
	}, []string{"method", "outcome"})
	reg.MustRegister(loads, oldKey, saves, size, calls)

	return func(_ context.Context, e sealed.Event) {
		switch e.Op {
		case "load":
			loads.WithLabelValues(e.Outcome, e.Reason).Inc()
			if e.OldKey {
				oldKey.WithLabelValues(e.KeyID).Inc()
			}
		case "save":
			saves.WithLabelValues(e.Outcome).Inc()
			if e.Outcome == "written" {
				size.Observe(float64(e.Bytes))
			}
		case "revocation":
			calls.WithLabelValues(e.Reason, e.Outcome).Observe(e.Duration.Seconds())
		}
	}
}

// newServer returns the site: a visit counter at / and the metrics at
// /metrics, with sessions sealed by a fresh development key.
func newServer(insecure bool, reg *prometheus.Registry, logger *slog.Logger) (http.Handler, error) {
	keys, err := sealed.NewKeyring(sealed.GenerateKey("dev"))
	if err != nil {
		return nil, err
	}
	m, err := sealed.New(keys, &sealed.Options{
		AllowInsecure: insecure,
		Revocation:    sealed.NewMemoryRevocationList(),
		Observer:      observer(reg),
		Logger:        logger,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := m.Session(r)
		if err != nil {
			return // the middleware answers 503
		}
		n, _, _ := sealed.Get[int](s, "visits")
		if err := s.Set("visits", n+1); err != nil {
			demo.Fail(w, logger, "count the visit", err)
			return
		}
		fmt.Fprintf(w, "visit %d; see /metrics\n", n+1)
	})))
	return mux, nil
}

func main() {
	fs := flag.NewFlagSet("metrics", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8083", "listen address")
	cookies, err := demo.ParseFlags(fs, os.Args[1:], os.Getenv)
	demo.Check("metrics", 2, err)
	logger := slog.Default()
	insecure := cookies.Insecure(*addr)
	h, err := newServer(insecure, prometheus.NewRegistry(), logger)
	demo.Check("metrics", 1, err)
	logger.Info("listening", "url", "http://"+*addr, "cookies", demo.Describe(insecure))
	demo.Check("metrics", 1, http.ListenAndServe(*addr, h))
}

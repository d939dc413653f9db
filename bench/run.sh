#!/usr/bin/env bash
# Runs the bench module's benchmarks and regenerates the results section of
# BENCHMARKS.md and bench/chart.svg:
#
#   bash bench/run.sh
#
# Steps: go test -bench (-count 6 -benchmem) saved to results/latest.txt,
# benchstat summaries in results/benchstat.txt, then cmd/report (tables,
# ratios, PASS/MISS, chart). Environment:
#   COUNT=6          runs of each benchmark
#   BENCHTIME=1s     -benchtime
#   BENCH=.          -bench regexp
#   WAIT_QUIET=0     seconds to wait, polling, for a quiet machine (load
#                    average < 0.6 and no `go test -fuzz` running) first
#   PROFILE=0        1: also write CPU profiles of sealed's read and write
#                    paths (results/*.prof, not committed) and their top
#                    functions (results/profile-*.txt)
set -euo pipefail
cd "$(dirname "$0")"

count=${COUNT:-6}
benchtime=${BENCHTIME:-1s}
bench=${BENCH:-.}
wait_quiet=${WAIT_QUIET:-0}
export PATH="$PATH:$(go env GOPATH)/bin"

if ! command -v benchstat >/dev/null 2>&1; then
  go install golang.org/x/perf/cmd/benchstat@latest
fi

quiet() {
  local load
  load=$(cut -d' ' -f1 /proc/loadavg)
  awk -v l="$load" 'BEGIN { exit !(l < 0.6) }' && ! pgrep -f -- '-fuzz' >/dev/null
}
waited=0
until quiet || [ "$waited" -ge "$wait_quiet" ]; do
  sleep 30
  waited=$((waited + 30))
done
if quiet; then q="yes"; else q="no: load $(cut -d' ' -f1-3 /proc/loadavg)$(pgrep -f -- '-fuzz' >/dev/null && echo ', a fuzzer running' || true)"; fi
echo "quiet machine: $q" >&2

mkdir -p results
# Build first, so that compiling is not part of the measured period.
go test -c -o results/bench.test.tmp . && rm -f results/bench.test.tmp

tmp=results/latest.txt.tmp
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc: $(nproc)"
  echo "go: $(go env GOVERSION)"
  echo "load-before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "quiet: $q"
} >"$tmp"
go test -run '^$' -bench "$bench" -count "$count" -benchmem -benchtime "$benchtime" -timeout 90m . | tee -a "$tmp"
echo "load-after: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$tmp"
mv "$tmp" results/latest.txt

{
  echo "# benchstat results/latest.txt"
  benchstat results/latest.txt
  echo
  echo "# benchstat -col /lib results/latest.txt (each library against sealed)"
  benchstat -col /lib results/latest.txt
} >results/benchstat.txt

if [ "${PROFILE:-0}" = 1 ]; then
  for op in Read Write; do
    go test -run '^$' -bench "$op/.*/lib=sealed\$" -benchtime 2s -benchmem \
      -cpuprofile "results/$(echo "$op" | tr A-Z a-z).prof" -o results/bench.test . >/dev/null
    {
      go tool pprof -top -nodecount 30 results/bench.test "results/$(echo "$op" | tr A-Z a-z).prof"
      echo
      echo "# cumulative, sealed's own functions and what they call"
      go tool pprof -top -cum -focus 'sealed\.' -nodecount 45 results/bench.test "results/$(echo "$op" | tr A-Z a-z).prof"
    } >"results/profile-$(echo "$op" | tr A-Z a-z).txt" 2>/dev/null
  done
  rm -f results/bench.test
fi

go run ./cmd/report -in results/latest.txt -md ../BENCHMARKS.md -svg chart.svg -load results/load.txt

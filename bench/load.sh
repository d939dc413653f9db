#!/usr/bin/env bash
# Load test: wrk against the basic example (examples/basic), comparing a
# request that reads the session (GET /whoami, with a logged-in session
# cookie; it writes nothing) with a bare handler outside the session
# middleware (GET /healthz). Target: /whoami at least 0.9 times the
# requests/s of /healthz.
#
#   bash bench/load.sh
#
# Loopback only. Environment: PORT (default 18473), DURATION (default
# 10s), CONNECTIONS (default 32), THREADS (default 2), ROUNDS (default 3;
# the endpoints alternate and the median round counts). Results go to
# results/load.txt, which cmd/report adds to BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")"

port=${PORT:-18473}
duration=${DURATION:-10s}
conns=${CONNECTIONS:-32}
threads=${THREADS:-2}
rounds=${ROUNDS:-3}
base="http://127.0.0.1:$port"
load_before=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')

if ! command -v wrk >/dev/null 2>&1; then
  sudo=
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y wrk >/dev/null || { $sudo apt-get update -qq && $sudo apt-get install -y wrk >/dev/null; }
fi

tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

go -C ../examples build -o "$tmp/basic" ./basic
"$tmp/basic" -addr "127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  curl -sf "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$tmp/server.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf "$base/healthz" >/dev/null

# Log in once and keep the session cookie(s) as a Cookie header.
curl -sf -o /dev/null -D "$tmp/login.h" -d name=loadtest "$base/login"
cookie=$(grep -i '^set-cookie:' "$tmp/login.h" | tr -d '\r' | sed 's/^[^:]*: *//; s/;.*//' | grep -v '=$' | paste -sd';' | sed 's/;/; /g')
[ -n "$cookie" ] || { echo "load.sh: login set no cookie" >&2; exit 1; }
# The session reads back, and reading it writes nothing.
who=$(curl -sf -D "$tmp/who.h" -H "Cookie: $cookie" "$base/whoami")
[ "$who" = loadtest ] || { echo "load.sh: /whoami answered \"$who\"" >&2; exit 1; }
if grep -qi '^set-cookie:' "$tmp/who.h"; then echo "load.sh: /whoami wrote a cookie" >&2; exit 1; fi

run() { # name, then wrk arguments; prints requests/s, p50, p99
  wrk -t"$threads" -c"$conns" -d"$duration" --latency "$@" >"$tmp/wrk.out"
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$tmp/wrk.out")
  p50=$(awk '$1 == "50%" { print $2 }' "$tmp/wrk.out")
  p99=$(awk '$1 == "99%" { print $2 }' "$tmp/wrk.out")
  if grep -q 'Non-2xx' "$tmp/wrk.out"; then echo "load.sh: non-2xx responses" >&2; cat "$tmp/wrk.out" >&2; exit 1; fi
  echo "$rps $p50 $p99"
}

# Warm up both endpoints, then alternate.
wrk -t"$threads" -c"$conns" -d2s "$base/healthz" >/dev/null
wrk -t"$threads" -c"$conns" -d2s -H "Cookie: $cookie" "$base/whoami" >/dev/null
: >"$tmp/healthz" ; : >"$tmp/whoami"
for r in $(seq "$rounds"); do
  run "$base/healthz" >>"$tmp/healthz"
  run -H "Cookie: $cookie" "$base/whoami" >>"$tmp/whoami"
  echo "round $r: healthz $(tail -1 "$tmp/healthz")  whoami $(tail -1 "$tmp/whoami")" >&2
done
median() { sort -n -k1,1 "$1" | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'; }
read -r h_rps h_p50 h_p99 <<<"$(median "$tmp/healthz")"
read -r w_rps w_p50 w_p99 <<<"$(median "$tmp/whoami")"
ratio=$(awk -v a="$w_rps" -v b="$h_rps" 'BEGIN { printf "%.2f", a / b }')

mkdir -p results
cat >results/load.txt <<OUT
# bench/load.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ)
wrk=\`wrk -t$threads -c$conns -d$duration --latency\`, median of $rounds alternating rounds, nproc $(nproc), load average before $load_before
healthz_rps=$h_rps
healthz_p50=$h_p50
healthz_p99=$h_p99
whoami_rps=$w_rps
whoami_p50=$w_p50
whoami_p99=$w_p99
ratio=$ratio
cookie_bytes=${#cookie}
note=wrk and the server share the machine's $(nproc) CPUs.
OUT
cat results/load.txt

# Refresh BENCHMARKS.md when benchmark results exist (run.sh makes them).
if [ -f results/latest.txt ]; then
  go run ./cmd/report -in results/latest.txt -md ../BENCHMARKS.md -svg chart.svg -load results/load.txt
fi

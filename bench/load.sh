#!/usr/bin/env bash
# Load test: wrk against the basic example (examples/basic), measuring what
# reading a session costs a request. GET /whoami reads a logged-in session
# (it writes nothing); GET /bare is its baseline, routed the same way
# (the same muxes and cross-origin protection) and answering the same kind
# of response, without the session middleware. Both requests carry the
# same Cookie header, as a browser sends it to every path of the site.
# Target (issue #7): /whoami at least 0.9 times the requests/s of /bare.
# GET /healthz, outside everything and sent without the cookie, is
# measured too, as before, for reference.
#
#   bash bench/load.sh
#
# Loopback only. Environment: PORT (default 18473), DURATION (default
# 10s), CONNECTIONS (default 32), THREADS (default 2), ROUNDS (default 3;
# the endpoints alternate and the median round counts), OUT (default
# bench/results/load.txt, which cmd/report adds to BENCHMARKS.md; another
# path leaves BENCHMARKS.md alone).
set -euo pipefail
out=$(realpath -m "${OUT:-$(dirname "$0")/results/load.txt}")
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
bare=$(curl -sf -H "Cookie: $cookie" "$base/bare")
[ "$bare" = anonymous ] || { echo "load.sh: /bare answered \"$bare\"" >&2; exit 1; }

run() { # wrk arguments; prints requests/s, p50, p99
  wrk -t"$threads" -c"$conns" -d"$duration" --latency "$@" >"$tmp/wrk.out"
  rps=$(awk '/^Requests\/sec:/ { print $2 }' "$tmp/wrk.out")
  p50=$(awk '$1 == "50%" { print $2 }' "$tmp/wrk.out")
  p99=$(awk '$1 == "99%" { print $2 }' "$tmp/wrk.out")
  if grep -q 'Non-2xx' "$tmp/wrk.out"; then echo "load.sh: non-2xx responses" >&2; cat "$tmp/wrk.out" >&2; exit 1; fi
  echo "$rps $p50 $p99"
}

ratio() { # the first field of $1 over that of $2 (requests/s), to 2 decimals
  awk -v a="${1%% *}" -v b="${2%% *}" 'BEGIN { printf "%.2f", a / b }'
}

# Warm up every endpoint, then alternate.
endpoints="healthz bare whoami"
set_args() { # wrk's arguments for endpoint $1, into a; /healthz goes without the cookie
  a=(-H "Cookie: $cookie" "$base/$1")
  [ "$1" != healthz ] || a=("$base/$1")
}
for e in $endpoints; do
  set_args "$e"
  wrk -t"$threads" -c"$conns" -d2s "${a[@]}" >/dev/null
  : >"$tmp/$e"
done
for r in $(seq "$rounds"); do
  line="round $r:"
  for e in $endpoints; do
    set_args "$e"
    run "${a[@]}" >>"$tmp/$e"
    line="$line  $e $(tail -1 "$tmp/$e")"
  done
  echo "$line  whoami/bare $(ratio "$(tail -1 "$tmp/whoami")" "$(tail -1 "$tmp/bare")")" >&2
done
median() { sort -n -k1,1 "$1" | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'; }
read -r h_rps h_p50 h_p99 <<<"$(median "$tmp/healthz")"
read -r b_rps b_p50 b_p99 <<<"$(median "$tmp/bare")"
read -r w_rps w_p50 w_p99 <<<"$(median "$tmp/whoami")"

mkdir -p "$(dirname "$out")"
cat >"$out" <<OUT
# bench/load.sh, $(date -u +%Y-%m-%dT%H:%M:%SZ)
wrk=\`wrk -t$threads -c$conns -d$duration --latency\`, median of $rounds alternating rounds, nproc $(nproc), load average before $load_before
healthz_rps=$h_rps
healthz_p50=$h_p50
healthz_p99=$h_p99
bare_rps=$b_rps
bare_p50=$b_p50
bare_p99=$b_p99
whoami_rps=$w_rps
whoami_p50=$w_p50
whoami_p99=$w_p99
ratio_bare=$(ratio "$w_rps" "$b_rps")
ratio_healthz=$(ratio "$w_rps" "$h_rps")
cookie_bytes=${#cookie}
note=wrk and the server share the machine's $(nproc) CPUs.
OUT
cat "$out"

# Refresh BENCHMARKS.md when benchmark results exist (run.sh makes them).
if [ "$out" = "$PWD/results/load.txt" ] && [ -f results/latest.txt ]; then
  go run ./cmd/report -in results/latest.txt -md ../BENCHMARKS.md -svg chart.svg -load results/load.txt
fi

#!/usr/bin/env bash
# Runs the fuzz targets of ./fuzz one after another, each for DURATION, and
# prints per target the executions, the new interesting inputs and the
# growth of the fuzz cache. Exits non-zero if any target fails; the failing
# input Go writes under fuzz/testdata/fuzz/<Target>/ is named in the output.
#
#   bash fuzz/run.sh DURATION [TARGET...]
#
# DURATION is a -fuzztime value (10s, 10m, 5000x). Without targets, every
# Fuzz* function in ./fuzz is run. FUZZ_PARALLEL, when set, is passed as
# -parallel (the number of fuzzing workers; default GOMAXPROCS).
# FUZZ_MINIMIZE_TIME (default 2s) is passed as -fuzzminimizetime: Go
# minimizes every new interesting input for up to 60s by default, and with
# inputs of kilobytes those minimizations, not fuzzing, take most of a run.
set -euo pipefail

if [ $# -lt 1 ] || [ -z "$1" ]; then
  echo "usage: bash fuzz/run.sh DURATION [TARGET...]" >&2
  exit 2
fi
duration=$1
shift
cd "$(dirname "$0")/.."

pkg=./fuzz
modpath=$(go list -f '{{.ImportPath}}' "$pkg")
cache=$(go env GOCACHE)/fuzz/$modpath
corpus=fuzz/testdata/fuzz

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(go test -list 'Fuzz.*' "$pkg" | grep '^Fuzz' || true)
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "run.sh: no fuzz targets found in $pkg" >&2
  exit 1
fi

flags=(-fuzzminimizetime "${FUZZ_MINIMIZE_TIME:-2s}")
if [ -n "${FUZZ_PARALLEL:-}" ]; then
  flags+=(-parallel "$FUZZ_PARALLEL")
fi

count_files() { # directory -> number of regular files in it (0 if missing)
  if [ -d "$1" ]; then
    find "$1" -maxdepth 1 -type f | wc -l | tr -d ' '
  else
    echo 0
  fi
}

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

rows=()
failed=()
for t in "${targets[@]}"; do
  before=$(count_files "$cache/$t")
  seeds_before=$(find "$corpus/$t" -maxdepth 1 -type f 2>/dev/null | sort || true)
  log=$log_dir/$t.log
  echo "=== $t: go test -run '^\$' -fuzz '^$t\$' -fuzztime $duration ${flags[*]} $pkg"
  rc=0
  go test -run '^$' -fuzz "^$t\$" -fuzztime "$duration" "${flags[@]}" "$pkg" 2>&1 | tee "$log" || rc=$?
  after=$(count_files "$cache/$t")

  # The last statistics line: "fuzz: elapsed: 10s, execs: 1234 (123/sec),
  # new interesting: 5 (total: 60)".
  stats=$(grep -E '^fuzz: elapsed: .*, execs: [0-9]+' "$log" | tail -n 1 || true)
  execs=$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$stats")
  elapsed=$(sed -nE 's/^fuzz: elapsed: ([^,]+),.*/\1/p' <<<"$stats")
  # Average rate over the run (the last line's own rate is often 0/sec).
  rate=$(awk -v e="$elapsed" -v n="${execs:-0}" 'BEGIN {
    s = 0; v = ""
    for (i = 1; i <= length(e); i++) {
      c = substr(e, i, 1)
      if (c ~ /[0-9.]/) { v = v c; continue }
      if (c == "h") s += v * 3600; else if (c == "m") s += v * 60; else if (c == "s") s += v
      v = ""
    }
    if (s > 0 && n > 0) printf "%d", n / s; else printf "-"
  }')
  interesting=$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$stats")
  total=$(sed -nE 's/.*\(total: ([0-9]+)\).*/\1/p' <<<"$stats")

  status=ok
  if [ "$rc" -ne 0 ]; then
    status=FAIL
    failed+=("$t")
    echo "--- $t FAILED (exit $rc)"
    # Go names the input it wrote: "Failing input written to testdata/fuzz/<T>/<id>".
    written=$(sed -nE 's/.*Failing input written to (.*)$/\1/p' "$log" | tail -n 1)
    if [ -n "$written" ]; then
      echo "    failing input: fuzz/$written"
      echo "    reproduce:     go test -run '^$t/$(basename "$written")\$' $pkg"
    fi
    seeds_after=$(find "$corpus/$t" -maxdepth 1 -type f 2>/dev/null | sort || true)
    new_files=$(comm -13 <(printf '%s\n' "$seeds_before") <(printf '%s\n' "$seeds_after") | sed '/^$/d')
    if [ -n "$new_files" ]; then
      echo "    new files in $corpus/$t/ (commit them as regression inputs once fixed):"
      sed 's/^/      /' <<<"$new_files"
    fi
  fi
  rows+=("$(printf '%-24s %-5s %14s %9s %12s %10s %12s' "$t" "$status" "${execs:--}" "${rate:--}" "${interesting:--}" "${total:--}" "$before->$after")")
done

echo
echo "Fuzz summary (fuzztime $duration, ${flags[*]}; cache $cache)"
printf '%-24s %-5s %14s %9s %12s %10s %12s\n' TARGET STATUS EXECS EXECS/S NEW-INTEREST CORPUS CACHE-FILES
for r in "${rows[@]}"; do
  echo "$r"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi

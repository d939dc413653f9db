#!/usr/bin/env bash
# Runs the fuzz targets of the core module one after another, each in its
# own package for DURATION, and prints per target the executions, the new
# interesting inputs and the growth of the fuzz cache. Exits non-zero if
# any target fails; the failing input Go writes under
# <package>/testdata/fuzz/<Target>/ is named in the output.
#
#   bash fuzz/run.sh DURATION [TARGET...]
#
# DURATION is a -fuzztime value (10s, 10m, 5000x). Without targets, every
# Fuzz* function of every package of the module (go list ./...) is run.
# FUZZ_PARALLEL, when set, is passed as -parallel (the number of fuzzing
# workers; default GOMAXPROCS). FUZZ_MINIMIZE_TIME (default 2s) is passed
# as -fuzzminimizetime: Go minimizes every new interesting input for up to
# 60s by default, and with inputs of kilobytes those minimizations, not
# fuzzing, take most of a run.
set -euo pipefail

if [ $# -lt 1 ] || [ -z "$1" ]; then
  echo "usage: bash fuzz/run.sh DURATION [TARGET...]" >&2
  exit 2
fi
duration=$1
shift
cd "$(dirname "$0")/.."

log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

# Every target with its package: `go test -list` prints a package's
# matching names, then its "ok <import path>" line. A package whose tests
# do not build fails the run: its targets would be skipped unseen.
if ! go test -list '^Fuzz' ./... >"$log_dir/list" 2>"$log_dir/list.err"; then
  cat "$log_dir/list" "$log_dir/list.err" >&2
  echo "run.sh: listing the fuzz targets failed" >&2
  exit 1
fi
declare -A pkg_of
all=()
names=()
while IFS= read -r line; do
  case $line in
    Fuzz*) names+=("$line") ;;
    ok*)
      import=$(awk '{print $2}' <<<"$line")
      for n in "${names[@]}"; do
        if [ -n "${pkg_of[$n]:-}" ]; then
          echo "run.sh: $n is defined in ${pkg_of[$n]} and $import; rename one" >&2
          exit 1
        fi
        pkg_of[$n]=$import
        all+=("$n")
      done
      names=()
      ;;
  esac
done <"$log_dir/list"

if [ $# -gt 0 ]; then
  targets=("$@")
  for t in "${targets[@]}"; do
    if [ -z "${pkg_of[$t]:-}" ]; then
      echo "run.sh: no fuzz target $t; there are: ${all[*]}" >&2
      exit 2
    fi
  done
else
  targets=("${all[@]}")
fi
if [ ${#targets[@]} -eq 0 ]; then
  echo "run.sh: no fuzz targets found" >&2
  exit 1
fi

modpath=$(go list -m)
cache=$(go env GOCACHE)/fuzz
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

rows=()
failed=()
for t in "${targets[@]}"; do
  import=${pkg_of[$t]}
  # The package's directory relative to the module root ("." for the root).
  rel=${import#"$modpath"}
  rel=${rel#/}
  dir=${rel:-.}
  pkg=./$rel
  [ -n "$rel" ] || pkg=.
  corpus=$dir/testdata/fuzz/$t
  before=$(count_files "$cache/$import/$t")
  seeds_before=$(find "$corpus" -maxdepth 1 -type f 2>/dev/null | sort || true)
  log=$log_dir/$t.log
  echo "=== $t: go test -run '^\$' -fuzz '^$t\$' -fuzztime $duration ${flags[*]} $pkg"
  # Go 1.26's fuzz coordinator can report its own -fuzztime deadline as a
  # failure ("context deadline exceeded", no failing input written) when
  # a worker is busy at the end (golang/go#75804, fixed in Go 1.27). Such a
  # run is repeated, up to twice; a run that writes an input never is.
  for attempt in 1 2 3; do
    rc=0
    go test -run '^$' -fuzz "^$t\$" -fuzztime "$duration" "${flags[@]}" "$pkg" 2>&1 | tee "$log" || rc=$?
    if [ "$rc" -ne 0 ] && ! grep -q 'Failing input written to' "$log" &&
       grep -qx '    context deadline exceeded' "$log" && [ "$attempt" -lt 3 ]; then
      echo "--- $t: the fuzz coordinator's deadline race (golang/go#75804), no input written; running it again"
      continue
    fi
    break
  done
  after=$(count_files "$cache/$import/$t")

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
    # Go names the input it wrote, relative to the package's directory:
    # "Failing input written to testdata/fuzz/<T>/<id>".
    written=$(sed -nE 's/.*Failing input written to (.*)$/\1/p' "$log" | tail -n 1)
    if [ -n "$written" ]; then
      echo "    failing input: $dir/$written"
      echo "    reproduce:     go test -run '^$t/$(basename "$written")\$' $pkg"
    fi
    seeds_after=$(find "$corpus" -maxdepth 1 -type f 2>/dev/null | sort || true)
    new_files=$(comm -13 <(printf '%s\n' "$seeds_before") <(printf '%s\n' "$seeds_after") | sed '/^$/d')
    if [ -n "$new_files" ]; then
      echo "    new files in $corpus/ (commit them as regression inputs once fixed):"
      sed 's/^/      /' <<<"$new_files"
    fi
  fi
  rows+=("$(printf '%-22s %-5s %14s %9s %12s %10s %12s  %s' "$t" "$status" "${execs:--}" "${rate:--}" "${interesting:--}" "${total:--}" "$before->$after" "$pkg")")
done

echo
echo "Fuzz summary (fuzztime $duration, ${flags[*]}; cache $cache/$modpath/...)"
printf '%-22s %-5s %14s %9s %12s %10s %12s  %s\n' TARGET STATUS EXECS EXECS/S NEW-INTEREST CORPUS CACHE-FILES PACKAGE
for r in "${rows[@]}"; do
  echo "$r"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi

#!/usr/bin/env bash
# Runs go vet and the tests of every module in this repository: the core and
# each sub-module (redisrevoke, examples, bench, ...), which `go test ./...`
# alone would not reach. The race detector is used when cgo can build it.
# Redis-backed tests start their own redis-server; without one installed
# they skip locally and fail under CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."

race=-race
cc=$(go env CC)
if [ "$(go env CGO_ENABLED)" != 1 ] || ! command -v "${cc:-gcc}" >/dev/null 2>&1; then
  race=
  echo "note: no C compiler for cgo; running without -race" >&2
fi

status=0
for mod in $(find . -name go.mod -not -path './.git/*' | sort); do
  dir=$(dirname "$mod")
  echo "== module $dir"
  if ! (cd "$dir" && go vet ./... && go test $race -count=1 "$@" ./...); then
    status=1
  fi
done
exit $status

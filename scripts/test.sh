#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, vet, then every test with
# the race detector (real PostgreSQL, systemd and libvirt where tests need
# them; see TESTING in README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2; echo "$unformatted" >&2; exit 1
fi
go vet ./...
# The libvirt plugin ships built with -tags libvirt_dlopen (a host without
# libvirt still runs every other component); test it that way too, and
# check that it compiles without cgo.
CGO_ENABLED=0 go vet ./plugins/libvirt/
go test -race -timeout 45m ./... "$@"
go test -race -tags libvirt_dlopen -timeout 20m ./plugins/libvirt/ ./internal/testenv/libvirtd/ "$@"

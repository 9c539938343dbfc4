#!/usr/bin/env bash
# The demo, in two parts. Both are interactive when stdin is a terminal and
# unattended (-u) otherwise (CI, a pipe), and both remove everything they
# create.
#
# 1. engine-cleanup on a sandboxed host under a temporary root, with the
#    example external plugin, showing every phase; then a second run that
#    finds nothing left to do.
# 2. A complete engine host (internal/cmd/sandbox): a throwaway PostgreSQL
#    cluster with the engine, DWH and Reports databases, a private systemd
#    manager running the oVirt services, the records, PKI and files
#    engine-setup leaves; engine-cleanup runs on it, the outcome is shown,
#    a second run finds nothing to clean, and everything is torn down.
#
# Arguments go to the sandbox: scripts/demo.sh --legacy (a 3.2 host, engine
# only), --keep (keep its directory). The sandbox alone:
#   go run ./internal/cmd/sandbox demo [--legacy] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

work=$(mktemp -d /tmp/engine-cleanup-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "== building into $work/bin"
# The libvirt built-in is its own binary, found next to engine-cleanup.
go build -tags libvirt_dlopen -o "$work/bin/" ./cmd/engine-cleanup ./cmd/engine-cleanup-libvirt
install -d -m 0755 "$work/plugins"
go build -o "$work/plugins/engine-cleanup-plugin-example" ./examples/engine-cleanup-plugin-example

root=$work/root
echo "== a sandbox host at $root with example-app installed"
install -d "$root/etc/example-app" "$root/run/example-app" "$root/var/lib/example-app/reports" "$root/var/cache/example-app"
echo "listen=8080" > "$root/etc/example-app/example.conf"
touch "$root/run/example-app/running"
for i in 1 2 3; do echo "report $i" > "$root/var/lib/example-app/reports/r$i.txt"; done
echo "cached" > "$root/var/cache/example-app/index"

ec() { "$work/bin/engine-cleanup" --root "$root" --plugin-dir "$work/plugins" "$@"; }

echo; echo "== engine-cleanup --list-plugins"
ec --list-plugins

echo; echo "== engine-cleanup --dry-run"
ec --dry-run

mode=(-u)
if [ -t 0 ]; then mode=(); echo; echo "== engine-cleanup (interactive: answer the questions)"; else echo; echo "== engine-cleanup -u (stdin is not a terminal)"; fi
ec "${mode[@]}"

echo; echo "== engine-cleanup -u again: nothing left to do"
ec -u

echo; echo "== what is left under the sandbox root"
(cd "$root" && find . -type f | sort)

echo; echo "== part 2: a complete engine host: go run ./internal/cmd/sandbox demo${*:+ $*} (--legacy: a 3.2 host)"
# Built and run rather than "go run", which dies of a SIGTERM and leaves
# its child running, and turns every exit code but 0 into 1: the sandbox
# itself gets the signals (it then tears down) and sets the exit code.
go build -tags libvirt_dlopen -o "$work/bin/sandbox" ./internal/cmd/sandbox
"$work/bin/sandbox" demo "$@"

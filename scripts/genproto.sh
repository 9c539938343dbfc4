#!/usr/bin/env bash
# Regenerates the Go code of the plugin protocol from sdk/proto/pluginv1/plugin.proto.
# Usage: scripts/genproto.sh [OUTDIR]   (default: the source tree itself)
# The generator versions are pinned so that regeneration is byte-for-byte stable;
# TestGeneratedCodeIsCurrent compares a fresh generation with the committed files.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.}
bin=$(go env GOPATH)/bin
command -v protoc >/dev/null || { echo "protoc missing: run scripts/setup.sh" >&2; exit 1; }
GOBIN=$bin go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
GOBIN=$bin go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.0
mkdir -p "$out"
PATH=$bin:$PATH protoc -I . \
  --go_out="$out" --go_opt=module=github.com/engine-cleanup/engine-cleanup \
  --go-grpc_out="$out" --go-grpc_opt=module=github.com/engine-cleanup/engine-cleanup \
  sdk/proto/pluginv1/plugin.proto

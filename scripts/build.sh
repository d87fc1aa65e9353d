#!/usr/bin/env bash
# The release wasm build for the tests: scripts/worker-build.sh (the same script wrangler.toml's
# [build] command runs for `wrangler deploy` and `wrangler dev`), with this machine's tools from
# scripts/env.sh. Skipped when sources and build/ are unchanged (EDGEGATE_FORCE_BUILD=1 forces).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EDGEGATE_ROOT"

start=$(date +%s)
with_wasm_rustc sh scripts/worker-build.sh
WASM=build/worker/index.wasm
raw=$(stat -c %s "$WASM")
gz=$(gzip -9 -c "$WASM" | wc -c)
echo "[build] done in $(($(date +%s) - start)) s"
printf '[build] %s: %d bytes raw (%d KiB), %d bytes gzipped (%d KiB)\n' "$WASM" "$raw" $((raw / 1024)) "$gz" $((gz / 1024))

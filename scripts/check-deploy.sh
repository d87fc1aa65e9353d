#!/usr/bin/env bash
# What `wrangler deploy` ships is what the tests ran: a dry-run deploy (which runs wrangler.toml's
# [build] command, scripts/worker-build.sh) bundles the worker into a temporary folder, and its
# wasm must be byte for byte build/worker/index.wasm, the file the end-to-end suite ran. Prints
# both sizes and hashes; exits 1 when they differ.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EDGEGATE_ROOT"

tested=build/worker/index.wasm
[ -f "$tested" ] || { echo "[check-deploy] $tested is missing: run bash scripts/build.sh" >&2; exit 1; }
tested_sha="$(sha256sum "$tested" | cut -d' ' -f1)"
tested_size="$(stat -c %s "$tested")"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
RUSTC="$EDGEGATE_WASM_RUSTC" wrangler deploy --dry-run --outdir "$out" >"$out/wrangler.log" 2>&1 || {
  cat "$out/wrangler.log" >&2
  echo "[check-deploy] wrangler deploy --dry-run failed" >&2
  exit 1
}
mapfile -t bundled < <(find "$out" -name '*.wasm' -type f)
if [ "${#bundled[@]}" -ne 1 ]; then
  echo "[check-deploy] expected one wasm module in the dry-run bundle, found ${#bundled[@]}" >&2
  exit 1
fi
shipped_sha="$(sha256sum "${bundled[0]}" | cut -d' ' -f1)"
shipped_size="$(stat -c %s "${bundled[0]}")"
printf '[check-deploy] tested: %s %s bytes sha256 %s\n' "$tested" "$tested_size" "$tested_sha"
printf '[check-deploy] deploy: %s %s bytes sha256 %s\n' "$(basename "${bundled[0]}")" "$shipped_size" "$shipped_sha"
if [ "$tested_sha" != "$shipped_sha" ]; then
  echo "[check-deploy] the dry-run deploy bundles another wasm than the one the tests ran" >&2
  exit 1
fi
echo "[check-deploy] the deploy bundle is the tested build"

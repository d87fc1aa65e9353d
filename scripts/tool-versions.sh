# shellcheck shell=sh
# The pinned build tools, read from the repository's root by scripts/setup.sh (which installs
# exactly these versions into the tools dir) and scripts/worker-build.sh (which builds with them
# and nothing else, and never installs anything).
TOOLS_DIR="${EDGEGATE_TOOLS_DIR:-$HOME/.cache/edgegate-tools}"
WORKER_BUILD_VERSION="0.8.7"
# The `wasm-bindgen = "=X"` pin in Cargo.toml: the CLI must be the library's exact version.
WASM_BINDGEN_VERSION="$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p; s/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' Cargo.toml | head -n1)"

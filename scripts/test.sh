#!/usr/bin/env bash
# README command 2: every test, in order, stopping at nothing: each step runs and the summary
# says which failed; the exit status is non-zero if any did.
#
#   bash scripts/test.sh
#
#   1. cargo fmt --check
#   2. cargo clippy --all-targets -- -D warnings
#   2b. cargo clippy --target wasm32-unknown-unknown (when rustup has the target)
#   3. cargo test                     (native; vectors read in place from EDGEGATE_VECTORS_DIR,
#                                      default ../shared/vectors; CI=true makes them mandatory)
#   4. release wasm build             (scripts/build.sh: worker-build --release, wasm-opt)
#   5. origin kit                     (node --test origin/test/: @edgegate/origin, no worker needed)
#   6. end-to-end suite               (node --test tests/e2e/: the built worker in workerd)
#   7. deploy bundle                  (scripts/check-deploy.sh: `wrangler deploy --dry-run` ships
#                                      the very wasm the end-to-end suite ran)
#   8. settings check and deploy      (node --test tests/deploy/: `npm run check` on real
#                                      wrangler.toml/.json/.jsonc files, `npm run deploy` and the
#                                      build from a plain shell)
#   9. npm package                    (node --test tests/package/: `npm run pack`, the tarball
#                                      installed in an empty folder without Rust, the check,
#                                      `wrangler dev` on loopback, a dry-run deploy of the tested wasm)
# Long runs (fuzzing, load, benchmarks) have their own commands; see README.md.
set -uo pipefail
# The browser tests need Debian's chromium: set-up installs it for the test command.
export EDGEGATE_SETUP_BROWSER="${EDGEGATE_SETUP_BROWSER:-1}"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
set +e
cd "$EDGEGATE_ROOT"

if [ "${CI:-}" = true ]; then
  export EDGEGATE_REQUIRE_VECTORS=1
fi

total_start=$(date +%s)
names=()
results=()
times=()

step() {
  local name="$1"
  shift
  printf '\n==> %s\n' "$name"
  local start rc
  start=$(date +%s)
  "$@"
  rc=$?
  names+=("$name")
  results+=("$rc")
  times+=($(($(date +%s) - start)))
  return 0
}

step "cargo fmt --check" cargo fmt --all -- --check
step "cargo clippy --all-targets -D warnings" cargo clippy --all-targets -- -D warnings
# The edge module only compiles for wasm32: lint it there too when rustup's toolchain has the
# target (with Debian's offline rustc, rustup's clippy cannot read its crates: skipped).
if wasm_target_ready "$(command -v rustc)"; then
  step "cargo clippy wasm32 -D warnings" cargo clippy --target wasm32-unknown-unknown --lib -- -D warnings
else
  echo "[test] wasm32 clippy skipped: rustup's rustc has no wasm32 std on this machine"
fi
step "cargo test (native)" cargo test
step "wasm release build" bash scripts/build.sh
build_rc="${results[${#results[@]} - 1]}"
step "origin kit (node --test)" node --test --test-reporter=spec origin/test/*.test.mjs
if [ "$build_rc" -eq 0 ]; then
  step "end-to-end (workerd)" node --test --test-reporter=spec tests/e2e/*.test.mjs
  step "deploy bundle is the tested build" bash scripts/check-deploy.sh
  step "settings check and deploy (node --test)" node --test --test-reporter=spec tests/deploy/*.test.mjs
  step "npm package without Rust (node --test)" node --test --test-reporter=spec tests/package/*.test.mjs
else
  for skipped in "end-to-end (workerd)" "deploy bundle is the tested build" "settings check and deploy (node --test)" \
    "npm package without Rust (node --test)"; do
    names+=("$skipped")
    results+=("skipped")
    times+=(0)
  done
fi

failed=0
printf '\n==================== edgegate test summary ====================\n'
for i in "${!names[@]}"; do
  case "${results[$i]}" in
    0) status="PASS" ;;
    skipped) status="SKIP (build failed)"; failed=1 ;;
    *) status="FAIL (exit ${results[$i]})"; failed=1 ;;
  esac
  printf '  %-42s %-22s %4ss\n' "${names[$i]}" "$status" "${times[$i]}"
done
if [ -f build/worker/index.wasm ]; then
  raw=$(stat -c %s build/worker/index.wasm)
  gz=$(gzip -9 -c build/worker/index.wasm | wc -c)
  printf '  wasm: %d KiB raw, %d KiB gzipped\n' $((raw / 1024)) $((gz / 1024))
fi
printf '  total wall time: %ss\n' $(($(date +%s) - total_start))
passed_steps=0
failed_steps=0
for r in "${results[@]}"; do
  if [ "$r" = 0 ]; then passed_steps=$((passed_steps + 1)); else failed_steps=$((failed_steps + 1)); fi
done
if [ "$failed" -ne 0 ]; then
  printf '  RESULT: FAILED\n'
  printf '%d passed, %d failed\n' "$passed_steps" "$failed_steps"
  exit 1
fi
printf '  RESULT: all passed\n'
printf '%d passed, %d failed\n' "$passed_steps" "$failed_steps"

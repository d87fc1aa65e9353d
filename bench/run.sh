#!/usr/bin/env bash
# The performance benchmark, in one command: `bash bench/run.sh` (about 17 minutes on a 2-core
# machine with the wasm built; the end-to-end step is most of it).
#   1. the release wasm build (skipped when current)
#   2. criterion stage micro-benchmarks, natively (benches/stages.rs)
#   3. wasm size and start-up (compile + instantiate) in node, and the wasm's own cost per request
#      in node (bench/steps.mjs: the entry's calls into wasm in a loop; WebCrypto verify apart)
#   4. end to end in workerd under autocannon: pass-through, @clerk/backend, jose, the floors
#      (jose-cache, tinywasm), edgegate; warm, cold; at a fixed offered rate and at saturation
#   5. the table (stdout), bench/results/latest.json, bench/results/chart.svg
# Every load run is bounded in time (BENCH_WARMUP s, then BENCH_RATE_DURATION s at BENCH_RATE req/s,
# then BENCH_DURATION s at saturation, BENCH_ROUNDS rounds) and loopback only.
# BENCH_VARIANTS=label,... runs only those end-to-end rows (bench/e2e.mjs lists the labels);
# BENCH_OUT=dir keeps the e2e figures and the report out of bench/results (smoke runs).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
cd "$EDGEGATE_ROOT"
mkdir -p bench/results

DURATION="${BENCH_DURATION:-5}"
WARMUP="${BENCH_WARMUP:-1}"
ROUNDS="${BENCH_ROUNDS:-3}"
CONNECTIONS="${BENCH_CONNECTIONS:-16}"
POOL="${BENCH_POOL:-80000}"
RATE="${BENCH_RATE:-400}"
RATE_DURATION="${BENCH_RATE_DURATION:-$DURATION}"

echo "[bench] 1/5 release wasm build"
bash scripts/build.sh

echo "[bench] 2/5 criterion stage micro-benchmarks (native)"
# The release profile's panic = "abort" makes cargo build the library twice for a bench
# (abort for the cdylib/bin, unwind for the harness), which then sees two serde_json crates;
# benchmarks build with unwinding.
# The report reads criterion's estimates from target/criterion: last run's are removed first, so
# a failed bench shows as missing figures, never as stale ones.
CRITERION_DIR="${CARGO_TARGET_DIR:-$EDGEGATE_ROOT/target}/criterion"
rm -rf "$CRITERION_DIR/rs256" "$CRITERION_DIR/es256"
if ! CARGO_PROFILE_RELEASE_PANIC=unwind timeout 1200 cargo bench -q --bench stages -- --noplot \
  >bench/results/criterion.log.tmp 2>&1; then
  tail -n 30 bench/results/criterion.log.tmp >&2
  echo "[bench] criterion stage benchmarks failed (log above)" >&2
  exit 1
fi
grep -E '^[a-z0-9_]+/[a-z_]+ +time:' bench/results/criterion.log.tmp || true

echo "[bench] 3/5 wasm size and start-up, wasm steps per request (node)"
timeout 120 node bench/startup.mjs >bench/results/startup.json.tmp
timeout 300 node bench/steps.mjs >bench/results/steps.json.tmp

echo "[bench] 4/5 end to end in workerd (${ROUNDS} rounds: ${RATE_DURATION} s at ${RATE} req/s, ${DURATION} s at saturation, ${CONNECTIONS} connections)"
timeout 1800 node bench/e2e.mjs --duration "$DURATION" --warmup "$WARMUP" --rounds "$ROUNDS" \
  --connections "$CONNECTIONS" --pool "$POOL" --rate "$RATE" --rate-duration "$RATE_DURATION"

echo "[bench] 5/5 report"
node bench/report.mjs

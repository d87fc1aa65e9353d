#!/usr/bin/env bash
# Runs every cargo-fuzz (libFuzzer) target for a bounded time and prints executions and findings.
#
#   bash scripts/fuzz.sh                 # about a minute per target
#   FUZZ_SECONDS=10 bash scripts/fuzz.sh # shorter
#   bash scripts/fuzz.sh token routes    # only these targets
#
# Needs rustup's nightly toolchain (x86_64) and cargo-fuzz (installed here on first use).
# A crash leaves its input in fuzz/artifacts/<target>/; turn it into a regression test in
# tests/fuzz_regressions.rs before fixing.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/fuzz"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "[fuzz] cargo install cargo-fuzz (about 2 minutes, once)"
  cargo install -q cargo-fuzz --locked
fi
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "[fuzz] rustup's nightly toolchain is needed: rustup toolchain install nightly" >&2
  exit 2
fi

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi

declare -A execs findings
status=0
for t in "${targets[@]}"; do
  echo "[fuzz] $t for ${SECONDS_PER_TARGET}s"
  log="$(mktemp)"
  mkdir -p "corpus/$t"
  # A private working corpus, seeded from the committed one, so runs do not grow the repo.
  work="$(mktemp -d)"
  cp -r "corpus/$t/." "$work/" 2>/dev/null || true
  cargo +nightly fuzz run "$t" "$work" -- -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1
  rc=$?
  execs[$t]="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)"
  if [ -z "${execs[$t]}" ]; then
    execs[$t]="$(grep -Eo '#[0-9]+' "$log" | tail -1 | tr -d '#')"
  fi
  if [ "$rc" -ne 0 ]; then
    findings[$t]="CRASH (see fuzz/artifacts/$t/; log $log)"
    status=1
  else
    findings[$t]="none"
    rm -f "$log"
  fi
  rm -rf "$work"
done

printf '\n%-12s %15s  %s\n' target executions findings
for t in "${targets[@]}"; do
  printf '%-12s %15s  %s\n' "$t" "${execs[$t]:-?}" "${findings[$t]}"
done
exit "$status"

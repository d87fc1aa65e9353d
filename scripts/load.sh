#!/usr/bin/env bash
# The load test against the built worker in workerd (see tests/load/load.mjs). Loopback only.
#   bash scripts/load.sh                                  # 200 connections for 60 s
#   LOAD_SECONDS=20 LOAD_CONCURRENCY=100 bash scripts/load.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$EDGEGATE_ROOT"
bash scripts/build.sh
exec node tests/load/load.mjs

#!/usr/bin/env bash
# Runs every Iris test, installing what the tests need first (Debian/Ubuntu).
#
#   bash scripts/test.sh            # the whole suite, as CI runs it
#   IRIS_SLOW=1 IRIS_MODEL_DIR=~/models/x bash scripts/test.sh   # also the slow tier: a real checkpoint
#
# The GPU tests run on whatever Vulkan driver is present; on a machine without a GPU that is
# Mesa's software driver (lavapipe), installed below, so no GPU is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/setup.sh

if [[ "${IRIS_SLOW:-0}" == 1 ]]; then
  cargo test --workspace --locked --profile ci -- --include-ignored
else
  cargo test --workspace --locked --profile ci
fi

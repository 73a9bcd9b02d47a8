#!/usr/bin/env bash
# Runs every Iris test, installing what the tests need first (Debian/Ubuntu).
#
#   bash scripts/test.sh            # the whole suite, as CI runs it
#   IRIS_SLOW=1 IRIS_MODEL_DIR=~/models/x bash scripts/test.sh   # also the slow tier: a real checkpoint
#   (add IRIS_OCR_MODEL=~/models/smoldocling for the OCR quality check with a real checkpoint;
#   with tesseract installed, Tesseract's is checked too)
#
# Layers: the engine's HF-parity tests (CPU and Vulkan: on a machine without a GPU that is
# Mesa's software driver, lavapipe, installed below), the shell's commands on Tauri's mock
# runtime, the page in headless Chromium against a mocked IPC (Playwright), and the real app
# in a real window under Xvfb (tauri-driver + WebKitWebDriver).
set -euo pipefail
cd "$(dirname "$0")/.."

IRIS_SETUP_TESTS=1 source scripts/setup.sh

# The WebDriver bridge for the end-to-end test (cargo install: ~75 s once).
tools=/var/tmp/iris-tools
if [[ ! -x "$tools/bin/tauri-driver" ]]; then
  cargo install --quiet --locked tauri-driver --version '^2' --root "$tools"
fi
export IRIS_TAURI_DRIVER="$tools/bin/tauri-driver"
export IRIS_E2E=1

build_ui

if [[ "${IRIS_SLOW:-0}" == 1 ]]; then
  # The ignored tests, less the OCR checks whose reader is not on this machine.
  skip=()
  if [[ -z "${IRIS_OCR_MODEL:-}" ]]; then
    echo "slow tier: no IRIS_OCR_MODEL, skipping ocr_eval_with_a_real_model"
    skip+=(--skip ocr_eval_with_a_real_model)
  fi
  if ! command -v tesseract >/dev/null; then
    echo "slow tier: tesseract not installed, skipping ocr_eval_with_tesseract"
    skip+=(--skip ocr_eval_with_tesseract)
  fi
  cargo test --workspace --locked --profile ci -- --include-ignored "${skip[@]}"
else
  cargo test --workspace --locked --profile ci
fi

(cd ui && npm test)

#!/usr/bin/env bash
# Runs Iris. Until the desktop app lands, this is the `iris` command-line engine: with no
# arguments it answers a question about a bundled test image using a tiny fixture checkpoint
# (random weights: the answer is gibberish, but every stage runs), so the whole path is
# exercised with no download. With arguments, they go to `iris` (e.g. `generate --model DIR ...`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
if (($# == 0)); then
  set -- generate --model tests/fixtures/models/llava-onevision-tiny \
    --image tests/fixtures/images/square_64x64.png --prompt "What is in this picture?" \
    --max-new-tokens 16
fi
cargo run --quiet --locked -p iris-models --bin iris -- "$@"

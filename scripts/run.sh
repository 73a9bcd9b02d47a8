#!/usr/bin/env bash
# Opens the Iris desktop app (builds it first: the page, then the Rust app with optimised
# dependencies). Data (chats, settings, models) lives in the OS's app data folder, e.g.
# ~/.local/share/dev.iris.app; set IRIS_DATA_DIR to use another folder.
#
#   bash scripts/run.sh            # the app
#   bash scripts/run.sh cli ARGS   # the `iris` command-line engine instead (generate, inspect, …)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
if [[ "${1:-}" == cli ]]; then
  shift
  exec cargo run --quiet --locked -p iris-models --bin iris -- "$@"
fi
build_ui
exec cargo run --quiet --locked -p iris-app --bin iris-app

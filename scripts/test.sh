#!/usr/bin/env bash
# Runs every Iris test, installing what the tests need first (Debian/Ubuntu).
#
#   bash scripts/test.sh            # the whole suite, as CI runs it
#   IRIS_SLOW=1 bash scripts/test.sh   # also the slow tier (real checkpoints via IRIS_MODEL_DIR)
#
# The GPU tests run on whatever Vulkan driver is present; on a machine without a GPU that is
# Mesa's software driver (lavapipe), installed below, so no GPU is needed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential pkg-config mesa-vulkan-drivers libvulkan1)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing system packages: ${missing[*]}" >&2
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# One Cargo target dir for every crate, outside the clone so repeated runs reuse builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/iris-target}"
# Silences the Vulkan loader's warnings where no session runtime dir exists (CI).
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

cargo test --workspace --locked --profile ci

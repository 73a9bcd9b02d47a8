# Shared set-up for scripts/run.sh and scripts/test.sh (sourced, not run): installs the system
# packages Iris needs on Debian/Ubuntu when they are missing, and sets the build environment.

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

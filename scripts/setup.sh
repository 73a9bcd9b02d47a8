# Shared set-up for scripts/run.sh and scripts/test.sh (sourced, not run): installs the system
# packages Iris needs on Debian/Ubuntu when they are missing, Node.js for the page, the page's
# npm packages, and sets the build environment.

sudo_cmd=""
[[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"

# The engine (Vulkan loader + Mesa's drivers, lavapipe included) and the desktop shell (Tauri 2
# on WebKitGTK 4.1; GTK file dialogs).
packages=(build-essential pkg-config curl file mesa-vulkan-drivers libvulkan1
  libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev)
# Extra packages for the tests: headless Chromium (UI tests), Xvfb + WebKit's WebDriver +
# xdotool and GTK's Python bindings (the end-to-end test drags a real file onto the window).
if [[ "${IRIS_SETUP_TESTS:-0}" == 1 ]]; then
  packages+=(chromium xvfb xauth x11-utils xdotool imagemagick webkit2gtk-driver dbus-x11
    at-spi2-core fonts-dejavu-core python3-gi gir1.2-gtk-3.0)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "Installing system packages: ${missing[*]}" >&2
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Node.js >= 20.19 builds the page (Vite 8). Debian/Ubuntu's own package is used when new
# enough; otherwise NodeSource's Node 22 is installed.
node_ok() {
  command -v node >/dev/null && node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a==20&&b>=19)?0:1)'
}
if ! node_ok; then
  echo "Installing Node.js" >&2
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends nodejs npm || true
  if ! node_ok; then
    curl -fsSL https://deb.nodesource.com/setup_22.x | $sudo_cmd bash -
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq nodejs
  fi
fi

# One Cargo target dir for every crate, outside the clone so repeated runs reuse builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/iris-target}"
# Silences the Vulkan loader's warnings where no session runtime dir exists (CI).
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
# Playwright uses Debian's Chromium, never a downloaded browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# The page: npm packages exactly as locked, then the build the app embeds (ui/dist).
build_ui() {
  (
    cd ui
    if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
      npm ci --no-audit --no-fund --loglevel=error
    fi
    npm run --silent build
  )
}

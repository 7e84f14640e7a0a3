# Shared set-up for scripts/dev and scripts/test (sourced, not run).
# Installs only what is missing, so a second run is fast.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON_BIN="${PYTHON:-python3}"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root for: $*" >&2; return 1; fi
}

APT_UPDATED=0
apt_install() {
  # apt_install <command-or-path-to-check> <package>...
  local check="$1"; shift
  if command -v "$check" >/dev/null 2>&1 || [ -e "$check" ]; then return 0; fi
  command -v apt-get >/dev/null || { echo "please install: $*" >&2; return 1; }
  if [ "$APT_UPDATED" -eq 0 ]; then log "apt-get update"; as_root apt-get update -qq; APT_UPDATED=1; fi
  log "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_python_env() {
  local extras="$1" stamp="$VENV/.installed-$1" want
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtualenv in .venv"
    "$PYTHON_BIN" -m venv "$VENV" || { apt_install /usr/lib/python3/dist-packages/venv python3-venv; "$PYTHON_BIN" -m venv "$VENV"; }
  fi
  want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing Python packages ($extras)"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e "$ROOT[$extras]"
    echo "$want" > "$stamp"
  fi
}

# The Mini App front end (webapp/ → webapp/dist, served by the API at /app/).
# `npm ci` runs only when node_modules is missing or package-lock.json changed; the build only
# when the lock or a source file changed since the last build (content hashes, kept in stamps
# inside node_modules/ and dist/, both ignored by git).
WEBAPP_NODE_MIN="20.19"

webapp_sources_hash() {
  (cd "$ROOT/webapp" && find index.html package.json package-lock.json tsconfig.json vite.config.ts src scripts \
    -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}

ensure_node() {
  if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    apt_install npm nodejs npm || true
  fi
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "the Mini App needs Node.js >= $WEBAPP_NODE_MIN and npm: install them (e.g. apt-get install nodejs npm)" >&2
    return 1
  fi
  local have; have="$(node -p 'process.versions.node')"
  if [ "$(printf '%s\n%s\n' "$WEBAPP_NODE_MIN" "$have" | sort -V | head -n1)" != "$WEBAPP_NODE_MIN" ]; then
    echo "the Mini App (Vite 8) needs Node.js >= $WEBAPP_NODE_MIN; this machine has $have" >&2
    echo "(Debian 12's nodejs is 18: install Node.js 20 or newer, e.g. from NodeSource, and run this again)" >&2
    return 1
  fi
}

ensure_webapp() {
  local dir="$ROOT/webapp" want_lock want_build
  ensure_node
  want_lock="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [ ! -d "$dir/node_modules" ] || [ "$(cat "$dir/node_modules/.atelier-lock" 2>/dev/null)" != "$want_lock" ]; then
    log "installing the Mini App's npm packages (npm ci)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want_lock" > "$dir/node_modules/.atelier-lock"
  fi
  want_build="$(webapp_sources_hash)"
  if [ ! -f "$dir/dist/index.html" ] || [ "$(cat "$dir/dist/.atelier-build" 2>/dev/null)" != "$want_build" ]; then
    log "building the Mini App (webapp/dist)"
    (cd "$dir" && npm run --silent build)
    echo "$want_build" > "$dir/dist/.atelier-build"
  fi
}

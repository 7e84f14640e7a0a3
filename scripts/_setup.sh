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

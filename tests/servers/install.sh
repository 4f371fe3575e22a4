#!/usr/bin/env bash
# Installs what the test authorization servers need; idempotent and quiet.
#   - oidc-provider/node_modules via `npm ci`, when missing or when
#     package-lock.json changed since the last install
#   - authlib/.venv with `pip install -r requirements.txt`, when missing or
#     when requirements.txt / the python interpreter changed
# Fails loudly (non-zero exit, the failing tool's own error output).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${PYTHON:-python3}"
trap 'echo "tests/servers/install.sh: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR

die() { echo "tests/servers/install.sh: $*" >&2; exit 1; }

digest() { sha256sum "$@" | sha256sum | cut -d' ' -f1; }

# ---- oidc-provider (Node) ---------------------------------------------------
command -v node >/dev/null || die "node not found (need Node.js >= 20.19)"
command -v npm >/dev/null || die "npm not found"
node -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  if (maj < 20 || (maj === 20 && min < 19)) {
    console.error(`Node.js ${process.versions.node} is too old: oidc-provider 9 needs >= 20.19`);
    process.exit(1);
  }' || die "unsupported Node.js"

OP="$HERE/oidc-provider"
NODE_STAMP="$OP/node_modules/.oauth-clients-install-stamp"
want="$(digest "$OP/package.json" "$OP/package-lock.json")-$(node --version)"
if [ ! -f "$NODE_STAMP" ] || [ "$(cat "$NODE_STAMP")" != "$want" ] \
   || [ ! -f "$OP/node_modules/oidc-provider/package.json" ]; then
  (cd "$OP" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
    || die "npm ci failed in $OP"
  echo "$want" > "$NODE_STAMP"
fi

# ---- Authlib (Python venv) --------------------------------------------------
command -v "$PYTHON" >/dev/null || die "$PYTHON not found (need Python >= 3.10)"
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' \
  || die "$("$PYTHON" --version 2>&1) is too old: need >= 3.10"

AL="$HERE/authlib"
VENV="$AL/.venv"
PY_STAMP="$VENV/.oauth-clients-install-stamp"
want="$(digest "$AL/requirements.txt")-$("$PYTHON" -c 'import sys; print(sys.version.split()[0])')"
if [ ! -f "$PY_STAMP" ] || [ "$(cat "$PY_STAMP")" != "$want" ] || [ ! -x "$VENV/bin/python" ]; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" || die "python -m venv failed (on Debian: apt-get install python3-venv)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$AL/requirements.txt" || die "pip install failed in $AL"
  "$VENV/bin/python" -c 'import authlib, flask, joserfc' || die "venv is broken"
  echo "$want" > "$PY_STAMP"
fi

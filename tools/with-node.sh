#!/bin/sh
# Runs a command with Node >= 22 first on PATH. The project's tools (vitest,
# tsup, nx, lerna, changesets) need it; machines that ship an older Node get
# Node 24 from the npm registry into a private prefix, the system Node untouched.
set -e
DEMI_NODE_PREFIX="${DEMI_NODE_PREFIX:-$HOME/.cache/demi-node}"
major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(major node)" -lt 22 ]; then
  if [ "$(major "$DEMI_NODE_PREFIX/bin/node")" -lt 22 ]; then
    echo "demi: Node $(node --version 2>/dev/null || echo none) is too old; installing Node 24 into $DEMI_NODE_PREFIX" >&2
    npm install --global --prefix "$DEMI_NODE_PREFIX" --no-audit --no-fund node@24 >&2
  fi
  PATH="$DEMI_NODE_PREFIX/bin:$PATH"
  export PATH
fi
PATH="$(pwd)/node_modules/.bin:$PATH"
export PATH
exec "$@"

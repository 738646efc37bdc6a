#!/usr/bin/env bash
# Installs what Podometer needs on a fresh Debian machine with Node.js, then builds it.
#   scripts/setup.sh               npm packages (when package-lock.json changed) and the build
#   scripts/setup.sh --servers     also redis-server, influxdb, kubectl (kubernetes-client), chromium and
#                                  promtool (prometheus) and docker-compose (to check the compose file) from
#                                  Debian's packages, for the demo and the tests
#                                  (which start their own servers)
# Idempotent: a second run does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "Podometer needs Node.js >= 20.19 (found $(node --version))" >&2
  exit 1
fi

# npm packages: reinstall only when the lockfile differs from what node_modules was built from.
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.podometer-lock; then
  # `npm install` (which keeps the locked versions) rather than `npm ci`: the registry this runs
  # against lacks some platform builds of msgpackr-extract (optional, for darwin/win32/arm), and
  # `npm ci` refuses a lockfile without them. msgpackr falls back to JavaScript without it.
  npm install --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.podometer-lock
fi

if [ "${1:-}" = "--servers" ]; then
  missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v influxd >/dev/null || missing+=(influxdb)
  command -v kubectl >/dev/null || missing+=(kubernetes-client)
  command -v chromium >/dev/null || missing+=(chromium)
  command -v promtool >/dev/null || missing+=(prometheus)
  command -v docker-compose >/dev/null || missing+=(docker-compose)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "need root to install ${missing[*]} with apt-get" >&2
      exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

npx tsc -p tsconfig.json

#!/usr/bin/env bash
# Makes a fresh machine ready for the README's two commands: system packages the local
# stack needs (Maven, Redis; a JDK 21+ must already be there), npm packages, a build.
# Quiet and quick when everything is in place already.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf 'bootstrap: %s\n' "$*"; }

node_ok=$(node -e 'const [a,b]=process.versions.node.split(".").map(Number);console.log(a>20||(a===20&&b>=19)?1:0)')
[ "$node_ok" = 1 ] || { say "Node.js >= 20.19 is required (found $(node --version))"; exit 1; }

missing=()
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ] && [ -z "${KAFKA_BROKERS:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]} with apt-get"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian's package may start its own redis on 6379; ours runs on its own port regardless.
  else
    say "please install: ${missing[*]} (e.g. sudo apt-get install ${missing[*]})"; exit 1
  fi
fi

# npm ci when node_modules is absent or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi

# `services` (the demo) skips type-checking the tests, which only `npm test` needs.
if [ "${1:-}" = services ]; then npm run --silent build:services; else npm run --silent build; fi

#!/usr/bin/env bash
# Flash Flow's front door on a bare Debian machine: installs what is missing,
# builds, then hands over to the stack supervisor (stack/src/main.ts).
#   stack/flash.sh start | test | sale … | stop | loadtest … | bench … | chaos …
set -euo pipefail
cd "$(dirname "$0")/.."
command="${1:-start}"

say() { printf '==> %s\n' "$*"; }

# Debian packages the stack runs as real processes.
missing=()
command -v redis-server >/dev/null || missing+=(redis-server redis-tools)
command -v nginx >/dev/null || missing+=(nginx-light)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
# The shop, the test run and the load suite start Prometheus (the tests ask it for
# every dashboard query, promtool, which comes with it, tests the alert rules, and
# a load run's pictures are drawn from it).
case "$command" in start | test | loadtest) with_prometheus=true ;; *) with_prometheus=false ;; esac
if $with_prometheus && ! command -v prometheus >/dev/null; then missing+=(prometheus); fi
for exporter in prometheus-redis-exporter prometheus-postgres-exporter prometheus-nginx-exporter; do
  if $with_prometheus && ! command -v "$exporter" >/dev/null; then missing+=("$exporter"); fi
done
if [ "$command" = bench ] && ! command -v wrk >/dev/null; then missing+=(wrk); fi
# The benchmarks' load client (loadtest/herd/herd.c) is built on first use; the test run checks it.
if { [ "$command" = test ] || [ "$command" = bench ]; } && ! command -v cc >/dev/null; then missing+=(gcc libc6-dev); fi
# The end-to-end tests drive it; the load suite renders its pictures with it.
if { [ "$command" = test ] || [ "$command" = loadtest ]; } && [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
# The fault suite (and its short version in the test run) cuts Redis nodes apart with nftables.
if { [ "$command" = test ] || [ "$command" = chaos ]; } && ! command -v nft >/dev/null; then missing+=(nftables); fi
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  [ "$(id -u)" = 0 ] || { echo "need root to install ${missing[*]} (or install them yourself)" >&2; exit 1; }
  # The packages' own services must not start: the stack runs its own instances.
  policy_added=false
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    policy_added=true
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if $policy_added; then rm -f /usr/sbin/policy-rc.d; fi
fi

# Node.js: a supported LTS. Debian's is 20 (end of life in April 2026); when the
# node on PATH is older than 22, the official binary that the npm registry
# publishes (node-linux-<arch>) goes into .flash/node and comes first on PATH for
# everything below: npm, the build, the tests and every service of the stack.
NODE_VERSION=22.23.5
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 22 ]; then
  case "$(uname -m)" in x86_64) node_arch=x64 ;; aarch64) node_arch=arm64 ;; *) node_arch=$(uname -m) ;; esac
  node_home="$PWD/.flash/node/node_modules/node-linux-$node_arch"
  if [ "$("$node_home/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
    say "installing Node.js $NODE_VERSION (node-linux-$node_arch from the npm registry) into .flash/node"
    npm install --prefix .flash/node --no-save --no-audit --no-fund --loglevel=error "node-linux-$node_arch@$NODE_VERSION"
  fi
  export PATH="$node_home/bin:$PATH"
fi

# npm dependencies, when the lockfile is newer than the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say 'installing npm dependencies (npm ci)'
  npm ci --no-audit --no-fund --loglevel=error
fi

# schemathesis (from PyPI) fuzzes the API from its OpenAPI document in the test run.
SCHEMATHESIS_VERSION=4.32.5
if [ "$command" = test ] && ! .flash/venv/bin/st --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  say "installing schemathesis $SCHEMATHESIS_VERSION into .flash/venv"
  python3 -m venv .flash/venv
  .flash/venv/bin/pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

if [ "$command" != stop ] && [ "$command" != sale ] || [ ! -f api/dist/flashflow.js ]; then
  say 'building the API and the web page'
  npm run --silent build
fi

case "$command" in
  # The load tools start stacks of their own (loadtest/stacks.ts) and build k6 if needed.
  loadtest) shift; LOADTEST_SKIP_BUILD=1 exec node --import tsx loadtest/run.ts "$@" ;;
  bench) shift; LOADTEST_SKIP_BUILD=1 exec node --import tsx loadtest/bench.ts "$@" ;;
  chaos) shift; exec node --import tsx chaos/run.ts "$@" ;;
  *) exec node --import tsx stack/src/main.ts "$@" ;;
esac

#!/usr/bin/env bash
# What the README's two commands (`npm run demo`, `npm test`) run: on a fresh machine with only
# an older Node and npm (and apt), it brings what is missing, then runs the command. Quick when
# everything is there already:
#   - Node 24 and pnpm into ./.tools (scripts/dev-env.sh, from the npm registry);
#   - the dependencies (pnpm install, again only when pnpm-lock.yaml changed);
#   - redis-server, redis-cli, curl and openssl (the tests start their own Redis and cluster, some over
#     TLS with certificates openssl makes; some run curl),
#     and wrk for the bench, with apt-get.
# Usage: scripts/with-tools.sh test|demo|bench
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null || need+=(redis-server)
# redis-cli joins the tests' Redis Cluster (redis-cli --cluster create); sentinels run as redis-server --sentinel.
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v curl >/dev/null || need+=(curl)
# openssl makes the certificates of the tests' TLS Redis.
command -v openssl >/dev/null || need+=(openssl)
# The bench's load generator: an external one, so that it is not what it measures.
if [ "${1:-}" = bench ]; then command -v wrk >/dev/null || need+=(wrk); fi
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} with apt-get" >&2
  if [ "$(id -u)" = 0 ]; then apt=(apt-get); elif command -v sudo >/dev/null; then apt=(sudo apt-get); else
    echo "missing: ${need[*]}; install them (Debian/Ubuntu: apt-get install ${need[*]}) or set REDIS_URL" >&2
    exit 1
  fi
  "${apt[@]}" update -qq
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${need[@]}" >&2
fi

source scripts/dev-env.sh

# pnpm install is skipped while the lockfile is the one installed last.
stamp=node_modules/.auphonic-bridge-installed
lock=$(sha256sum pnpm-lock.yaml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock" ]; then
  pnpm install --frozen-lockfile >&2
  echo "$lock" > "$stamp"
fi

case "${1:-}" in
  test) pnpm run --silent lint && pnpm run --silent typecheck && pnpm run --silent test:all ;;
  demo) exec node scripts/demo.ts ;;
  bench) exec node scripts/bench/main.ts ;;
  *)
    echo "usage: scripts/with-tools.sh test|demo|bench" >&2
    exit 2
    ;;
esac

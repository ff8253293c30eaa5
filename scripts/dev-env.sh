#!/usr/bin/env bash
# Brings the project's toolchain (Node 24 and pnpm, from the npm registry) into
# ./.tools and puts it first on PATH. Source it: `source scripts/dev-env.sh`.
# Needs only an older Node with npm on the machine.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_tools="$_root/.tools"
_node_major="$(cat "$_root/.node-version")"
_pnpm_version="12.21.0"
if ! "$_tools/node_modules/.bin/node" --version 2>/dev/null | grep -q "^v${_node_major}\." ||
  ! "$_tools/node_modules/.bin/pnpm" --version 2>/dev/null | grep -qx "$_pnpm_version"; then
  echo "installing node@${_node_major} and pnpm@${_pnpm_version} into $_tools" >&2
  mkdir -p "$_tools"
  npm install --prefix "$_tools" --no-audit --no-fund --loglevel=error "node@${_node_major}" "pnpm@${_pnpm_version}" >&2 || return 1 2>/dev/null || exit 1
fi
export PATH="$_tools/node_modules/.bin:$PATH"
unset _root _tools _node_major _pnpm_version

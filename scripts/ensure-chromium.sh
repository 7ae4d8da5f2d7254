#!/usr/bin/env bash
# Browser tests drive Debian's Chromium; Playwright's own browser download does not work here.
set -euo pipefail
CHROMIUM=${CUSTOMSLAB_CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then echo "Chromium: $CHROMIUM"; exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ -x "$CHROMIUM" ]; then echo "Chromium: $CHROMIUM"; exit 0; fi
echo "ERROR: $CHROMIUM is missing and could not be installed; browser tests cannot run." >&2
exit 1

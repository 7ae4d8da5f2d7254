#!/usr/bin/env bash
# The screenshots include the Korean interface: without a CJK font, Chromium draws Hangul as empty boxes.
# Debian's fonts-noto-cjk provides Noto Sans CJK (KR, JP, SC, TC), named in static/css/app.css.
set -euo pipefail
# Another install (a second checkout's `make`, unattended upgrades) may hold the package manager's lock:
# wait for it, up to this many seconds, rather than fail.
LOCK_TIMEOUT=${CUSTOMSLAB_APT_LOCK_TIMEOUT:-600}

has_korean_font() {
  command -v fc-list >/dev/null 2>&1 && [ -n "$(fc-list :lang=ko family 2>/dev/null)" ]
}

# `install` waits on dpkg's lock through DPkg::Lock::Timeout; `update` takes the package lists' lock,
# which that option does not cover in every apt release, so a busy lock is retried here until the timeout.
apt_update() {
  local waited=0 out
  until out=$(apt-get -o DPkg::Lock::Timeout="$LOCK_TIMEOUT" update -qq 2>&1); do
    if ! grep -q "Could not get lock" <<<"$out" || [ "$waited" -ge "$LOCK_TIMEOUT" ]; then
      echo "$out" >&2
      return 1
    fi
    sleep 5
    waited=$((waited + 5))
  done
}

if has_korean_font; then
  echo "Korean font: $(fc-match -f '%{family}' 'sans-serif:lang=ko')"
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's fonts-noto-cjk (waiting up to ${LOCK_TIMEOUT}s for the package manager's lock)"
  # fontconfig brings fc-list and the font cache the browser reads.
  apt_update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$LOCK_TIMEOUT" \
    install -y -qq --no-install-recommends fontconfig fonts-noto-cjk >/dev/null || true
  command -v fc-cache >/dev/null 2>&1 && fc-cache -f >/dev/null 2>&1 || true
fi
if has_korean_font; then
  echo "Korean font: $(fc-match -f '%{family}' 'sans-serif:lang=ko')"
  exit 0
fi
echo "ERROR: no font covering Korean is installed (fc-list :lang=ko lists none), and fonts-noto-cjk could" \
  "not be installed (run as root: apt-get install fonts-noto-cjk); the Korean screenshot would show" \
  "empty boxes." >&2
exit 1

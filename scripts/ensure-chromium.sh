#!/usr/bin/env bash
# Browser tests drive Debian's Chromium; Playwright's own browser download does not work here.
set -euo pipefail
CHROMIUM=${CUSTOMSLAB_CHROMIUM:-/usr/bin/chromium}
# Another install (a second checkout's `make`, unattended upgrades) may hold the package manager's lock:
# wait for it, up to this many seconds, rather than fail.
LOCK_TIMEOUT=${CUSTOMSLAB_APT_LOCK_TIMEOUT:-600}

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

if [ -x "$CHROMIUM" ]; then echo "Chromium: $CHROMIUM"; exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium (waiting up to ${LOCK_TIMEOUT}s for the package manager's lock)"
  apt_update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$LOCK_TIMEOUT" \
    install -y -qq chromium >/dev/null || true
fi
if [ -x "$CHROMIUM" ]; then echo "Chromium: $CHROMIUM"; exit 0; fi
echo "ERROR: $CHROMIUM is missing and could not be installed; browser tests cannot run." >&2
exit 1

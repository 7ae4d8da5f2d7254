#!/usr/bin/env bash
# Make sure a PostgreSQL server answers for the test suite; fail loudly when none can be had.
set -euo pipefail
if [ -n "${CUSTOMSLAB_TEST_DATABASE_URL:-}" ]; then
  echo "PostgreSQL tests use CUSTOMSLAB_TEST_DATABASE_URL"
  exit 0
fi
ready() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; }
if ready; then echo "PostgreSQL answers on 127.0.0.1:5432"; exit 0; fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing PostgreSQL from Debian packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
fi
if command -v pg_ctlcluster >/dev/null 2>&1; then
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
  if [ -n "$ver" ]; then
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    for _ in $(seq 1 30); do ready && break; sleep 1; done
  fi
fi
if ready; then echo "PostgreSQL started on 127.0.0.1:5432"; exit 0; fi
echo "ERROR: no PostgreSQL server on 127.0.0.1:5432 and CUSTOMSLAB_TEST_DATABASE_URL is not set." >&2
echo "       The PostgreSQL tests cannot run; refusing to skip them." >&2
exit 1

#!/usr/bin/env bash
# Installs Debian's Chromium, which the report's browser test
# (reports/render: TestReportInBrowser) renders the HTML report in. Idempotent:
# does nothing when a chromium is already on PATH. Needs root or sudo and
# Debian's package archive; nothing else is fetched.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  echo "chromium: $(chromium --version 2>/dev/null || echo present)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-chromium: need root or sudo to apt-get install chromium" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# The package lists may be missing or stale on a fresh machine.
if ! $SUDO apt-get install -y --no-install-recommends chromium fonts-liberation; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y --no-install-recommends chromium fonts-liberation
fi
echo "chromium: $(chromium --version)"

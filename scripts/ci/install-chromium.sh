#!/usr/bin/env bash
# Installs headless Chromium from the distribution's packages for the browser tests of the report pages
# (lib/FineTune.Kit.Tests/Browser). Safe to run again: does nothing when /usr/bin/chromium is already there.
# The tests drive it through Microsoft.Playwright with ExecutablePath=/usr/bin/chromium; no browser is downloaded.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium: already installed ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-chromium.sh: needs root or sudo to install the chromium package" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "chromium: installed ($(/usr/bin/chromium --version 2>/dev/null || echo 'version unknown'))"

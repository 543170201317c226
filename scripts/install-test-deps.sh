#!/usr/bin/env bash
# What the test suite needs beyond the .NET SDK, installed by the project itself (idempotent):
#  - the notebook engine's tools (dotnet-repl, dotnet-interactive), pinned in .config/dotnet-tools.json;
#  - Jupyter's nbconvert and kernel client, to run a notebook the Jupyter way (Debian/Ubuntu packages);
#  - headless Chromium (Debian's package, with a font), which the browser tests drive through Microsoft.Playwright
#    with ExecutablePath=/usr/bin/chromium: no browser is downloaded.
#  - the JavaScript conformance oracles for tokenizers and chat templates, and the independent Parquet writer/reader
#    (parquet-wasm, hyparquet) the Parquet tests compare against (npm ci, versions pinned in the lock files).
# Debian packages are installed when missing and apt-get can be used (root, or sudo without a password).
set -euo pipefail
cd "$(dirname "$0")/.."

dotnet tool restore
if command -v npm >/dev/null 2>&1; then
  npm ci --prefix lib/FineTune.Kit.Tests/Text/Oracle --no-audit --no-fund
  npm ci --prefix lib/FineTune.Kit.Tests/Data/ParquetOracle --no-audit --no-fund
fi

missing=()
[ -x /usr/bin/jupyter-nbconvert ] || missing+=(jupyter-nbconvert python3-nbconvert jupyter-client python3-ipykernel)
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: no apt-get here; install these yourself: ${missing[*]}" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo -n"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

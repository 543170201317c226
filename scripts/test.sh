#!/usr/bin/env bash
# The test suite as the README runs it: first what the tests need beyond the SDK (scripts/install-test-deps.sh), then
# `dotnet test` of the whole solution. Extra arguments go to dotnet test (e.g. --filter, --logger).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
dotnet test FineTuneKit.sln -c Release "$@"

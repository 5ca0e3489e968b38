#!/usr/bin/env bash
# Install everything the test suite needs, then run all of it.
#   ./scripts/test.sh            the whole suite (what CI runs)
#   ./scripts/test.sh -k policy  extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"

# The real Codex CLI, pinned by tools/package-lock.json: end-to-end tests and benchmarks run it.
npm ci --prefix tools --no-audit --no-fund --loglevel=error
export PATH="$PWD/tools/node_modules/.bin:$PATH"
codex --version

.venv/bin/python -m pytest "$@"

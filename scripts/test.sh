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

# The optional LiteLLM proxy (the `proxy` extra: litellm[proxy]==1.106.2) in a venv of its own:
# ~120 packages and ~740 MB that the project's environment should neither carry nor have to agree
# with, and a supply-chain risk kept out of the interpreter that runs codex-route. Every package is
# hash-locked (scripts/proxy-requirements.txt, for CPython 3.11 x86_64); wheels only, no build step.
# Tests marked `proxy` use it (`-m "not proxy"` skips them while iterating).
[ -x .venv-proxy/bin/python ] || python3 -m venv .venv-proxy
if .venv-proxy/bin/python -c 'import platform, sys; sys.exit(not (sys.version_info[:2] == (3, 11) and platform.machine() == "x86_64"))'; then
    .venv-proxy/bin/python -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
        --require-hashes --no-deps -r scripts/proxy-requirements.txt
else
    echo "scripts/test.sh: no hash lock for this Python/platform; installing the plain pin" >&2
    .venv-proxy/bin/python -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
        "litellm[proxy]==1.106.2" "prisma==0.15.0"
fi
export CODEX_ROUTE_TEST_LITELLM_BIN="$PWD/.venv-proxy/bin/litellm"

.venv/bin/python -m pytest "$@"

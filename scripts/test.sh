#!/usr/bin/env bash
# Install what the test suite needs, check lint, format and types, then run every test.
#   ./scripts/test.sh               the whole suite (what CI runs, through .ci/run)
#   ./scripts/test.sh -k route      extra arguments go to pytest (lint and types still run first)
#   ./scripts/test.sh -m "not slow and not proxy and not e2e and not browser"    the fast subset
# A second run reinstalls nothing unless its inputs changed: each environment remembers a
# fingerprint of what it was installed from (pyproject.toml, the lock files, the interpreter).
set -euo pipefail
cd "$(dirname "$0")/.."

# fingerprint FILE...: the interpreter and node versions plus the files' bytes, as one sha256.
fingerprint() {
    { python3 -VV; node --version 2>/dev/null || true; cat "$@"; } | sha256sum | cut -d' ' -f1
}
# fresh STAMP FILE...: true when STAMP holds the fingerprint of FILE... (nothing to install).
fresh() {
    local stamp=$1
    shift
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(fingerprint "$@")" ]
}

# debian_install PACKAGE...: Debian packages the tests need (sudo only when not root).
debian_install() {
    echo "scripts/test.sh: installing Debian's $*" >&2
    local as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo)
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "$@"
}

# codex-route with its test extras (pytest, hypothesis, ruff, mypy), editable.
if ! fresh .venv/.codex-route-installed pyproject.toml; then
    echo "scripts/test.sh: installing codex-route[test] into .venv" >&2
    python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
    fingerprint pyproject.toml > .venv/.codex-route-installed
fi

# The real Codex CLI, pinned by tools/package-lock.json: end-to-end tests and benchmarks run it.
if ! fresh tools/node_modules/.codex-route-installed tools/package-lock.json; then
    echo "scripts/test.sh: installing the pinned @openai/codex into tools/node_modules" >&2
    npm ci --prefix tools --no-audit --no-fund --loglevel=error
    fingerprint tools/package-lock.json > tools/node_modules/.codex-route-installed
fi
export PATH="$PWD/tools/node_modules/.bin:$PATH"
# Show which codex runs, without letting it touch the real ~/.codex (a directory of the
# checkout's own: codex warns about a CODEX_HOME under /tmp).
probe_home="$PWD/.codex-probe-home"
rm -rf "$probe_home" && mkdir "$probe_home"
HOME="$probe_home" CODEX_HOME="$probe_home" codex --version
rm -rf "$probe_home"

# The optional LiteLLM proxy (the `proxy` extra: litellm[proxy]==1.106.2) in a venv of its own:
# ~120 packages and ~740 MB that the project's environment should neither carry nor have to agree
# with, and a supply-chain risk kept out of the interpreter that runs codex-route. Every package is
# hash-locked (scripts/proxy-requirements.txt, for CPython 3.11 x86_64); wheels only, no build step.
# Tests marked `proxy` use it (`-m "not proxy"` skips them while iterating).
if ! fresh .venv-proxy/.codex-route-installed scripts/proxy-requirements.txt; then
    echo "scripts/test.sh: installing the pinned LiteLLM into .venv-proxy" >&2
    [ -x .venv-proxy/bin/python ] || python3 -m venv .venv-proxy
    if .venv-proxy/bin/python -c 'import platform, sys; sys.exit(not (sys.version_info[:2] == (3, 11) and platform.machine() == "x86_64"))'; then
        .venv-proxy/bin/python -m pip install --quiet --disable-pip-version-check \
            --only-binary=:all: --require-hashes --no-deps -r scripts/proxy-requirements.txt
    else
        echo "scripts/test.sh: no hash lock for this Python/platform; installing the plain pin" >&2
        .venv-proxy/bin/python -m pip install --quiet --disable-pip-version-check \
            --only-binary=:all: "litellm[proxy]==1.106.2" "prisma==0.15.0"
    fi
    fingerprint scripts/proxy-requirements.txt > .venv-proxy/.codex-route-installed
fi
export CODEX_ROUTE_TEST_LITELLM_BIN="$PWD/.venv-proxy/bin/litellm"

# Headless Chromium for the browser tests (marker `browser`: `codex-route ui`, the HTML report),
# from Debian: Playwright drives it through executable_path and never downloads a browser of its
# own. Installed only when missing, so a second run installs nothing.
if [ ! -x /usr/bin/chromium ]; then
    debian_install chromium
fi
export CODEX_ROUTE_TEST_CHROMIUM_BIN=/usr/bin/chromium

# PostgreSQL for the team-history tests (marker `team`; each starts its own throwaway server with
# initdb + pg_ctl): Debian's postgresql, only when no initdb/pg_ctl is on PATH or in Debian's
# versioned directory, so a second run installs nothing.
if ! { command -v initdb && command -v pg_ctl; } >/dev/null 2>&1 \
    && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    debian_install postgresql
fi

# Redis for the team tests (marker `team`: gateway instances sharing router state), from Debian.
# Each test starts its own throwaway server on a free 127.0.0.1 port; the package's own service is
# not used. Installed only when missing, so a second run installs nothing.
if ! command -v redis-server >/dev/null 2>&1; then
    debian_install redis-server
fi
# The TLS Redis test makes a throwaway CA and server certificate with the openssl CLI.
if ! command -v openssl >/dev/null 2>&1; then
    debian_install openssl
fi

# Lint, format and types: the same checks as .pre-commit-config.yaml.
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

.venv/bin/python -m pytest "$@"

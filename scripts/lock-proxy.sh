#!/usr/bin/env bash
# Regenerate scripts/proxy-requirements.txt: the hash-locked dependency set of the `proxy` extra
# (litellm[proxy]==1.106.2 + prisma), resolved by pip for this machine's Python and platform.
# Review the diff before committing it: every changed line is a package that will run here.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
    --dry-run --ignore-installed --report "$tmp/report.json" "litellm[proxy]==1.106.2" "prisma==0.15.0"
python3 - "$tmp/report.json" > scripts/proxy-requirements.txt <<'PY'
import json
import sys

rows = sorted((i["metadata"]["name"].lower(), i["metadata"]["version"],
               i["download_info"]["archive_info"]["hashes"]["sha256"])
              for i in json.load(open(sys.argv[1]))["install"])
print("# The proxy's full dependency set, hash-locked: scripts/test.sh installs it into .venv-proxy with")
print("# pip --require-hashes --no-deps --only-binary=:all:. Wheels for CPython 3.11 on manylinux x86_64")
print("# (the project's machines). Regenerate with scripts/lock-proxy.sh; the top-level pins are")
print("# litellm[proxy]==1.106.2 (1.82.7, 1.82.8 and 1.107.0 were compromised releases) and prisma==0.15.0.")
print()
for name, version, sha in rows:
    if name == "litellm" and version in ("1.82.7", "1.82.8", "1.107.0"):
        sys.exit(f"refusing to lock the compromised litellm {version}")
    print(f"{name}=={version} \\\n    --hash=sha256:{sha}")
PY
echo "wrote scripts/proxy-requirements.txt ($(grep -c '^[a-z]' scripts/proxy-requirements.txt) packages)"

"""A 200 MB piped log goes through `run --dry-run` in bounded memory (issue: bad input)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SIZE = 200 * 1024 * 1024


def _write_log(path: Path, size: int) -> None:
    block = "".join(
        f"2026-11-21T10:{i // 60 % 60:02d}:{i % 60:02d}Z INFO [worker-{i % 7}] "
        f"request id={i * 7919 % 100003} took {i % 250} ms status=200\n"
        for i in range(2000)
    ).encode()
    error = b"2026-11-21T11:00:00Z ERROR [worker-3] database connection lost: timeout after 30 s\n"
    with path.open("wb") as handle:
        written = 0
        while written < size:
            handle.write(block)
            written += len(block)
        handle.write(error)


@pytest.mark.slow
def test_200_mb_log_streams_in_bounded_memory(tmp_path: Path) -> None:
    log = tmp_path / "huge.log"
    _write_log(log, SIZE)
    # The child reports its own peak RSS. Not getrusage: on Linux ru_maxrss survives exec, so it
    # would include the pytest parent's RSS copied at fork. VmHWM belongs to the new image only.
    code = (
        "import sys\nfrom codex_router.cli import main\n"
        "rc = main(['run', '--dry-run', '--json', 'fix it'])\n"
        "try:\n"
        "    hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]\n"
        "except OSError:  # not Linux: the best figure there is\n"
        "    import resource; hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "sys.stderr.write(f'MAXRSS_KIB {hwm}\\n')\n"
        "sys.exit(rc)\n"
    )
    with log.open("rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-c", code],
            stdin=stdin,
            capture_output=True,
            env=dict(os.environ),
            check=False,
        )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    plan = json.loads(done.stdout)
    assert plan["tokens"]["raw"] > 50_000_000
    assert plan["tokens"]["clean"] <= plan["tokens"]["budget"]
    assert plan["classification"]["long_context"] is False or plan["tokens"]["clean"] > 60000
    peak_kib = int(done.stderr.decode().rsplit("MAXRSS_KIB ", 1)[1].split()[0])
    # "not more than a few times its size": the pipeline streams, so far less than one copy.
    assert peak_kib * 1024 < SIZE, f"peak RSS {peak_kib / 1024:.0f} MiB for a {SIZE >> 20} MiB log"

"""Stop signals at the worst moments of an attempt: while codex is spawned, before it exists.

Each case runs in its own Python process (signal handlers belong to a main thread; a hang shows as
the subprocess timeout, not as a stuck test run). The interleaving is forced, not hoped for: the
signal is sent from inside ``subprocess.Popen`` (the spawn), or before the attempt starts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

DRIVER = textwrap.dedent(
    """
    import json, os, signal, subprocess, sys, time
    from codex_router.codex import launch

    when, sig, child, timeout = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    launch.INTERRUPT_GRACE_SECONDS = float(os.environ.get("GRACE", "10"))
    launch.TERMINATE_GRACE_SECONDS = 0.5
    real_popen = subprocess.Popen

    def ignore_stop_signals():  # in the child before exec: SIG_IGN survives exec
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)

    def popen_hit_by_a_signal(*args, **kwargs):
        os.kill(os.getpid(), sig)  # the handler runs now: codex does not exist yet
        if os.environ.get("CHILD_IGNORES"):
            kwargs["preexec_fn"] = ignore_stop_signals
        return real_popen(*args, **kwargs)

    if when == "spawn":
        launch.subprocess.Popen = popen_hit_by_a_signal
    spec = launch.LaunchSpec([sys.executable, "-c", child], {}, "prompt", timeout or None)
    started = time.monotonic()
    with launch.StopSignals() as held:
        if when == "before":
            os.kill(os.getpid(), sig)
        result = launch.run_attempt(spec, stop_signals=held)
    print(json.dumps({
        "outcome": result.outcome, "signal": result.stop_signal, "code": result.exit_code,
        "seconds": time.monotonic() - started,
    }))
    """
)

SLEEPS = "import time; time.sleep(300)"


def drive(
    when: str, sig: int, child: str, timeout: float = 0, grace: float = 10, ignores: bool = False
) -> dict:
    env = {"PYTHONPATH": str(REPO), "GRACE": str(grace), "PATH": "/usr/bin:/bin"}
    if ignores:  # codex ignores every stop signal, from its first instruction on
        env["CHILD_IGNORES"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, when, str(sig), child, str(timeout)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,  # a hang fails here instead of blocking the suite
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("sig", [2, 15, 1])
def test_a_signal_while_codex_is_spawned_is_forwarded_to_it(sig):
    result = drive("spawn", sig, SLEEPS)
    assert result["outcome"] == "interrupted" and result["signal"] == sig
    assert result["code"] == -sig  # codex itself got the signal, at once
    assert result["seconds"] < 30


def test_the_timeout_still_holds_after_a_signal_during_the_spawn():
    # codex ignores every stop signal and the interrupt grace is long: only the deadline ends it.
    result = drive("spawn", 15, SLEEPS, timeout=1, grace=120, ignores=True)
    assert result["outcome"] == "interrupted" and result["signal"] == 15
    assert result["code"] == -9  # the deadline's SIGTERM was ignored; its SIGKILL was not
    assert result["seconds"] < 30


def test_a_signal_before_the_attempt_means_codex_is_never_started():
    result = drive("before", 15, SLEEPS)
    assert result["outcome"] == "interrupted" and result["signal"] == 15
    assert result["code"] is None and result["seconds"] < 5

"""The calibrated cost estimate's inputs, read from the history store.

Reads each alias's recent usage (``history/usage.py``, bounded and indexed) and hands it to the
pure calibration (``routing/calibration.py``). Without a history file, or with
``cost_model.calibrate_min_runs: 0``, nothing is opened: a dry run then loads no ``sqlite3``.
"""

from __future__ import annotations

from collections.abc import Sequence

from codex_router.dirs import AppDirs
from codex_router.errors import CodexRouteError
from codex_router.history import HISTORY_FILE_NAME
from codex_router.policy.model import Policy
from codex_router.routing.calibration import Calibration, UsageSample, calibrate


def read_calibrations(
    dirs: AppDirs, policy: Policy, aliases: Sequence[str]
) -> dict[str, Calibration]:
    """A calibration for each of ``aliases``: from the user's runs when there are enough, else
    the policy's values (with how many runs were found)."""
    min_runs = int(policy.get("cost_model.calibrate_min_runs"))
    overhead = int(policy.get("cost_model.codex_overhead_input_tokens"))
    usage: dict[str, list[tuple[int, int, int]]] = {}
    if min_runs > 0 and (dirs.state_dir / HISTORY_FILE_NAME).exists():
        from codex_router.history.usage import recent_usage  # lazy: sqlite3, only with a history

        try:
            usage = recent_usage(dirs, aliases, int(policy.get("cost_model.calibrate_window")))
        except CodexRouteError:
            usage = {}  # an unreadable history: `history`/`doctor` name it; the plan goes on
    return {
        alias: calibrate(
            alias,
            [UsageSample(*row) for row in usage.get(alias, ())],
            min_runs=min_runs,
            policy_overhead=overhead,
        )
        for alias in aliases
    }

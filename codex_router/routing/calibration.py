"""The cost estimate's Codex overhead and output length, learned from the user's own runs. Pure.

A Codex turn reports more input than the prompt: its instructions, tool schemas and tool round
trips. ``cost_model.codex_overhead_input_tokens`` (9,000) guesses that; the history knows it.
For each alias, the recorded runs that succeeded in one attempt with Codex's usage give one
sample each: overhead = reported input - the prompt's clean tokens, output ratio = reported
output / reported input. The estimate uses their **medians** (a few runs with long tool loops
do not drag it, as a mean would) once at least ``cost_model.calibrate_min_runs`` samples exist;
below that, or with 0, the policy's fixed values. The reader (``run/calibration.py``) takes only
the alias's newest ``cost_model.calibrate_window`` samples, so the estimate follows the user's
current habits and Codex's current prompt.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple


class UsageSample(NamedTuple):
    """One recorded run: the prompt's clean tokens and what Codex reported."""

    prompt_tokens: int
    input_tokens: int
    output_tokens: int


class Calibration(NamedTuple):
    """What the estimate adds to the prompt for one alias, and what that rests on."""

    alias: str
    overhead_tokens: int  # Codex's own input per run
    output_ratio: float | None  # output / input; None: the policy's expected_output_tokens
    runs: int  # the samples found (the estimate uses them when ``calibrated``)
    min_runs: int  # cost_model.calibrate_min_runs (0: calibration off)

    @property
    def calibrated(self) -> bool:
        return self.min_runs > 0 and self.runs >= self.min_runs

    def output_tokens(self, input_tokens: int, fixed: int) -> int:
        """The answer's expected length: the learned share of ``input_tokens``, else ``fixed``."""
        if self.output_ratio is None:
            return fixed
        return max(1, round(self.output_ratio * input_tokens))

    def describe(self) -> str:
        """``overhead 7,412 tokens, output 3.1% of input, from your last 40 runs on ALIAS``
        or ``overhead 9,000 tokens: policy default (3 of 5 runs recorded on ALIAS)``."""
        if self.calibrated:
            ratio = f", output {self.output_ratio:.1%} of input" if self.output_ratio else ""
            runs = "run" if self.runs == 1 else f"{self.runs} runs"
            return (
                f"overhead {self.overhead_tokens:,} tokens{ratio}, from your last {runs} on "
                f"{self.alias}"
            )
        if self.min_runs == 0:
            why = "calibrate_min_runs is 0"
        else:
            why = f"{self.runs} of {self.min_runs} runs recorded on {self.alias}"
        return f"overhead {self.overhead_tokens:,} tokens: policy default ({why})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": "history" if self.calibrated else "policy",
            "overhead_tokens": self.overhead_tokens,
            "output_ratio": None if self.output_ratio is None else round(self.output_ratio, 4),
            "runs": self.runs,
            "min_runs": self.min_runs,
        }


def median(values: Sequence[float]) -> float:
    """The middle value (the mean of the two middle ones for an even count); ``values`` not
    empty. Here rather than ``statistics``: a dry run imports nothing it can do without."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2


def calibrate(
    alias: str,
    samples: Sequence[UsageSample],
    *,
    min_runs: int,
    policy_overhead: int,
) -> Calibration:
    """The overhead and output ratio for ``alias``: the samples' medians when there are at least
    ``min_runs`` (> 0) of them, else ``policy_overhead`` and no ratio (the policy's output).

    A sample whose reported input is below the prompt (a cached prefix Codex did not count, a
    run recorded by another tokenizer) counts as overhead 0, not as a negative one.
    """
    usable = [s for s in samples if s.input_tokens > 0]
    if min_runs <= 0 or len(usable) < min_runs:
        return Calibration(alias, policy_overhead, None, len(usable), max(0, min_runs))
    overhead = round(median([max(0, s.input_tokens - s.prompt_tokens) for s in usable]))
    ratio = median([s.output_tokens / s.input_tokens for s in usable])
    return Calibration(alias, overhead, ratio, len(usable), min_runs)

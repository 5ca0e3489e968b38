"""Cost estimates from the policy's price table (USD per million tokens). Pure.

A Codex turn sends more than the user's prompt: its system prompt and tool schemas add
``cost_model.codex_overhead_input_tokens``. Output length is unknown before the run, so the
estimate uses ``max_output_tokens`` when set, else ``cost_model.expected_output_tokens``.
With enough recorded runs of an alias (``cost_model.calibrate_min_runs``), both the overhead
and the expected output are the user's own (``routing/calibration.py``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from codex_router.policy.model import Policy
from codex_router.routing.calibration import Calibration


class CostEstimate(NamedTuple):
    """The estimated cost of one run on one alias (an estimate: the answer's length is unknown)."""

    alias: str
    input_tokens: int
    output_tokens: int
    usd: float
    #: The overhead and output it used, and what they rest on (the user's runs or the policy).
    basis: Calibration | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "alias": self.alias,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "usd": round(self.usd, 6),
            "basis": None if self.basis is None else self.basis.to_dict(),
        }


def estimate_cost(
    policy: Policy,
    alias: str,
    prompt_tokens: int,
    max_output_tokens: int,
    basis: Calibration | None = None,
) -> CostEstimate:
    """``basis``: the alias's calibration; used when ``calibrated``, else the policy's values
    (the user's ``max_output_tokens``, when set, is the output either way)."""
    spec = policy.resolve_alias(alias)
    expected = policy.get("cost_model.expected_output_tokens")
    if basis is not None and basis.calibrated:
        input_tokens = prompt_tokens + basis.overhead_tokens
        output_tokens = max_output_tokens or basis.output_tokens(input_tokens, expected)
    else:
        input_tokens = prompt_tokens + policy.get("cost_model.codex_overhead_input_tokens")
        output_tokens = max_output_tokens or expected
    usd = (input_tokens * spec.input_usd_per_mtok + output_tokens * spec.output_usd_per_mtok) / 1e6
    return CostEstimate(alias, input_tokens, output_tokens, usd, basis)


def estimate_all(
    policy: Policy,
    prompt_tokens: int,
    max_output_tokens: int,
    calibrations: dict[str, Calibration] | None = None,
) -> dict[str, CostEstimate]:
    """An estimate for every alias that has its own prices (legacy names are skipped);
    ``calibrations``: by alias, from the history (``run/calibration.py``)."""
    found = calibrations or {}
    return {
        name: estimate_cost(policy, name, prompt_tokens, max_output_tokens, found.get(name))
        for name, spec in policy.aliases.items()
        if spec.alias_of is None
    }


def usage_cost_usd(
    policy: Policy,
    alias: str,
    input_tokens: int,
    cached_input_tokens: int,
    output_tokens: int,
) -> float:
    """What the tokens Codex reported cost at ``alias``'s prices: cached input at
    ``cached_input_usd_per_mtok`` (the input price when unset), the rest of the input at
    ``input_usd_per_mtok``, output (reasoning included, as Codex counts it) at
    ``output_usd_per_mtok``."""
    spec = policy.resolve_alias(alias)
    cached = max(0, min(cached_input_tokens, input_tokens))
    cached_price = (
        spec.input_usd_per_mtok
        if spec.cached_input_usd_per_mtok is None
        else spec.cached_input_usd_per_mtok
    )
    return (
        (input_tokens - cached) * spec.input_usd_per_mtok
        + cached * cached_price
        + output_tokens * spec.output_usd_per_mtok
    ) / 1e6


#: The provider family an upstream of an alias (``upstreams``) stands for.
_UPSTREAM_FAMILY = {"anthropic": "claude"}


def served_provider(policy: Policy, alias: str, provider: str, path: str | None) -> str:
    """The provider family a run reached, for the history: the family the plan chose, or with
    ``auto`` the one the path reaches (standard: openai, Codex's own provider; huggingface: the
    Hugging Face router; litellm: the alias's first upstream). ``auto`` when nothing says."""
    if provider != "auto" or path is None:
        return provider
    if path == "standard":
        return "openai"
    if path == "huggingface":
        return "huggingface"
    upstreams = policy.resolve_alias(alias).upstreams
    if not upstreams:
        return provider
    return _UPSTREAM_FAMILY.get(upstreams[0], upstreams[0])

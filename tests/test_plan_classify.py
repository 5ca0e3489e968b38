"""The plan classifies with the piped attachment's signals and the policy's score cut-points."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_router.dirs import AppDirs
from codex_router.routing.classify import Reason
from codex_router.routing.route import ReadinessFacts
from codex_router.run.plan import Plan, RunRequest, build_plan

UP = ReadinessFacts(frozenset({"OPENAI_API_KEY"}), True, "")
LINKS = [f"see https://example.com/issues/{n}\n" for n in range(6)]
INSTRUCTION = "Look into the report below and make it work again. " * 8  # 80 words, no keyword


def _plan(tmp_path: Path, attachment: list[str] | None, policy: str | None = None) -> Plan:
    policy_file = None
    if policy is not None:
        policy_file = tmp_path / "policy.yaml"
        policy_file.write_text(policy, encoding="utf-8")
    request = RunRequest(INSTRUCTION, attachment=attachment, policy_file=policy_file)
    dirs = AppDirs(tmp_path / "c", tmp_path / "s", tmp_path / "k")
    return build_plan(request, env={}, dirs=dirs, count=len, gather=lambda *a, **k: UP)


def _links_reason(reasons: tuple[Reason, ...]) -> str:
    return next(r.detail for r in reasons if r.rule == "signal.links")


def test_the_attachment_reaches_the_signals(tmp_path: Path) -> None:
    # The compressor folds similar lines (the rest is counted in a marker): some links remain.
    without = _plan(tmp_path, None).classification
    with_links = _plan(tmp_path, LINKS).classification
    assert _links_reason(without.reasons).startswith("links 0 ")
    assert not _links_reason(with_links.reasons).startswith("links 0 ")
    assert without.complexity == "medium"
    assert with_links.complexity == "complex"


@pytest.mark.parametrize(
    ("policy", "level", "cut"),
    [
        ("classification:\n  light_below: 9\n  deep_from: 9.5\n", "simple", "light_below"),
        ("classification:\n  light_below: -9\n  deep_from: -8\n", "complex", "deep_from"),
    ],
    ids=["everything light", "everything deep"],
)
def test_the_policy_cut_points_decide(tmp_path: Path, policy: str, level: str, cut: str) -> None:
    c = _plan(tmp_path, None, policy).classification
    assert c.complexity == level
    assert any(f"({cut})" in r.detail for r in c.reasons if r.rule == "score")

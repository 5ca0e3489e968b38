"""``codex-route route eval`` (issue 14, item 4): the metrics on hand-computed tables, the command
on a small labelled fixture with a known result, bad input named by file:line, and a policy change
that changes the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from codex_router import progress
from codex_router.cli import app
from codex_router.errors import ExitCode
from codex_router.policy.roles import DEFAULT_ALIASES, Role
from codex_router.policy.settings import load_policy
from codex_router.routing.evaluate import (
    NO_SOURCE,
    RoutedTask,
    auc,
    label_auc,
    score_by_source,
    score_routing,
    tier_of,
)
from codex_router.views.layout import visible
from codex_router.views.route_eval import render_route_eval

FIXTURE = Path(__file__).parent / "data" / "route-eval" / "labelled.jsonl"
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, ["route", "eval", *args])


def evaluate_json(*args: str) -> dict:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# ---------------------------------------------------------------- AUC


@pytest.mark.parametrize(
    ("positives", "negatives", "expected"),
    [
        ([2, 3], [0, 1], 1.0),  # every positive above every negative
        ([0, 1], [2, 3], 0.0),
        ([1, 1], [1, 1], 0.5),  # all tied: a coin toss
        ([1], [0, 1], 0.75),  # one win, one tie (half)
        ([0, 3, 3], [0, 0], 5 / 6),  # ties with the lowest rank count half: (0.5+0.5+2+2)/6
        ([1, 2, 3], [2], 0.5),  # below, tied, above
        ([0.1, 0.4, 0.35, 0.8], [0.2, 0.3, 0.5, 0.05], 11 / 16),  # no tie: 1 + 3 + 3 + 4 wins
    ],
)
def test_auc_by_ranks_with_ties_counting_half(
    positives: list[float], negatives: list[float], expected: float
) -> None:
    assert auc(positives, negatives) == pytest.approx(expected)


@pytest.mark.parametrize(("positives", "negatives"), [([], [1.0]), ([1.0], []), ([], [])])
def test_auc_is_none_when_a_class_is_empty(positives: list[float], negatives: list[float]) -> None:
    assert auc(positives, negatives) is None


def test_label_auc_contrasts_the_chosen_labels_with_label_0() -> None:
    pairs = [(0.0, 0), (1.0, 1), (0.0, 1), (3.0, 2), (1.0, 3), (2.0, 0)]
    # >= 2 vs 0: positives 3, 1 against 0, 2 → (1 + 1) + (1 + 0) = 3 of 4
    assert label_auc(pairs, 2) == pytest.approx(0.75)
    # >= 1 vs 0: adds 1 (one win, one loss) and 0 (a tie, a loss) → (3 + 1 + 0.5) / 8
    assert label_auc(pairs, 1) == pytest.approx(4.5 / 8)
    assert label_auc([(1.0, 1), (2.0, 2)], 1) is None  # no label 0


# ---------------------------------------------------------------- figures of a routing


def task(ordinal: int, tier: str, source: str | None = None, score: float | None = None):
    cost = {"light": 1.0, "default": 4.0, "deep": 5.0, "long": 4.0, "other": 2.0}[tier]
    return RoutedTask(0, ordinal, tier, cost, 5.0, source, score)


def test_score_routing_confusion_mix_hard_to_light_and_cost() -> None:
    tasks = [
        task(0, "light"),
        task(0, "default"),
        task(1, "light"),
        task(2, "light"),
        task(2, "deep"),
        task(3, "default"),
        task(3, "other"),
        task(1, "long"),
    ]
    score = score_routing(tasks)
    assert score.tasks == 8
    assert score.labels == {0: 2, 1: 2, 2: 2, 3: 2}
    assert score.confusion == {
        "light": {0: 1, 1: 1, 2: 1, 3: 0},
        "default": {0: 1, 1: 0, 2: 0, 3: 1},
        "long": {0: 0, 1: 1, 2: 0, 3: 0},
        "deep": {0: 0, 1: 0, 2: 1, 3: 0},
        "other": {0: 0, 1: 0, 2: 0, 3: 1},
    }
    assert score.mix == {
        "light": 3 / 8,
        "default": 2 / 8,
        "long": 1 / 8,
        "deep": 1 / 8,
        "other": 1 / 8,
    }
    assert (score.hard_tasks, score.hard_to_light, score.hard_to_light_share) == (4, 1, 0.25)
    # tier ranks light 0 < default = other 1 < long 2 < deep 3; negatives (label 0): 0, 1
    # >= 2: light 0 (tie, loss), deep 3 (2 wins), default 1 (win, tie), other 1 (win, tie)
    assert score.tier_auc_hard == pytest.approx((0.5 + 2 + 1.5 + 1.5) / 8)
    # >= 1 adds light 0 (tie, loss) and long 2 (2 wins): 6 positives × 2 negatives
    assert score.tier_auc_any == pytest.approx((0.5 + 2 + 1.5 + 1.5 + 0.5 + 2) / 12)
    assert score.score_auc_hard is None and score.score_auc_any is None  # no score given
    assert score.cost_usd == 1 + 4 + 1 + 1 + 5 + 4 + 2 + 4
    assert score.deep_cost_usd == 40
    assert score.saving_share == pytest.approx(1 - 22 / 40)


def test_a_numeric_score_gets_its_own_auc_only_when_every_task_has_one() -> None:
    scored = [task(0, "light", score=0.2), task(2, "light", score=0.9), task(1, "light", score=0.1)]
    score = score_routing(scored)
    assert score.tier_auc_hard == 0.5  # same tier for all
    assert score.score_auc_hard == 1.0
    assert score.score_auc_any == 0.5  # 0.9 above 0.2, 0.1 below it
    partly = score_routing([*scored, task(2, "deep")])
    assert partly.score_auc_hard is None


def test_no_hard_task_gives_no_share_and_an_empty_routing_is_refused() -> None:
    score = score_routing([task(0, "light"), task(1, "deep")])
    assert score.hard_to_light_share is None and score.tier_auc_hard is None
    assert score.tier_auc_any == 1.0
    with pytest.raises(ValueError, match="no task"):
        score_routing([])


def test_per_source_figures_in_order_of_appearance() -> None:
    tasks = [
        task(0, "light", "b"),
        task(2, "deep", "a"),
        task(0, "deep", None),
        task(2, "light", "b"),
    ]
    groups = score_by_source(tasks)
    assert list(groups) == ["b", "a", NO_SOURCE]
    assert groups["b"].tier_auc_hard == 0.5 and groups["b"].hard_to_light == 1
    assert groups["a"].tier_auc_hard is None
    assert score_by_source([task(0, "light"), task(2, "deep")]) == {}


def test_tier_is_the_role_the_alias_plays_in_the_policy() -> None:
    from codex_router.policy.settings import Resolved

    policy = load_policy(Resolved(None, "default"))
    assert tier_of(policy, DEFAULT_ALIASES[Role.LIGHT]) == "light"
    assert tier_of(policy, DEFAULT_ALIASES[Role.DEEP]) == "deep"
    assert tier_of(policy, DEFAULT_ALIASES[Role.LONG]) == "long"
    assert tier_of(policy, DEFAULT_ALIASES[Role.LOCAL]) == "other"
    with pytest.raises(ValueError, match="tier"):
        RoutedTask(1, 0, "heavy", 0.0, 0.0)


# ---------------------------------------------------------------- the command on a fixture


def test_the_fixture_gives_the_hand_computed_report() -> None:
    report = evaluate_json(str(FIXTURE))
    assert report["schema"] == 1
    assert report["deep_alias"] == "codex-deep"
    overall = report["overall"]
    # tiers: typo tasks light (labels 0, 0, 2), security/architecture audits deep (3, 2, 1).
    # >= 2 vs 0: light 2 ties with the two 0s (0.5 each), two deep 2+ beat both → 5 of 6
    assert overall["auc"]["tier"] == {"ge2_vs_0": 0.8333, "ge1_vs_0": 0.875}
    # the classifier scores every task: the score's AUC is the same formula over those scores
    scores = [(t["difficulty_ordinal"], t["score"]) for t in report["tasks"]]
    assert all(isinstance(s, float) for _, s in scores)
    hard = [s for o, s in scores if o >= 2]
    easy = [s for o, s in scores if o == 0]
    pairs = [(h > e) + 0.5 * (h == e) for h in hard for e in easy]
    assert overall["auc"]["score"]["ge2_vs_0"] == pytest.approx(sum(pairs) / len(pairs), abs=1e-4)
    assert overall["labels"] == {"0": 2, "1": 1, "2": 2, "3": 1}
    assert overall["confusion"]["light"] == {"0": 2, "1": 0, "2": 1, "3": 0}
    assert overall["confusion"]["deep"] == {"0": 0, "1": 1, "2": 1, "3": 1}
    assert overall["tier_mix"] == {
        "light": 0.5,
        "default": 0.0,
        "long": 0.0,
        "deep": 0.5,
        "other": 0.0,
    }
    assert (overall["hard_tasks"], overall["hard_to_light"]) == (3, 1)
    assert overall["hard_to_light_share"] == 0.3333
    assert 0 < overall["estimated_cost_usd"] < overall["estimated_deep_cost_usd"]
    assert list(report["by_source"]) == ["docs", "security"]
    docs, security = report["by_source"]["docs"], report["by_source"]["security"]
    assert docs["auc"]["tier"] == {"ge2_vs_0": 0.5, "ge1_vs_0": 0.5}  # all light: ties
    assert security["auc"]["tier"] == {"ge2_vs_0": None, "ge1_vs_0": None}  # no label 0
    assert security["estimated_saving_share"] == 0.0  # all deep already
    rows = report["tasks"]
    assert [r["line"] for r in rows] == [1, 2, 3, 5, 6, 7]  # the blank line 4 is skipped
    assert [r["id"] for r in rows] == ["t1", "t2", "t3", "t4", "t5", "t6"]
    assert [r["alias"] for r in rows] == ["codex-light"] * 3 + ["codex-deep"] * 3


def test_no_task_text_is_in_the_report() -> None:
    result = invoke(str(FIXTURE), "--json")
    plain = invoke(str(FIXTURE))
    for output in (result.stdout, plain.stdout):
        assert "changelog" not in output and "login flow" not in output and "teh" not in output


def test_the_table_fits_80_columns_and_names_the_figures() -> None:
    result = invoke(str(FIXTURE))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(visible(line) <= 80 for line in lines[1:]), lines  # line 0: the file path
    text = result.stdout
    for needle in (
        "docs",
        "security",
        "all sources",
        "≥2 vs 0: 0.833",
        "33.3% (1 of 3)",
        "40.0% less",
    ):
        assert needle in text
    light_row = next(line for line in lines[::-1] if line.strip().startswith("light"))
    assert light_row.split() == ["light", "50.0%", "3", "2", "0", "1", "0"]


def test_a_long_label_scale_shares_its_last_column() -> None:
    from codex_router.run.route_eval import ROUTE_EVAL_SCHEMA_VERSION

    tasks = [task(k, "light" if k < 5 else "deep") for k in range(9)]
    data = {
        "schema": ROUTE_EVAL_SCHEMA_VERSION,
        "file": "f.jsonl",
        "policy": {"value": None, "source": "default"},
        "deep_alias": "codex-deep",
        "overall": score_routing(tasks).to_dict(),
        "by_source": {},
    }
    text = render_route_eval(data, width=80)
    assert all(visible(line) <= 80 for line in text.splitlines())
    assert "label≥5" in text
    deep_row = next(line for line in text.splitlines() if line.strip().startswith("deep"))
    assert deep_row.split()[-1] == "4"  # labels 5..8 in one column


def test_limit_takes_the_first_tasks() -> None:
    report = evaluate_json(str(FIXTURE), "--limit", "2")
    assert report["overall"]["tasks"] == 2
    assert report["by_source"] == {"docs": report["overall"]}


# ---------------------------------------------------------------- a policy change changes it


def test_a_policy_that_sends_every_task_to_deep(tmp_path: Path) -> None:
    policy = tmp_path / "all-deep.yaml"
    policy.write_text(
        "task_provider_rules:\n  simple: {alias: codex-deep}\n  medium: {alias: codex-deep}\n",
        encoding="utf-8",
    )
    before = evaluate_json(str(FIXTURE))
    after = evaluate_json(str(FIXTURE), "--policy", str(policy))
    assert before["overall"]["tier_mix"]["light"] == 0.5
    assert after["overall"]["tier_mix"]["deep"] == 1.0
    assert after["overall"]["auc"]["tier"] == {"ge2_vs_0": 0.5, "ge1_vs_0": 0.5}
    assert after["overall"]["estimated_saving_share"] == 0.0
    assert after["policy"]["value"] == str(policy)


def test_routing_flags_change_it_like_run_does() -> None:
    forced = evaluate_json(str(FIXTURE), "--force-model", "codex-light")
    assert forced["overall"]["tier_mix"]["light"] == 1.0
    assert forced["overall"]["hard_to_light_share"] == 1.0
    hf = evaluate_json(str(FIXTURE), "--provider", "huggingface")
    assert hf["overall"]["tier_mix"]["other"] == 1.0
    assert {r["alias"] for r in hf["tasks"]} == {"codex-hf-cheap", "codex-hf-fast"}


def test_the_context_window_guard_applies_as_in_run(tmp_path: Path) -> None:
    """A forced alias whose context_window cannot hold Codex's overhead: every run would stop."""
    policy = tmp_path / "small-window.yaml"
    policy.write_text("aliases:\n  codex-deep:\n    context_window: 5000\n", encoding="utf-8")
    report = evaluate_json(str(FIXTURE), "--policy", str(policy), "--force-model", "codex-deep")
    assert report["overall"]["refused"] == 6
    assert {r["context_window"] for r in report["tasks"]} == {"refused"}
    assert evaluate_json(str(FIXTURE))["overall"]["refused"] == 0
    table = invoke(str(FIXTURE), "--policy", str(policy), "--force-model", "codex-deep")
    assert "refused            6: too big" in table.stdout


def test_classification_thresholds_of_the_policy_are_applied(tmp_path: Path) -> None:
    """A size threshold of 0 tokens makes every task at least complex: all deep."""
    policy = tmp_path / "low-thresholds.yaml"
    policy.write_text(
        "classification:\n  medium_tokens: 0\n  complex_tokens: 0\n", encoding="utf-8"
    )
    before = evaluate_json(str(FIXTURE))
    after = evaluate_json(str(FIXTURE), "--policy", str(policy))
    assert before["overall"]["confusion"]["light"]["0"] == 2
    assert after["overall"]["confusion"]["light"]["0"] < 2


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"prompt": "fix it", "difficulty_ordinal": 0}', "{not json"], ":2: not JSON"),
        (['["a list"]'], ":1: expected a JSON object, got list"),
        (['{"difficulty_ordinal": 1}'], ":1: no task text"),
        (['{"prompt": "a", "problem_statement": "b", "difficulty_ordinal": 1}'], ":1: both"),
        (['{"prompt": "   ", "difficulty_ordinal": 1}'], ":1: prompt is empty"),
        (['{"prompt": 3, "difficulty_ordinal": 1}'], ":1: prompt must be a string"),
        (["", '{"prompt": "fix it"}'], ":2: no label: difficulty_ordinal is missing"),
        (['{"prompt": "fix it", "difficulty_ordinal": -1}'], ":1: difficulty_ordinal must be"),
        (['{"prompt": "fix it", "difficulty_ordinal": "2"}'], ":1: difficulty_ordinal must be"),
        (['{"prompt": "fix it", "difficulty_ordinal": 1.5}'], ":1: difficulty_ordinal must be"),
        (['{"prompt": "fix it", "difficulty_ordinal": true}'], ":1: difficulty_ordinal must be"),
        (['{"prompt": "x", "difficulty_ordinal": 0, "source": 7}'], ":1: source must be a string"),
        (['{"prompt": "x", "difficulty_ordinal": 0, "attachment": []}'], ":1: attachment must"),
        (
            ['{"prompt": "x", "difficulty_ordinal": 0, "attachment": "a\\u0000b"}'],
            ":1: attachment contains a NUL character",
        ),
        (['{"prompt": "x\\u0000", "difficulty_ordinal": 0}'], ":1: prompt contains a NUL"),
        (['{"prompt": "x", "difficulty_ordinal": 0, "id": {}}'], ":1: id must be"),
        (["", "  "], " holds no task"),
    ],
)
def test_bad_input_names_the_file_and_line(tmp_path: Path, lines: list[str], message: str) -> None:
    file = tmp_path / "tasks.jsonl"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = invoke(str(file))
    assert result.exit_code == ExitCode.USAGE
    assert f"error: {file}{message}" in result.stderr
    assert result.stdout == ""  # nothing printed, nothing scored


def test_unreadable_input(tmp_path: Path) -> None:
    missing = invoke(str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == ExitCode.USAGE and "no such file" in missing.stderr
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b'{"prompt": "x", "difficulty_ordinal": 0}\n\xff\xfe\n')
    bad = invoke(str(binary))
    assert bad.exit_code == ExitCode.USAGE and str(binary) in bad.stderr
    assert invoke(str(FIXTURE), "--limit", "0").exit_code == ExitCode.USAGE


def test_a_bad_policy_is_a_policy_error(tmp_path: Path) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text("classification:\n  medium_tokens: lots\n", encoding="utf-8")
    result = invoke(str(FIXTURE), "--policy", str(policy))
    assert result.exit_code == ExitCode.POLICY


# ---------------------------------------------------------------- progress


def test_progress_counts_tasks_on_a_terminal_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    steps = progress.Steps("routing tasks", 4)
    steps.advance()
    steps.close()
    err = capsys.readouterr().err
    assert "routing tasks: 1 of 4 (25%)" in err and err.endswith("\r")
    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: False)
    quiet = progress.Steps("routing tasks", 4)
    quiet.advance()
    quiet.close()
    assert capsys.readouterr().err == ""


def test_no_progress_in_a_pipe() -> None:
    result = invoke(str(FIXTURE))
    assert result.exit_code == 0 and result.stderr == ""


def test_an_attachment_is_counted_with_the_task_as_when_piped(tmp_path: Path) -> None:
    from codex_router.tokens.counter import count_tokens

    log = "".join(f"worker {n} failed: KeyError 'user_{n}' in handlers.py\n" for n in range(40))
    file = tmp_path / "tasks.jsonl"
    lines = [
        {"prompt": "fix the crash", "difficulty_ordinal": 1},
        {"prompt": "fix the crash", "attachment": log, "difficulty_ordinal": 1},
    ]
    file.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    bare, piped = evaluate_json(str(file))["tasks"]
    assert piped["tokens"] > bare["tokens"] + count_tokens("<stdin>\n</stdin>")
    # the same count, classification and alias as the dry run of the same task, log piped in
    plan = runner.invoke(app, ["run", "--dry-run", "--json", "fix the crash"], input=log)
    assert plan.exit_code == 0, plan.stderr
    dry = json.loads(plan.stdout)
    assert piped["tokens"] == dry["tokens"]["clean"]
    assert (piped["alias"], piped["complexity"]) == (
        dry["alias"],
        dry["classification"]["complexity"],
    )


def test_every_fixture_task_goes_where_its_dry_run_goes() -> None:
    rows = evaluate_json(str(FIXTURE))["tasks"]
    tasks = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line]
    assert len(rows) == len(tasks)
    for row, entry in zip(rows, tasks, strict=True):
        text = entry.get("prompt") or entry["problem_statement"]
        plan = runner.invoke(
            app,
            ["run", "--dry-run", "--json", "--no-stdin", text]
            if "attachment" not in entry
            else ["run", "--dry-run", "--json", text],
            input=entry.get("attachment"),
        )
        assert plan.exit_code == 0, plan.stderr
        dry = json.loads(plan.stdout)
        assert (row["alias"], row["tokens"]) == (dry["alias"], dry["tokens"]["clean"])


def test_a_blank_attachment_is_no_attachment(tmp_path: Path) -> None:
    file = tmp_path / "tasks.jsonl"
    file.write_text(
        '{"prompt": "fix the typo", "difficulty_ordinal": 0}\n'
        '{"prompt": "fix the typo", "attachment": "\\n", "difficulty_ordinal": 0}\n',
        encoding="utf-8",
    )
    bare, blank = evaluate_json(str(file))["tasks"]
    assert blank["tokens"] == bare["tokens"]

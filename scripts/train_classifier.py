"""Train the task classifier's score on the dev data and write ``codex_router/routing/weights.py``.

    .venv/bin/python scripts/train_classifier.py           # write weights.py, print the report
    .venv/bin/python scripts/train_classifier.py --check   # exit 1 when weights.py would change

Needs the ``train`` extra (scikit-learn); the run path never imports it. Reads only
``data/routing-dev/*.jsonl`` (see its SOURCE.md); SWE-bench Verified is the held-out test and is
never read here. Reproducible: fixed fold seeds, the deterministic lbfgs solver, rounded output.

Model: a proportional-odds (ordinal) logistic model, P(ordinal >= k) = sigmoid(score - cut[s, k]),
with one weight vector shared by the three sources and cut-points of each source's own label
scale (fitted as the all-threshold binary decomposition: one row per item and cut). Only the
shared score ships; the tier cut-points are chosen on out-of-fold scores.

Choices are made on out-of-fold scores (stratified k-fold by source x ordinal), never in-sample:
forward selection of signals, then the L2 strength from a grid, maximising the out-of-fold AUCs
of ``swebench_nonverified`` (see ``objective``). Features are ``log1p`` of
the counts from ``codex_router.routing.classify.features``; ``annotation``, ``repo``, ``id``,
``difficulty`` and the labels are never features. Tier cut-points: on the out-of-fold scores of
``swebench_nonverified`` through the classifier's own decision rule, ``light_below`` is the
highest cut that keeps at most 3 % of ordinal >= 2 tasks in light, ``deep_from`` the cut that
maximises the tier AUC (>= 2 vs 0 plus >= 1 vs 0) among those keeping 25-50 % in deep.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold, StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from codex_router.routing import classify as cl  # noqa: E402
from codex_router.routing.signals import SIGNALS  # noqa: E402
from codex_router.tokens.counter import count_tokens  # noqa: E402

DATA = ROOT / "data" / "routing-dev"
WEIGHTS = ROOT / "codex_router" / "routing" / "weights.py"
SOURCES = ("swebench_nonverified", "swelancer_ic_swe", "mlebench_complexity")
TARGET = "swebench_nonverified"  # SWE-bench-like: the tier cut-points are set on it
CANDIDATES: tuple[str, ...] = (*SIGNALS, *cl.KEYWORD_SIGNALS)
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)
FOLDS = 5
SEED = 0
SELECTION_C = 0.1  # L2 strength while signals are selected; re-chosen from C_GRID afterwards
INTERCEPT_SCALE = 10.0  # cut columns scaled up so that the L2 penalty barely touches them
MAX_LIGHT_SEVERE = 0.03  # share of ordinal >= 2 tasks allowed in light (the bar is 5 %)
MIN_STEP = 0.002  # a signal is dropped when the objective does not fall by more than this


@dataclass(frozen=True)
class Dataset:
    raw: np.ndarray  # counts, one column per CANDIDATES entry
    y: np.ndarray  # difficulty_ordinal
    source: np.ndarray  # index into SOURCES
    repo: list[str]  # only for the repo-grouped figure; never a feature
    words: np.ndarray  # instruction words (the keyword rule's length test)
    tokens: np.ndarray  # exact token counts (the size floors)
    keyword_level: list[str | None]
    question: list[bool]  # the classifier's short-question rule


@dataclass(frozen=True)
class Fit:
    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    cuts: dict[str, list[float]]


def load() -> Dataset:
    raw, y, source, repo, words, tokens, levels, questions = [], [], [], [], [], [], [], []
    for index, name in enumerate(SOURCES):
        for line in (DATA / f"{name}.jsonl").read_text(encoding="utf-8").split("\n"):
            if not line.strip():
                continue
            item = json.loads(line)
            text = item["problem_statement"]
            found = cl.features(text)
            raw.append([found[n] for n in CANDIDATES])
            y.append(int(item["difficulty_ordinal"]))
            source.append(index)
            repo.append(str(item.get("repo") or name))
            words.append(len(text.split()))
            tokens.append(count_tokens(text))
            levels.append(cl.keyword_level_of(found))
            questions.append(cl.is_question(text))
    return Dataset(
        np.asarray(raw, dtype=float),
        np.asarray(y),
        np.asarray(source),
        repo,
        np.asarray(words),
        np.asarray(tokens),
        levels,
        questions,
    )


def fit(data: Dataset, rows: np.ndarray, names: Sequence[str], c: float) -> Fit:
    columns = [CANDIDATES.index(n) for n in names]
    x = np.log1p(data.raw[np.ix_(rows, columns)])
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    # One cut column per (source, k): k = 1 .. the source's top ordinal.
    cut_keys = [(s, k) for s in range(len(SOURCES)) for k in range(1, 1 + int(data.y.max()))]
    blocks_x, blocks_t = [], []
    for position, (s, k) in enumerate(cut_keys):
        mine = data.source[rows] == s
        if not mine.any() or k > data.y[rows][mine].max():
            continue
        indicator = np.zeros((int(mine.sum()), len(cut_keys)))
        indicator[:, position] = -INTERCEPT_SCALE
        blocks_x.append(np.hstack([z[mine], indicator]))
        blocks_t.append((data.y[rows][mine] >= k).astype(int))
    model = LogisticRegression(C=c, fit_intercept=False, solver="lbfgs", max_iter=5000, tol=1e-8)
    model.fit(np.vstack(blocks_x), np.concatenate(blocks_t))
    weights = model.coef_[0]
    cuts: dict[str, list[float]] = {}
    for position, (s, k) in enumerate(cut_keys):
        mine = data.source[rows] == s
        if mine.any() and k <= data.y[rows][mine].max():
            cuts.setdefault(SOURCES[s], []).append(
                float(weights[len(names) + position] * INTERCEPT_SCALE)
            )
    return Fit(tuple(names), mean, scale, weights[: len(names)], cuts)


def score(data: Dataset, rows: np.ndarray, model: Fit) -> np.ndarray:
    columns = [CANDIDATES.index(n) for n in model.names]
    x = np.log1p(data.raw[np.ix_(rows, columns)])
    return np.asarray(((x - model.mean) / model.scale) @ model.coef)


def out_of_fold(data: Dataset, names: Sequence[str], c: float, seed: int) -> np.ndarray:
    strata = data.source * 10 + data.y
    folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
    oof = np.zeros(len(data.y))
    for train, test in folds.split(data.raw, strata):
        oof[test] = score(data, test, fit(data, train, names, c))
    return oof


def repo_grouped(data: Dataset, names: Sequence[str], c: float) -> np.ndarray:
    """Out-of-fold scores of the target source with whole repositories held out."""
    target = np.flatnonzero(data.source == SOURCES.index(TARGET))
    others = np.flatnonzero(data.source != SOURCES.index(TARGET))
    groups = [data.repo[i] for i in target]
    oof = np.zeros(len(data.y))
    for train, test in GroupKFold(FOLDS).split(target, groups=groups):
        rows = np.concatenate([target[train], others])
        oof[target[test]] = score(data, target[test], fit(data, rows, names, c))
    return oof


def auc(y: np.ndarray, s: np.ndarray, at_least: int) -> float:
    """AUC of ``s`` for ordinal >= at_least vs ordinal 0 (ties count half)."""
    keep = (y == 0) | (y >= at_least)
    return float(roc_auc_score(y[keep] >= at_least, s[keep]))


def objective(data: Dataset, oof: np.ndarray) -> float:
    """Mean of the SWE-bench-like target's out-of-fold AUCs, >= 2 vs 0 and >= 1 vs 0: the tiers
    are for such tasks. The other sources still train the shared weights, but their own AUCs
    are not maximised: there the issue template gives the label away (SWE-Lancer's headings
    alone: AUC 0.08), which a 4-AUC objective rewarded with weights that do not carry over."""
    target = per_source(data, oof, TARGET)
    return float(np.mean([auc(*target, 2), auc(*target, 1)]))


def per_source(data: Dataset, values: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    mine = data.source == SOURCES.index(name)
    return data.y[mine], values[mine]


def select(data: Dataset) -> tuple[tuple[str, ...], float]:
    """Forward selection: add the signal that raises the out-of-fold objective most, while it
    rises by more than MIN_STEP; then the L2 strength for the chosen set."""
    names: list[str] = []
    best = 0.0
    while len(names) < len(CANDIDATES):
        trials = {
            n: objective(data, out_of_fold(data, [*names, n], SELECTION_C, SEED))
            for n in CANDIDATES
            if n not in names
        }
        add = max(trials, key=lambda n: (trials[n], -CANDIDATES.index(n)))
        if trials[add] <= best + MIN_STEP:
            break
        names.append(add)
        best = trials[add]
    c = max(C_GRID, key=lambda value: objective(data, out_of_fold(data, names, value, SEED)))
    return tuple(names), c


def tiers(data: Dataset, scores: np.ndarray, light_below: float, deep_from: float) -> np.ndarray:
    """0/1/2 (light/default/deep) for every item, through the classifier's own rule."""
    th = cl.ClassifyThresholds(light_below=light_below, deep_from=deep_from)
    levels = [
        cl.level_for(
            float(s),
            keyword_level=k,
            instruction_words=int(w),
            tokens=int(t),
            question=q,
            piped_nothing=True,  # a dev item is an instruction with nothing piped
            thresholds=th,
        )
        for s, k, w, t, q in zip(
            scores, data.keyword_level, data.words, data.tokens, data.question, strict=True
        )
    ]
    return np.asarray([cl.LEVELS.index(level) for level in levels])


def calibrate(data: Dataset, oof: np.ndarray) -> tuple[float, float]:
    y, s = per_source(data, oof, TARGET)
    mine = data.source == SOURCES.index(TARGET)
    grid = np.unique(np.round(s, 3))
    light_below = float(grid[0])
    for cut in grid:
        tier = tiers(data, oof, float(cut), math.inf)[mine]
        if np.mean(tier[y >= 2] == 0) <= MAX_LIGHT_SEVERE:
            light_below = float(cut)
    best, deep_from = -1.0, float(grid[-1])
    for cut in grid[grid > light_below]:
        tier = tiers(data, oof, light_below, float(cut))[mine]
        if not 0.25 <= np.mean(tier == 2) <= 0.5:
            continue
        value = auc(y, tier, 2) + auc(y, tier, 1)
        if value > best:
            best, deep_from = value, float(cut)
    return round(light_below, 3), round(deep_from, 3)


def report_row(label: str, y: np.ndarray, s: np.ndarray, tier: np.ndarray) -> str:
    mix = "/".join(f"{np.mean(tier == t):.0%}" for t in range(3))
    light_severe = np.mean(tier[y >= 2] == 0)
    return (
        f"  {label:<9} score AUC {auc(y, s, 2):.3f} / {auc(y, s, 1):.3f}"
        f"  tier AUC {auc(y, tier, 2):.3f} / {auc(y, tier, 1):.3f}"
        f"  mix {mix}  >=2 in light {light_severe:.1%}"
    )


def render(model: Fit, light_below: float, deep_from: float, c: float) -> str:
    def tuple_of(items: Sequence[str]) -> str:
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"

    def numbers(values: Sequence[float], digits: int) -> str:
        return tuple_of([f"{round(float(v), digits) + 0.0:.{digits}f}" for v in values])

    lines = [
        '"""The learned weights of the task score. GENERATED by scripts/train_classifier.py from',
        "data/routing-dev/ (see that script for the model and the cross-validation); do not edit",
        "by hand: re-run the script and review the diff.",
        "",
        "score = sum(COEF[i] * (log1p(signal[i]) - MEAN[i]) / SCALE[i]); higher = harder task.",
        "LIGHT_BELOW and DEEP_FROM are the tier cut-points calibrated on out-of-fold scores",
        "(the packaged policy's classification.light_below / deep_from); SOURCE_CUTS are each dev",
        "source's own ordinal cut-points, kept for reference only.",
        '"""',
        "",
        f"# L2 strength C = {c}, chosen by {FOLDS}-fold cross-validation (seed {SEED})",
        f"NAMES: tuple[str, ...] = {tuple_of([json.dumps(n) for n in model.names])}",
        f"MEAN: tuple[float, ...] = {numbers(model.mean, 4)}",
        f"SCALE: tuple[float, ...] = {numbers(model.scale, 4)}",
        f"COEF: tuple[float, ...] = {numbers(model.coef, 4)}",
        f"LIGHT_BELOW = {light_below}",
        f"DEEP_FROM = {deep_from}",
        "SOURCE_CUTS: dict[str, tuple[float, ...]] = {",
        *(f"    {json.dumps(name)}: {numbers(cuts, 3)}," for name, cuts in model.cuts.items()),
        "}",
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with weights.py")
    args = parser.parse_args(argv)
    data = load()
    names, c = select(data)
    oof = out_of_fold(data, names, c, SEED)
    light_below, deep_from = calibrate(data, oof)
    model = fit(data, np.arange(len(data.y)), names, c)
    text = render(model, light_below, deep_from, c)
    grouped = repo_grouped(data, names, c)
    tier = tiers(data, oof, light_below, deep_from)
    grouped_tier = tiers(data, grouped, light_below, deep_from)
    print(f"signals {', '.join(names)}; C = {c}", file=sys.stderr)
    print("out-of-fold (AUC >=2 vs 0 / >=1 vs 0):", file=sys.stderr)
    for name in SOURCES:
        mine = data.source == SOURCES.index(name)
        print(f"{name}", file=sys.stderr)
        print(report_row("new", data.y[mine], oof[mine], tier[mine]), file=sys.stderr)
        if name == TARGET:
            print(
                report_row("by repo", data.y[mine], grouped[mine], grouped_tier[mine]),
                file=sys.stderr,
            )
    if args.check:
        current = WEIGHTS.read_text(encoding="utf-8") if WEIGHTS.exists() else ""
        if current != text:
            print(f"{WEIGHTS.relative_to(ROOT)} is not what the script writes", file=sys.stderr)
            return 1
        return 0
    WEIGHTS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

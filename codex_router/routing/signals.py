"""Signals: named, cheap, explainable numbers measured on a task's text (English and French).

Each signal is a non-negative count (a presence is 0 or 1) measured on the instruction and the
piped attachment together: a traceback or a file path says as much in a pasted log as in the
request. The learned score in ``classify`` uses ``log1p`` of each count, so a signal's weight is
per doubling, not per unit, and no single huge log dominates.

Cost: one pass of a handful of compiled regular expressions over the text, each linear (no
nested quantifiers that backtrack); distinct names are counted in sets. Nothing is read but the
text given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from functools import cache

#: Every signal, in the order :func:`measure` returns them.
SIGNALS: tuple[str, ...] = (
    "words",
    "code_blocks",
    "code_lines",
    "stack_trace",
    "error_words",
    "reproducer",
    "expected_actual",
    "proposed_fix",
    "diff",
    "files_named",
    "symbols_named",
    "calls_named",
    "feature_request",
    "design_words",
    "numbered_steps",
    "bullets",
    "questions",
    "links",
    "headings",
    "versions",
    "easy_words",
    "message_words",
)

#: What each signal counts, as shown next to it in a plan's reasons and in docs/policy.md.
DESCRIPTIONS: dict[str, str] = {
    "words": "words in instruction + attachment",
    "code_blocks": "fenced code blocks",
    "code_lines": "lines that look like code (indented, or inside a fence)",
    "stack_trace": "stack trace / traceback present",
    "error_words": "words naming an error or exception (ValueError, erreur, FAILED)",
    "reproducer": "a reproducer: 'steps to reproduce' / 'pour reproduire'",
    "expected_actual": "an expected-vs-actual section",
    "proposed_fix": "a fix proposed in the text ('should be', 'changing X to Y fixes it')",
    "diff": "a patch / diff in the text",
    "files_named": "distinct file paths named",
    "symbols_named": "distinct code names (backticked, dotted or CamelCase)",
    "calls_named": "distinct function calls named (name(...))",
    "feature_request": "feature-request phrases ('add support', 'it would be nice')",
    "design_words": "design / behaviour-change words (API, refactor, backward compat)",
    "numbered_steps": "numbered lines (1. 2. 3.)",
    "bullets": "bulleted lines",
    "questions": "questions asked",
    "links": "links (URLs)",
    "headings": "Markdown headings",
    "versions": "version numbers named (1.2.3)",
    "easy_words": "the text calls the change small ('simple', 'trivial', 'one-line', 'facile')",
    "message_words": "about a message's wording ('error message', 'message d'erreur')",
}

_M = re.MULTILINE
#: Phrase patterns, written in lower case and run on the lower-cased text: two to five times
#: faster than re.IGNORECASE on these alternations.
_FOLDED = frozenset(
    {"error", "reproducer", "expected", "fix", "feature", "design", "easy", "message"}
)


#: Each pattern's source and flags; compiled one by one at first use (:func:`_pattern`), so a
#: classification compiles only the few its weights read, and importing costs nothing.
_SOURCES: dict[str, tuple[str, int]] = {
    "fence": (r"^[ \t]{0,3}(?:`{3,}|~{3,})", _M),
    "indented": (r"^(?: {4}|\t)[^ \t\n]", _M),
    # Python tracebacks, Java/JS "at f (file:12)" frames, Rust panics, Go goroutines.
    "trace": (
        r"Traceback \(most recent call last\)|^\s*File \"[^\"\n]+\", line \d+"
        r"|^\s+at [\w$.<>]+ ?\(?[^\s()]*:\d+|panicked at|^goroutine \d+ \[",
        _M,
    ),
    "error": (r"(?:error|exception|erreur|failed|fatal)\b", 0),
    "reproducer": (
        r"\b(?:steps? to reproduce|to reproduce|how to reproduce|reproduc(?:er|ible|tion)"
        r"|minimal (?:working |reproducible )?example|mcve|(?:code )?for reproduction"
        r"|pour reproduire|[ée]tapes? (?:pour|de) reproduction|reproductible)\b",
        0,
    ),
    "expected": (
        r"\b(?:expected (?:behaviou?r|result|output|outcome)|actual (?:behaviou?r|result|"
        r"output|outcome)|what (?:you|i) expected|should have (?:returned|been)"
        r"|r[ée]sultat (?:attendu|obtenu)|comportement (?:attendu|observ[ée]|actuel))\b",
        0,
    ),
    "fix": (
        r"\b(?:should be|should instead|fixe?s it|the fix (?:is|would be)|a fix would"
        r"|changing \S+ to|replacing \S+ with|i (?:suggest|propose)|suggested fix"
        r"|proposed (?:fix|solution|change)|possible (?:fix|solution)|workaround"
        r"|devrait [êe]tre|il suffit de|correctif propos[ée]|solution propos[ée]e)\b",
        0,
    ),
    "diff": (r"^(?:diff --git |@@ -\d+(?:,\d+)? \+\d+|--- a/|\+\+\+ b/)", _M),
    "path": (
        r"(?<![\w/.])(?:[\w.-]+/)*[\w-]+\.(?:py|pyx|pyi|js|jsx|ts|tsx|c|h|cc|cpp|hpp|rs|go"
        r"|java|kt|rb|php|cs|swift|m|scala|sh|toml|ya?ml|json|cfg|ini|md|rst|txt|html|css"
        r"|sql|ipynb)\b",
        0,
    ),
    "symbol": (
        r"`([^`\n]{2,60})`|\b([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\b|\b([A-Z][a-z0-9]+(?:[A-Z]"
        r"[a-z0-9]*)+)\b",
        0,
    ),
    "call": (r"\b([A-Za-z_][\w.]*)\(", 0),
    "feature": (
        r"\b(?:add(?:ing)? support|support for|it would be (?:nice|great|useful|good)"
        r"|would be (?:nice|great|useful)|feature request|new (?:option|feature|parameter"
        r"|argument|flag|setting)|enhancement|allow(?:s|ing)? (?:the )?(?:user|us|to)"
        r"|deprecat\w*|proposal|ce serait bien|il serait (?:utile|bien)|prise en charge"
        r"|nouvelle? (?:option|fonctionnalit[ée]|param[èe]tre)|demande de fonctionnalit[ée]"
        r"|permettre de)\b",
        0,
    ),
    "design": (
        r"\b(?:refactor\w*|api|interface|architecture|design|backwards?[ -]compat\w*"
        r"|breaking change|performance|slow|concurren\w*|thread\w*|async\w*|parallel\w*"
        r"|cach(?:e|ing)|memory|behaviou?r change|inconsisten\w*|r[ée]trocompatib\w*"
        r"|conception|lent(?:e|eur)?|m[ée]moire|comportement)\b",
        0,
    ),
    "numbered": (r"^[ \t]*\d{1,2}[.)][ \t]+\S", _M),
    "bullet": (r"^[ \t]*[-*+•][ \t]+\S", _M),
    "question": (r"\?(?=\s|$)", 0),
    "link": (r"https?://\S+", 0),
    "heading": (r"^#{1,6}[ \t]+\S", _M),
    "easy": (
        r"\b(?:simple|trivial|easy|one[- ]line[rd]?|small change|quick fix|facile"
        r"|une seule ligne|petite? (?:modification|correction))\b",
        0,
    ),
    "message": (
        r"\b(?:(?:error|warning|exception) messages?|misleading|confusing message|wording"
        r"|messages? d'(?:erreur|avertissement)|message trompeur|formulation)\b",
        0,
    ),
    "version": (r"(?<![\w.])v?\d+\.\d+(?:\.\d+)+(?![\w.])|\bv\d+\.\d+\b", 0),
}


@cache
def _pattern(name: str) -> re.Pattern[str]:
    source, flags = _SOURCES[name]
    return re.compile(source, flags)


def _code_lines(text: str) -> tuple[int, int]:
    """Fenced blocks, and the lines inside fences or indented as code (one pass over lines)."""
    fences = len(_pattern("fence").findall(text))
    indented = len(_pattern("indented").findall(text))
    if not fences:
        return 0, indented
    inside = 0
    open_fence = False
    for line in text.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("```") or stripped.startswith("~~~"):
            open_fence = not open_fence
        elif open_fence:
            inside += 1
    return (fences + 1) // 2, inside + indented


def measure(
    instruction: str, attachment: str = "", only: Collection[str] | None = None
) -> dict[str, int]:
    """The signals of :data:`SIGNALS` (or just those in ``only``, for speed: the classifier
    measures only what its weights use), in that order, for the instruction and attachment."""
    text = f"{instruction}\n{attachment}" if attachment else instruction
    lowered: list[str] = []

    def subject(name: str) -> str:
        if name not in _FOLDED:
            return text
        if not lowered:
            lowered.append(text.lower())
        return lowered[0]

    wanted = SIGNALS if only is None else [n for n in SIGNALS if n in only]

    def count(name: str) -> int:
        return len(_pattern(name).findall(subject(name)))

    def present(name: str) -> int:
        return int(_pattern(name).search(subject(name)) is not None)

    def distinct(name: str) -> int:
        return len(set(_pattern(name).findall(text)))

    def symbols() -> int:
        return len({a or b or c for a, b, c in _pattern("symbol").findall(text)})

    blocks_and_lines: list[tuple[int, int]] = []

    def code(index: int) -> int:
        if not blocks_and_lines:
            blocks_and_lines.append(_code_lines(text))
        return blocks_and_lines[0][index]

    how: dict[str, Callable[[], int]] = {
        "words": lambda: len(text.split()),
        "code_blocks": lambda: code(0),
        "code_lines": lambda: code(1),
        "stack_trace": lambda: present("trace"),
        "error_words": lambda: count("error"),
        "reproducer": lambda: present("reproducer"),
        "expected_actual": lambda: present("expected"),
        "proposed_fix": lambda: count("fix"),
        "diff": lambda: present("diff"),
        "files_named": lambda: distinct("path"),
        "symbols_named": symbols,
        "calls_named": lambda: distinct("call"),
        "feature_request": lambda: count("feature"),
        "design_words": lambda: count("design"),
        "numbered_steps": lambda: count("numbered"),
        "bullets": lambda: count("bullet"),
        "questions": lambda: count("question"),
        "links": lambda: count("link"),
        "headings": lambda: count("heading"),
        "versions": lambda: distinct("version"),
        "easy_words": lambda: count("easy"),
        "message_words": lambda: count("message"),
    }
    return {name: how[name]() for name in wanted}

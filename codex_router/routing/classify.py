"""Classify a task: complexity, long context and intents, with the reasons.

Pure and cheap: the standard library only; the vocabulary is indexed at first use (a dictionary
of phrases, looked up word by word).

What is scanned
    Keywords and intents are searched in the user's *instruction* (``prompt``) only, never in a
    piped attachment: a log full of "error", "test" or "security" must not turn "fix the typo"
    into a complex task. Inside the instruction, fenced code blocks (```` ``` ```` / ``~~~``) are
    skipped for the same reason. Matching is case-insensitive, accent-insensitive (NFKD, combining
    marks dropped, casefold; typographic apostrophes read as ``'``) and on whole words: a keyword
    must not touch a letter, digit or ``_`` on either side, so "latest" is not "test" and
    identifiers such as ``test_utils`` are not keywords. Words that are part of a file path or a
    dotted name (``docs/api.md``, ``tests/``, ``os.path``) are not keywords either: a prompt
    *naming* a file says nothing about how hard the task is. Inside a phrase, spaces and hyphens
    are interchangeable ("open-source model" = "open source model", "hors-ligne" = "hors ligne").

Decision rule
    1. Keyword level: the highest level among matched keywords (complex > medium > simple).
    2. No keyword: "medium" when the instruction is longer than ``long_prompt_words`` words
       (a long request is rarely trivial), else "simple".
    3. Size floor from ``tokens`` (prompt + attachment, after cleaning):
       ``tokens > complex_tokens`` → at least complex; ``tokens > medium_tokens`` → at least
       medium. Exception: when the only keywords are *simple* ones ("fix the typo" with a huge
       log piped in), the user told us the work is trivial and the size only means there is a
       lot to read, so the floor is capped at medium.
    4. complexity = the higher of (1 or 2) and (3).
    5. long_context = ``tokens > long_context_tokens`` (independent of complexity).
    6. intents = every intent with a matched phrase; they never change complexity.
    Every step adds a :class:`Reason`: the matched words as the user wrote them (with an English
    gloss when written otherwise), or the sizes compared with the thresholds. Boundaries are
    strict: a size equal to a threshold is *not* above it.

Known limits: no negation handling ("no security impact" still reads as security). Intent
phrases stay specific on purpose: bare "offline" or "en local" usually describe the code
("tester en local" is "test locally"), not the model, so only "offline model" / "modèle hors
ligne" count. The policy can override any decision.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

# --------------------------------------------------------------------------------------------
# Vocabulary. Each entry is (phrase as a user writes it, English gloss shown in reasons).
# Phrases are folded (accents, case) when indexed, so write them naturally, accents included.
# The same folded phrase may appear in two tables of the same kind (EN and FR "architecture")
# only with the same level; a test checks there is no conflict.
# --------------------------------------------------------------------------------------------

SIMPLE = "simple"
MEDIUM = "medium"
COMPLEX = "complex"
LEVELS: tuple[str, ...] = (SIMPLE, MEDIUM, COMPLEX)  # ascending

OPEN_MODELS = "open_models"
LOCAL = "local"
AVOID_OPENAI = "avoid_openai"
INTENTS: tuple[str, ...] = (OPEN_MODELS, LOCAL, AVOID_OPENAI)

COMPLEX_KEYWORDS: tuple[tuple[str, str], ...] = (
    # English
    ("security", "security"),
    ("vulnerability", "vulnerability"),
    ("vulnerabilities", "vulnerability"),
    ("exploit", "exploit"),
    ("CVE", "CVE"),
    ("architecture", "architecture"),
    ("redesign", "redesign"),
    ("migration", "migration"),
    ("migrations", "migration"),
    ("production incident", "production incident"),
    ("prod incident", "production incident"),
    ("outage", "outage"),
    ("race condition", "race condition"),
    ("race conditions", "race condition"),
    ("deadlock", "deadlock"),
    ("deadlocks", "deadlock"),
    ("memory leak", "memory leak"),
    ("memory leaks", "memory leak"),
    ("concurrency", "concurrency"),
    ("thread safety", "thread safety"),
    ("thread-safe", "thread safety"),
    ("cryptography", "cryptography"),
    ("encryption", "encryption"),
    ("performance regression", "performance regression"),
    ("root cause", "root cause"),
    ("RLS", "row-level security"),
    ("row level security", "row-level security"),
    ("auth bypass", "auth bypass"),
    ("authentication bypass", "auth bypass"),
    ("privilege escalation", "privilege escalation"),
    ("SQL injection", "SQL injection"),
    ("data loss", "data loss"),
    ("data corruption", "data corruption"),
    ("critical bug", "critical bug"),
    # French
    ("sécurité", "security"),
    ("vulnérabilité", "vulnerability"),
    ("vulnérabilités", "vulnerability"),
    ("faille", "security hole"),
    ("failles", "security hole"),
    ("refonte", "redesign"),
    ("incident de production", "production incident"),
    ("incident en production", "production incident"),
    ("panne en production", "production outage"),
    ("condition de course", "race condition"),
    ("conditions de course", "race condition"),
    ("situation de compétition", "race condition"),
    ("interblocage", "deadlock"),
    ("fuite mémoire", "memory leak"),
    ("fuite de mémoire", "memory leak"),
    ("fuites mémoire", "memory leak"),
    ("fuites de mémoire", "memory leak"),
    ("concurrence", "concurrency"),
    ("cause racine", "root cause"),
    ("cause première", "root cause"),
    ("bug critique", "critical bug"),
    ("régression de performance", "performance regression"),
    ("régression de performances", "performance regression"),
    ("cryptographie", "cryptography"),
    ("chiffrement", "encryption"),
    ("injection SQL", "SQL injection"),
    ("élévation de privilèges", "privilege escalation"),
    ("perte de données", "data loss"),
    ("corruption de données", "data corruption"),
)

MEDIUM_KEYWORDS: tuple[tuple[str, str], ...] = (
    # English
    ("refactor", "refactor"),
    ("refactoring", "refactor"),
    ("test", "tests"),
    ("tests", "tests"),
    ("testing", "tests"),
    ("unit test", "unit tests"),
    ("unit tests", "unit tests"),
    ("integration test", "integration tests"),
    ("integration tests", "integration tests"),
    ("debug", "debug"),
    ("debugging", "debug"),
    ("bug", "bug"),
    ("bugs", "bug"),
    ("fix the bug", "fix the bug"),
    ("fix this bug", "fix the bug"),
    ("fix a bug", "fix the bug"),
    ("bug fix", "fix the bug"),
    ("bugfix", "fix the bug"),
    ("docker", "docker"),
    ("dockerfile", "docker"),
    ("docker compose", "docker"),
    ("API", "API"),
    ("endpoint", "endpoint"),
    ("endpoints", "endpoint"),
    ("implement", "implement"),
    ("implementation", "implement"),
    ("feature", "feature"),
    ("features", "feature"),
    ("integration", "integration"),
    ("optimize", "optimize"),
    ("optimise", "optimize"),
    ("CI pipeline", "CI pipeline"),
    ("GitHub Actions", "CI pipeline"),
    # French ("test", "tests", "bug", "API", "docker", "intégration" are shared with English)
    ("refactoriser", "refactor"),
    ("refactorisation", "refactor"),
    ("refactorer", "refactor"),
    ("test unitaire", "unit tests"),
    ("tests unitaires", "unit tests"),
    ("tests d'intégration", "integration tests"),
    ("déboguer", "debug"),
    ("débogage", "debug"),
    ("bogue", "bug"),
    ("bogues", "bug"),
    ("corriger le bug", "fix the bug"),
    ("corriger ce bug", "fix the bug"),
    ("corriger un bug", "fix the bug"),
    ("implémenter", "implement"),
    ("implémentation", "implement"),
    ("fonctionnalité", "feature"),
    ("fonctionnalités", "feature"),
    ("point de terminaison", "endpoint"),
    ("optimiser", "optimize"),
)

SIMPLE_KEYWORDS: tuple[tuple[str, str], ...] = (
    # English. Bare "comment" is left out on purpose: in French it means "how" and starts
    # half the questions ("Comment implémenter …"); the forms below are English-only.
    ("typo", "typo"),
    ("typos", "typo"),
    ("readme", "readme"),
    ("documentation", "documentation"),
    ("docs", "documentation"),
    ("comments", "comment"),
    ("a comment", "comment"),
    ("the comment", "comment"),
    ("this comment", "comment"),
    ("code comment", "comment"),
    ("comment out", "comment"),
    ("rename", "rename"),
    ("format", "format"),
    ("formatting", "format"),
    ("lint", "lint"),
    ("linting", "lint"),
    ("spelling", "spelling"),
    ("grammar", "spelling"),
    ("wording", "wording"),
    ("changelog", "changelog"),
    ("docstring", "docstring"),
    ("docstrings", "docstring"),
    ("whitespace", "whitespace"),
    ("indentation", "indentation"),
    # French
    ("coquille", "typo"),
    ("coquilles", "typo"),
    ("faute de frappe", "typo"),
    ("fautes de frappe", "typo"),
    ("faute d'orthographe", "spelling"),
    ("fautes d'orthographe", "spelling"),
    ("orthographe", "spelling"),
    ("commentaire", "comment"),
    ("commentaires", "comment"),
    ("renommer", "rename"),
    ("formater", "format"),
    ("formatage", "format"),
    ("mise en forme", "format"),
)

AVOID_OPENAI_PHRASES: tuple[tuple[str, str], ...] = (
    ("without OpenAI", "avoid OpenAI"),
    ("no OpenAI", "avoid OpenAI"),
    ("avoid OpenAI", "avoid OpenAI"),
    ("not OpenAI", "avoid OpenAI"),
    ("non-OpenAI", "avoid OpenAI"),
    ("don't use OpenAI", "avoid OpenAI"),
    ("do not use OpenAI", "avoid OpenAI"),
    ("sans OpenAI", "avoid OpenAI"),
    ("pas d'OpenAI", "avoid OpenAI"),
    ("pas OpenAI", "avoid OpenAI"),
    ("éviter OpenAI", "avoid OpenAI"),
    ("évite OpenAI", "avoid OpenAI"),
    ("évitez OpenAI", "avoid OpenAI"),
    ("hors OpenAI", "avoid OpenAI"),
    ("n'utilise pas OpenAI", "avoid OpenAI"),
)

LOCAL_PHRASES: tuple[tuple[str, str], ...] = (
    ("local model", "local model"),
    ("local models", "local model"),
    ("local LLM", "local model"),
    ("offline model", "offline model"),
    ("offline models", "offline model"),
    ("ollama", "Ollama"),
    ("qwen", "Qwen"),
    ("on my machine", "on my machine"),
    ("modèle local", "local model"),
    ("modèles locaux", "local model"),
    ("LLM local", "local model"),
    ("modèle hors ligne", "offline model"),
    ("sur ma machine", "on my machine"),
)

OPEN_MODELS_PHRASES: tuple[tuple[str, str], ...] = (
    ("open model", "open models"),
    ("open models", "open models"),
    ("open-source model", "open models"),
    ("open-source models", "open models"),
    ("open-weight model", "open models"),
    ("open-weight models", "open models"),
    ("open weights", "open weights"),
    ("Hugging Face", "Hugging Face"),
    ("HuggingFace", "Hugging Face"),
    ("modèle open source", "open models"),
    ("modèles open source", "open models"),
    ("modèle ouvert", "open models"),
    ("modèles ouverts", "open models"),
    ("modèle libre", "open models"),
    ("modèles libres", "open models"),
    ("poids ouverts", "open weights"),
)

# (kind, value, table): kind "level" or "intent"; order only matters for the conflict check.
VOCABULARY: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("level", COMPLEX, COMPLEX_KEYWORDS),
    ("level", MEDIUM, MEDIUM_KEYWORDS),
    ("level", SIMPLE, SIMPLE_KEYWORDS),
    ("intent", AVOID_OPENAI, AVOID_OPENAI_PHRASES),
    ("intent", LOCAL, LOCAL_PHRASES),
    ("intent", OPEN_MODELS, OPEN_MODELS_PHRASES),
)


# --------------------------------------------------------------------------------------------
# Public types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassifyThresholds:
    """Size thresholds in clean tokens; a size *equal* to a threshold is not above it."""

    medium_tokens: int = 1500  # at least medium above this many (clean) tokens
    complex_tokens: int = 12000  # at least complex above this
    long_context_tokens: int = 60000  # long-context above this
    long_prompt_words: int = 60  # without keywords, an instruction longer than this is medium

    def __post_init__(self) -> None:
        for name in ("medium_tokens", "complex_tokens", "long_context_tokens", "long_prompt_words"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if self.medium_tokens > self.complex_tokens:
            raise ValueError(
                f"medium_tokens ({self.medium_tokens}) must not exceed "
                f"complex_tokens ({self.complex_tokens})"
            )


@dataclass(frozen=True)
class Reason:
    rule: str  # stable id, e.g. "keyword.complex", "size.long_context", "intent.avoid_openai"
    detail: str  # human text naming the words or sizes that decided


@dataclass(frozen=True)
class Classification:
    complexity: str  # "simple" | "medium" | "complex"
    long_context: bool
    intents: frozenset[str]  # subset of INTENTS
    reasons: tuple[Reason, ...]

    def __post_init__(self) -> None:
        if self.complexity not in LEVELS:
            raise ValueError(f"complexity must be one of {LEVELS}, got {self.complexity!r}")
        unknown = set(self.intents) - set(INTENTS)
        if unknown:
            raise ValueError(f"unknown intents: {sorted(unknown)}")

    def to_dict(self) -> dict[str, object]:
        """Stable JSON shape: fixed key order, intents sorted, reasons in decision order."""
        return {
            "complexity": self.complexity,
            "long_context": self.long_context,
            "intents": sorted(self.intents),
            "reasons": [{"rule": r.rule, "detail": r.detail} for r in self.reasons],
        }


# --------------------------------------------------------------------------------------------
# Folding and matching
# --------------------------------------------------------------------------------------------

# Typographic apostrophes are what phones and French keyboards produce in "pas d'OpenAI".
_APOSTROPHES = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'"}
_FOLD_CACHE: dict[str, str] = {}

_WORD = re.compile(r"\w+")
_SEPARATORS = re.compile(r"[\s\-]+")


@cache
def _fence_re() -> re.Pattern[str]:
    """Fenced code blocks (CommonMark-ish); an unclosed fence runs to the end, as in Markdown."""
    return re.compile(
        r"^[ \t]{0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]{0,3}\1[ \t]*$|\Z)", re.MULTILINE | re.DOTALL
    )


def _fold_char(char: str) -> str:
    folded = _FOLD_CACHE.get(char)
    if folded is None:
        if char in _APOSTROPHES:
            folded = "'"
        else:
            decomposed = unicodedata.normalize("NFKD", char)
            folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
        _FOLD_CACHE[char] = folded
    return folded


def fold(text: str) -> str:
    """Accent- and case-insensitive form used for matching: "SÉCURITÉ" → "securite"."""
    if text.isascii():
        return text.lower()  # same as casefold for ASCII, and far cheaper
    return "".join(_fold_char(c) for c in text)


def _fold_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """Fold ``text`` and map each folded index back to its index in ``text``.

    ``None`` means the identity map: folding kept every character one-for-one, which is the
    case for ASCII and for precomposed accents (é → e), so most prompts pay nothing for it.
    """
    if text.isascii():
        return text.lower(), None
    pieces = [_fold_char(c) for c in text]
    folded = "".join(pieces)
    if len(folded) == len(text) and all(len(p) == 1 for p in pieces):
        return folded, None
    offsets: list[int] = []
    for index, piece in enumerate(pieces):
        offsets.extend([index] * len(piece))
    return folded, offsets


def _phrase_key(folded_phrase: str) -> str:
    """Canonical key of a folded phrase: separators (spaces, hyphens) collapsed to one space."""
    return _SEPARATORS.sub(" ", folded_phrase).strip()


class _Entry(NamedTuple):
    kind: str  # "level" | "intent"
    value: str  # a level or an intent
    gloss: str


class _Vocabulary(NamedTuple):
    """The phrases as keys of words: a phrase is found by looking up runs of words."""

    lexicon: dict[str, _Entry]  # phrase key → what it means
    first_words: frozenset[str]  # the first word of every key
    gaps: frozenset[str]  # what joins two words inside a key: " " (any spaces/hyphens), "'"
    max_words: int  # words in the longest key


@cache
def _vocabulary() -> _Vocabulary:
    """Index the vocabulary once, at first use, so importing this module stays free."""
    lexicon: dict[str, _Entry] = {}
    gaps: set[str] = set()
    max_words = 0
    first_words: set[str] = set()
    for kind, value, table in VOCABULARY:
        for phrase, gloss in table:
            key = _phrase_key(fold(phrase))
            known = lexicon.get(key)
            if known is not None:
                if (known.kind, known.value) != (kind, value):
                    raise ValueError(
                        f"keyword {phrase!r} is both {known.kind} {known.value!r}"
                        f" and {kind} {value!r}"
                    )
                continue
            first = _WORD.match(key)
            between = _WORD.split(key)  # "", what joins each two words, ""
            if first is None or between[-1]:
                raise ValueError(f"keyword {phrase!r} must start and end with a letter or digit")
            lexicon[key] = _Entry(kind, value, gloss)
            first_words.add(first.group())
            gaps.update(between[1:-1])
            max_words = max(max_words, len(between) - 1)
    return _Vocabulary(lexicon, frozenset(first_words), frozenset(gaps), max_words)


class _Match(NamedTuple):
    entry: _Entry
    written: str  # as the user wrote it, whitespace collapsed
    key: str  # folded canonical form, for de-duplication


def _blank_code_blocks(text: str) -> str:
    """Replace fenced code blocks by spaces of the same length (offsets stay valid)."""
    if "```" not in text and "~~~" not in text:
        return text
    return _fence_re().sub(lambda m: " " * len(m.group(0)), text)


def _starts_free(folded: str, spans: list[tuple[int, int]], i: int) -> bool:
    """Word ``i`` is not inside a path ("docs/x", "x\\tests") or a dotted name ("os.path")."""
    start = spans[i][0]
    before = folded[start - 1 : start]
    if before == "/" or before == "\\":
        return False
    return not (before == "." and i > 0 and spans[i - 1][1] == start - 1)


def _ends_free(folded: str, spans: list[tuple[int, int]], i: int) -> bool:
    """Word ``i`` is not followed by a path separator or a file extension ("api.md")."""
    end = spans[i][1]
    after = folded[end : end + 1]
    if after == "/" or after == "\\":
        return False
    return not (after == "." and i + 1 < len(spans) and spans[i + 1][0] == end + 1)


def _phrase_at(
    folded: str, spans: list[tuple[int, int]], i: int, vocabulary: _Vocabulary
) -> tuple[str, int] | None:
    """The longest phrase starting at word ``i``: its key and its last word, or None."""
    if not _starts_free(folded, spans, i):
        return None
    keys = [folded[spans[i][0] : spans[i][1]]]  # keys[k]: words i to i + k, as a key
    for j in range(i + 1, min(len(spans), i + vocabulary.max_words)):
        gap = _SEPARATORS.sub(" ", folded[spans[j - 1][1] : spans[j][0]])
        if gap not in vocabulary.gaps:
            break
        keys.append(keys[-1] + gap + folded[spans[j][0] : spans[j][1]])
    for k in range(len(keys) - 1, -1, -1):
        if keys[k] in vocabulary.lexicon and _ends_free(folded, spans, i + k):
            return keys[k], i + k
    return None


def _phrases(folded: str, vocabulary: _Vocabulary) -> Iterator[tuple[str, int, int]]:
    """Every phrase of the folded text, left to right: its key, start and end.

    The text is cut into words (runs of letters, digits and ``_``) once; a phrase is a run of
    words joined by separators (spaces, hyphens) or an apostrophe that is a key of the
    vocabulary, the longest first. After a phrase, the search goes on after its last word.
    """
    spans = [m.span() for m in _WORD.finditer(folded)]
    first_words = vocabulary.first_words
    after = 0  # the words before this one belong to the previous phrase
    for i, word in enumerate(_WORD.findall(folded)):
        if i >= after and word in first_words:
            hit = _phrase_at(folded, spans, i, vocabulary)
            if hit is not None:
                key, last = hit
                yield key, spans[i][0], spans[last][1]
                after = last + 1


def _find(prompt: str) -> list[_Match]:
    """Every distinct keyword/intent phrase in the instruction, in order of first appearance."""
    vocabulary = _vocabulary()
    scanned = _blank_code_blocks(prompt)
    folded, offsets = _fold_with_offsets(scanned)
    found: dict[str, _Match] = {}
    for key, start, end in _phrases(folded, vocabulary):
        if key in found:
            continue
        if offsets is not None:
            start, end = offsets[start], offsets[end - 1] + 1
            # A decomposed accent ("e" + U+0301) folds to nothing: keep it with its letter.
            while end < len(prompt) and unicodedata.combining(prompt[end]):
                end += 1
        written = " ".join(prompt[start:end].split())
        found[key] = _Match(vocabulary.lexicon[key], written, key)
    return list(found.values())


# --------------------------------------------------------------------------------------------
# Decision
# --------------------------------------------------------------------------------------------


def _quote(match: _Match) -> str:
    """'"sécurité" (security)'; the gloss is dropped when the user wrote it that way."""
    text = f'"{match.written}"'
    if match.key != _phrase_key(fold(match.entry.gloss)):
        text += f" ({match.entry.gloss})"
    return text


def _n(value: int) -> str:
    return f"{value:,}"


def _size_text(tokens: int, attachment_tokens: int) -> str:
    if attachment_tokens:
        return (
            f"{_n(tokens)} tokens (instruction {_n(tokens - attachment_tokens)}"
            f" + attachment {_n(attachment_tokens)})"
        )
    return f"{_n(tokens)} tokens"


def _keyword_level(matches: list[_Match]) -> tuple[str | None, list[Reason]]:
    """Highest matched level, and one reason per matched keyword (deciding level first)."""
    levels = [m for m in matches if m.entry.kind == "level"]
    reasons = [
        Reason(f"keyword.{level}", f"keyword {_quote(m)}")
        for level in reversed(LEVELS)
        for m in levels
        if m.entry.value == level
    ]
    if not levels:
        return None, reasons
    return max((m.entry.value for m in levels), key=LEVELS.index), reasons


def _default_level(prompt: str, limit: int) -> tuple[str, Reason]:
    words = len(prompt.split())
    if words > limit:
        return MEDIUM, Reason(
            "default.long_prompt",
            f"no level keyword; instruction of {words} words > {limit} (long_prompt_words)"
            " → medium",
        )
    return SIMPLE, Reason(
        "default.short_prompt",
        f"no level keyword; instruction of {words} words ≤ {limit} (long_prompt_words) → simple",
    )


def _size_floor(
    tokens: int, attachment_tokens: int, keyword_level: str | None, th: ClassifyThresholds
) -> tuple[str, Reason]:
    size = _size_text(tokens, attachment_tokens)
    if tokens > th.complex_tokens:
        if keyword_level == SIMPLE:
            return MEDIUM, Reason(
                "size.complex_floor_capped",
                f"{size} > {_n(th.complex_tokens)} (complex_tokens), but the instruction names"
                " only simple work → at least medium",
            )
        return COMPLEX, Reason(
            "size.complex_floor",
            f"{size} > {_n(th.complex_tokens)} (complex_tokens) → at least complex",
        )
    if tokens > th.medium_tokens:
        return MEDIUM, Reason(
            "size.medium_floor",
            f"{size} > {_n(th.medium_tokens)} (medium_tokens) → at least medium",
        )
    return SIMPLE, Reason(
        "size.below_floor", f"{size} ≤ {_n(th.medium_tokens)} (medium_tokens): no size floor"
    )


def classify(
    prompt: str,
    *,
    tokens: int,
    attachment_tokens: int = 0,
    thresholds: ClassifyThresholds = ClassifyThresholds(),
) -> Classification:
    """Classify a task; see the module docstring for the rule.

    ``prompt`` is the instruction (keywords are searched there only); ``tokens`` is the clean
    token count of instruction + attachment, of which ``attachment_tokens`` came from the
    attachment (only used to explain sizes).
    """
    if tokens < 0 or attachment_tokens < 0:
        raise ValueError(f"token counts must be non-negative: {tokens=}, {attachment_tokens=}")
    if attachment_tokens > tokens:
        raise ValueError(f"attachment_tokens ({attachment_tokens}) exceeds tokens ({tokens})")

    matches = _find(prompt)
    keyword_level, reasons = _keyword_level(matches)
    if keyword_level is None:
        base, default_reason = _default_level(prompt, thresholds.long_prompt_words)
        reasons.append(default_reason)
    else:
        base = keyword_level

    floor, size_reason = _size_floor(tokens, attachment_tokens, keyword_level, thresholds)
    reasons.append(size_reason)
    complexity = max(base, floor, key=LEVELS.index)

    long_context = tokens > thresholds.long_context_tokens
    if long_context:
        reasons.append(
            Reason(
                "size.long_context",
                f"{_size_text(tokens, attachment_tokens)} > "
                f"{_n(thresholds.long_context_tokens)} (long_context_tokens)",
            )
        )

    intents: set[str] = set()
    for m in matches:
        if m.entry.kind == "intent":
            intents.add(m.entry.value)
            reasons.append(Reason(f"intent.{m.entry.value}", f"phrase {_quote(m)}"))

    return Classification(
        complexity=complexity,
        long_context=long_context,
        intents=frozenset(intents),
        reasons=tuple(reasons),
    )

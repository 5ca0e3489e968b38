"""Tests for codex_router.routing.classify: levels, intents, folding, boundaries, sizes, reasons."""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_router.routing import classify as cl
from codex_router.routing.classify import (
    Classification,
    ClassifyThresholds,
    Reason,
    classify,
)

SMALL = 50  # a token count below every default threshold
# A short prompt without level keyword, link, heading or trace: the learned score of the packaged
# weights puts it in [light_below, deep_from), the default tier (it used to be "simple" by length).
NO_KEYWORD = "medium"


def rules(c: Classification) -> list[str]:
    return [r.rule for r in c.reasons]


def details(c: Classification, prefix: str) -> list[str]:
    return [r.detail for r in c.reasons if r.rule.startswith(prefix)]


# ---------------------------------------------------------------------------------------------
# Complexity from keywords
# ---------------------------------------------------------------------------------------------

LEVEL_CASES = [
    # (prompt, expected complexity, word that must be quoted in a keyword reason)
    ("Fix the security hole in the login form", "complex", "security"),
    ("Is there a vulnerability in this parser?", "complex", "vulnerability"),
    ("Check whether CVE-2024-3094 affects us", "complex", "CVE"),
    ("Propose a new architecture for the scheduler", "complex", "architecture"),
    ("Find the race condition in the worker pool", "complex", "race condition"),
    ("There is a memory leak in the cache", "complex", "memory leak"),
    ("Enable RLS on the accounts table", "complex", "RLS"),
    ("Find the root cause of the production incident", "complex", "root cause"),
    ("Write the database migration for v2", "complex", "migration"),
    ("Corrige la faille dans le module d'authentification", "complex", "faille"),
    ("Vérifie la sécurité de l'API", "complex", "sécurité"),
    ("Il y a une fuite mémoire dans le serveur", "complex", "fuite mémoire"),
    ("Trouve la condition de course", "complex", "condition de course"),
    ("C'est un bug critique en prod", "complex", "bug critique"),
    ("Planifie la refonte du module de paiement", "complex", "refonte"),
    ("Quelle est la cause racine de l'interblocage ?", "complex", "cause racine"),
    ("Refactor the payment module", "medium", "Refactor"),
    ("Add unit tests for the parser", "medium", "unit tests"),
    ("Debug the failing request handler", "medium", "Debug"),
    ("Implement pagination on the users endpoint", "medium", "Implement"),
    ("Write a Dockerfile for the service", "medium", "Dockerfile"),
    ("Add a new API for exports", "medium", "API"),
    ("Refactoriser le module de paiement", "medium", "Refactoriser"),
    ("Ajoute des tests unitaires au parseur", "medium", "tests unitaires"),
    ("Déboguer le gestionnaire de requêtes", "medium", "Déboguer"),
    ("Implémenter la pagination", "medium", "Implémenter"),
    ("Ajoute une fonctionnalité d'export", "medium", "fonctionnalité"),
    ("Corriger le bug du panier", "medium", "Corriger le bug"),
    ("Fix the typo in the header", "simple", "typo"),
    ("Update the README install section", "simple", "README"),
    ("Rename the helper to load_config", "simple", "Rename"),
    ("Add docstrings to the public functions", "simple", "docstrings"),
    ("Fix the spelling in the changelog", "simple", "spelling"),
    ("Corrige la coquille dans le titre", "simple", "coquille"),
    ("Corrige les fautes de frappe", "simple", "fautes de frappe"),
    ("Ajoute un commentaire à cette fonction", "simple", "commentaire"),
    ("Renommer la variable x en total", "simple", "Renommer"),
    ("Vérifie l'orthographe du message", "simple", "orthographe"),
]


@pytest.mark.parametrize(
    ("prompt", "level", "word"), LEVEL_CASES, ids=[c[0][:40] for c in LEVEL_CASES]
)
def test_keyword_level(prompt: str, level: str, word: str) -> None:
    c = classify(prompt, tokens=SMALL)
    assert c.complexity == level
    assert any(f'"{word}"' in d for d in details(c, f"keyword.{level}")), c.reasons


ACCENT_CASES = [
    ("sécurité", "accents"),
    ("securite", "no accents"),
    ("SÉCURITÉ", "uppercase accents"),
    ("SECURITE", "uppercase no accents"),
    ("se\u0301curite\u0301", "decomposed accents"),
    ("Sécurité", "capitalised"),
]


@pytest.mark.parametrize(("word", "label"), ACCENT_CASES, ids=[c[1] for c in ACCENT_CASES])
def test_accents_and_case_are_folded(word: str, label: str) -> None:
    c = classify(f"Vérifie la {word} du module", tokens=SMALL)
    assert c.complexity == "complex"
    # The reason quotes the word exactly as written, decomposed accents included, plus a gloss.
    assert details(c, "keyword.complex") == [f'keyword "{word}" (security)']


PHRASE_FORM_CASES = [
    ("Fix the race  condition", "race condition", "extra space"),
    ("Fix the race\ncondition", "race condition", "newline"),
    ("Fix the race-condition", "race-condition", "hyphen"),
    ("Il y a une fuite de mémoire", "fuite de mémoire", "de form"),
    ("Il y a une FUITE MEMOIRE", "FUITE MEMOIRE", "upper no accent"),
]


@pytest.mark.parametrize(
    ("prompt", "shown", "label"), PHRASE_FORM_CASES, ids=[c[2] for c in PHRASE_FORM_CASES]
)
def test_phrase_separators(prompt: str, shown: str, label: str) -> None:
    c = classify(prompt, tokens=SMALL)
    assert c.complexity == "complex"
    # Whitespace inside the quoted phrase is collapsed for display.
    assert any(f'"{shown}"' in d for d in details(c, "keyword.complex"))


#: A keyword-less instruction of at most short_instruction_words (15) words, nothing piped.
TERSE = "simple"

BOUNDARY_CASES = [
    # (prompt, expected complexity, keyword rules expected) - the prompts are short and have
    # no other keyword, so a non-match is a terse instruction (TERSE).
    ("What is the latest release?", "simple", []),  # "latest" is not "test"; a question
    ("Update the contest page", TERSE, []),  # "contest" is not "test"
    ("Call the rapid helper", TERSE, []),  # "rapid" is not "api"
    ("Run test_utils again", TERSE, []),  # identifiers are not keywords
    ("Open tests/test_x.py and look", TERSE, []),  # paths are not keywords
    ("Read docs/api.md please", TERSE, []),  # path and file name
    ("Call os.path and stop", TERSE, []),
    ("Update the docs", "simple", ["keyword.simple"]),
    ("Add a docstring", "simple", ["keyword.simple"]),
    ("Add a test.", "medium", ["keyword.medium"]),  # sentence end is a boundary
    ("Write tests, then stop", "medium", ["keyword.medium"]),
    ("(security)", "complex", ["keyword.complex"]),
    ("Prefer the pre-migration state", "complex", ["keyword.complex"]),  # hyphen is a boundary
    ("Send the emigration form", TERSE, []),  # "emigration" is not "migration"
    ("Describe the securities market", "simple", []),  # "securities" ≠ "security"; a question
]


@pytest.mark.parametrize(
    ("prompt", "level", "keyword_rules"), BOUNDARY_CASES, ids=[c[0] for c in BOUNDARY_CASES]
)
def test_word_boundaries(prompt: str, level: str, keyword_rules: list[str]) -> None:
    c = classify(prompt, tokens=SMALL)
    assert c.complexity == level
    assert [r for r in rules(c) if r.startswith("keyword.")] == keyword_rules


def test_french_comment_is_not_the_english_keyword() -> None:
    # "Comment" means "how" in French: it must not make a question simple by keyword.
    c = classify("Comment faire pour que ça marche ?", tokens=SMALL)
    assert "keyword.simple" not in rules(c)
    c = classify("Add comments to the loader", tokens=SMALL)
    assert details(c, "keyword.simple") == ['keyword "comments" (comment)']


def test_highest_level_wins_and_every_match_is_listed() -> None:
    prompt = "Fix the typo, add tests and check the security of the API"
    c = classify(prompt, tokens=SMALL)
    assert c.complexity == "complex"
    keyword_reasons = [(r.rule, r.detail) for r in c.reasons if r.rule.startswith("keyword.")]
    # Deciding level first, then lower levels, each in order of appearance.
    assert keyword_reasons == [
        ("keyword.complex", 'keyword "security"'),
        ("keyword.medium", 'keyword "tests"'),
        ("keyword.medium", 'keyword "API"'),
        ("keyword.simple", 'keyword "typo"'),
    ]


def test_repeated_keyword_is_listed_once_as_first_written() -> None:
    c = classify("Sécurité d'abord. securite encore, SECURITE toujours.", tokens=SMALL)
    assert details(c, "keyword.") == ['keyword "Sécurité" (security)']


def test_longest_phrase_wins_over_its_prefix() -> None:
    c = classify("Write unit tests", tokens=SMALL)
    assert details(c, "keyword.") == ['keyword "unit tests"']


def test_code_blocks_in_the_instruction_are_not_scanned() -> None:
    prompt = "Fix the typo in this snippet:\n```python\n# security test api\nx = 1\n```\nthanks"
    c = classify(prompt, tokens=SMALL)
    assert c.complexity == "simple"
    assert details(c, "keyword.") == ['keyword "typo"']
    # An unclosed fence hides the rest, as Markdown renders it.
    c = classify("Fix the typo\n~~~\nsecurity", tokens=SMALL)
    assert c.complexity == "simple"


# ---------------------------------------------------------------------------------------------
# Default without keyword
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("words", "piped"), [(1, ""), (15, ""), (15, "x 1\n")])
def test_a_terse_instruction_with_nothing_piped_is_simple(words: int, piped: str) -> None:
    c = classify(
        " ".join(["word"] * words), tokens=SMALL, attachment=piped, attachment_tokens=len(piped)
    )
    assert ("instruction.short" in rules(c)) is (not piped)
    assert c.complexity == ("simple" if not piped else NO_KEYWORD)


def test_short_instruction_words_moves_the_terse_rule() -> None:
    th = ClassifyThresholds(short_instruction_words=3)
    assert classify("add a button", tokens=SMALL, thresholds=th).complexity == "simple"
    c = classify("add a blue button", tokens=SMALL, thresholds=th)
    assert c.complexity == NO_KEYWORD and rules(c)[0] == "score"


@pytest.mark.parametrize("words", [16, 60, 61], ids=["16 words", "60 words", "61 words"])
def test_without_keyword_the_score_decides_whatever_the_length(words: int) -> None:
    # The length alone no longer decides (it separated hard from easy issues no better than a
    # coin toss): the same words give the same score, hence the same tier.
    c = classify(" ".join(["word"] * words), tokens=SMALL)
    assert c.complexity == NO_KEYWORD
    assert rules(c)[0] == "score"
    assert f"{words} words" in c.reasons[0].detail
    assert "no level keyword" in c.reasons[0].detail


def test_keyword_decides_in_a_short_instruction_only() -> None:
    # Up to long_prompt_words words a simple keyword decides; in a longer text the score does
    # (a simple keyword as a cap on long issues sent 7.6 % of the hard ones to light, out of fold).
    assert classify("Fix the typo. " + " ".join(["word"] * 50), tokens=SMALL).complexity == (
        "simple"
    )
    c = classify("Fix the typo. " + " ".join(["word"] * 100), tokens=SMALL)
    assert c.complexity == NO_KEYWORD
    assert details(c, "keyword.") == ['keyword "typo"']
    assert "103 words > 60 (long_prompt_words)" in details(c, "score")[0]


# ---------------------------------------------------------------------------------------------
# Sizes
# ---------------------------------------------------------------------------------------------

SIZE_CASES = [
    # (prompt, tokens, complexity, long_context, size rule)
    ("Fix the typo", 1500, "simple", False, "size.below_floor"),
    ("Fix the typo", 1501, "medium", False, "size.medium_floor"),
    ("Fix the typo", 12000, "medium", False, "size.medium_floor"),
    ("Fix the typo", 12001, "medium", False, "size.complex_floor_capped"),
    ("Why does this fail?", 12000, "medium", False, "size.medium_floor"),
    ("Why does this fail?", 12001, "complex", False, "size.complex_floor"),
    ("Add unit tests", 12001, "complex", False, "size.complex_floor"),
    ("Why does this fail?", 60000, "complex", False, "size.complex_floor"),
    ("Why does this fail?", 60001, "complex", True, "size.complex_floor"),
    ("Fix the typo", 60001, "medium", True, "size.complex_floor_capped"),
    ("Audit the security", 0, "complex", False, "size.below_floor"),
]


@pytest.mark.parametrize(
    ("prompt", "tokens", "level", "long_context", "size_rule"),
    SIZE_CASES,
    ids=[f"{c[0]} @ {c[1]}" for c in SIZE_CASES],
)
def test_size_thresholds(
    prompt: str, tokens: int, level: str, long_context: bool, size_rule: str
) -> None:
    c = classify(prompt, tokens=tokens)
    assert c.complexity == level
    assert c.long_context is long_context
    size_rules = [r for r in rules(c) if r.startswith("size.") and r != "size.long_context"]
    assert size_rules == [size_rule]
    assert ("size.long_context" in rules(c)) is long_context


def test_custom_thresholds() -> None:
    th = ClassifyThresholds(
        medium_tokens=10, complex_tokens=20, long_context_tokens=30, long_prompt_words=2
    )
    assert classify("fix typo", tokens=10, thresholds=th).complexity == "simple"
    assert classify("fix the typo", tokens=10, thresholds=th).complexity == NO_KEYWORD
    assert classify("hi", tokens=21, thresholds=th).complexity == "complex"
    assert classify("hi", tokens=31, thresholds=th).long_context is True


def test_size_reasons_name_sizes_and_thresholds() -> None:
    c = classify("Why does this fail?", tokens=70000, attachment_tokens=69990)
    by_rule = {r.rule: r.detail for r in c.reasons}
    assert by_rule["size.complex_floor"] == (
        "70,000 tokens (instruction 10 + attachment 69,990) > 12,000 (complex_tokens)"
        " → at least complex"
    )
    assert by_rule["size.long_context"] == (
        "70,000 tokens (instruction 10 + attachment 69,990) > 60,000 (long_context_tokens)"
    )
    c = classify("Fix the typo", tokens=1500)
    assert c.reasons[-1] == Reason(
        "size.below_floor", "1,500 tokens ≤ 1,500 (medium_tokens): no size floor"
    )


def test_attachment_words_are_not_keywords() -> None:
    # The same log text would be complex if it were the instruction; piped as an attachment it
    # only counts by size, so a typo fix with a big noisy log stays below complex.
    log = "ERROR security test failed: race condition in api\n" * 3
    assert classify(log, tokens=SMALL).complexity == "complex"
    c = classify("fix the typo in the banner", tokens=40000, attachment_tokens=39990)
    assert c.complexity == "medium"
    assert details(c, "keyword.") == ['keyword "typo"']
    assert "security" not in json.dumps(c.to_dict())


# ---------------------------------------------------------------------------------------------
# Intents
# ---------------------------------------------------------------------------------------------

INTENT_CASES = [
    ("Fix it without OpenAI", "avoid_openai", "without OpenAI"),
    ("No OpenAI please", "avoid_openai", "No OpenAI"),
    ("Avoid openai for this one", "avoid_openai", "Avoid openai"),
    ("Do not use OpenAI", "avoid_openai", "Do not use OpenAI"),
    ("Use a non-OpenAI model", "avoid_openai", "non-OpenAI"),
    ("Corrige ça sans OpenAI", "avoid_openai", "sans OpenAI"),
    ("Pas d'OpenAI pour ça", "avoid_openai", "Pas d'OpenAI"),
    ("Pas d\u2019OpenAI pour ça", "avoid_openai", "Pas d\u2019OpenAI"),
    ("Éviter OpenAI", "avoid_openai", "Éviter OpenAI"),
    ("EVITER OPENAI", "avoid_openai", "EVITER OPENAI"),
    ("Use a local model", "local", "local model"),
    ("Use an offline model", "local", "offline model"),
    ("Run it with Ollama", "local", "Ollama"),
    ("Ask Qwen", "local", "Qwen"),
    ("Keep it on my machine", "local", "on my machine"),
    ("Utilise un modèle local", "local", "modèle local"),
    ("Un modèle hors ligne", "local", "modèle hors ligne"),
    ("Un modèle hors-ligne", "local", "modèle hors-ligne"),
    ("Use an open model", "open_models", "open model"),
    ("Use open-source models only", "open_models", "open-source models"),
    ("Use open source models only", "open_models", "open source models"),
    ("Prefer open weights", "open_models", "open weights"),
    ("Route it to Hugging Face", "open_models", "Hugging Face"),
    ("Route it to huggingface", "open_models", "huggingface"),
    ("Un modèle open source suffit", "open_models", "modèle open source"),
    ("Des modeles ouverts", "open_models", "modeles ouverts"),
    ("Poids ouverts seulement", "open_models", "Poids ouverts"),
]


@pytest.mark.parametrize(
    ("prompt", "intent", "shown"), INTENT_CASES, ids=[c[0] for c in INTENT_CASES]
)
def test_intents(prompt: str, intent: str, shown: str) -> None:
    c = classify(prompt, tokens=SMALL)
    assert c.intents == frozenset({intent})
    assert len(details(c, f"intent.{intent}")) == 1
    assert f'"{shown}"' in details(c, f"intent.{intent}")[0]


@pytest.mark.parametrize(
    "prompt",
    ["Call the OpenAI API", "Is this open?", "Move to the local branch", "openai-compatible"],
    ids=["openai alone", "open alone", "local alone", "openai-compatible"],
)
def test_no_intent(prompt: str) -> None:
    assert classify(prompt, tokens=SMALL).intents == frozenset()


def test_several_intents_and_no_effect_on_complexity() -> None:
    c = classify("Sans OpenAI, avec un modèle local ou un modèle open source", tokens=SMALL)
    assert c.intents == frozenset({"avoid_openai", "local", "open_models"})
    assert (
        c.complexity == classify("Sans X, avec un modèle Y ou un modèle Z", tokens=SMALL).complexity
    )
    assert [r.rule for r in c.reasons if r.rule.startswith("intent.")] == [
        "intent.avoid_openai",
        "intent.local",
        "intent.open_models",
    ]
    assert details(c, "intent.avoid_openai") == ['phrase "Sans OpenAI" (avoid OpenAI)']


# ---------------------------------------------------------------------------------------------
# Output shape, validation, vocabulary, performance
# ---------------------------------------------------------------------------------------------


def test_to_dict_is_stable() -> None:
    c = classify("Trouve la faille de sécurité, sans OpenAI, via Ollama", tokens=2000)
    d = c.to_dict()
    assert list(d) == ["complexity", "long_context", "intents", "reasons", "score"]
    assert isinstance(d["score"], float) and d["score"] == round(c.score or 0, 4)
    assert d == {
        "complexity": "complex",
        "long_context": False,
        "intents": ["avoid_openai", "local"],
        "reasons": [
            {"rule": "keyword.complex", "detail": 'keyword "faille" (security hole)'},
            {"rule": "keyword.complex", "detail": 'keyword "sécurité" (security)'},
            {
                "rule": "size.medium_floor",
                "detail": "2,000 tokens > 1,500 (medium_tokens) → at least medium",
            },
            {"rule": "intent.avoid_openai", "detail": 'phrase "sans OpenAI" (avoid OpenAI)'},
            {"rule": "intent.local", "detail": 'phrase "Ollama"'},
        ],
        "score": d["score"],
    }
    # JSON-serialisable, and the same input gives the same bytes.
    again = classify("Trouve la faille de sécurité, sans OpenAI, via Ollama", tokens=2000)
    assert json.dumps(d, ensure_ascii=False) == json.dumps(again.to_dict(), ensure_ascii=False)


def test_every_classification_has_reasons() -> None:
    for prompt in ("", "hello", "Fix the typo", "sans OpenAI"):
        c = classify(prompt, tokens=SMALL)
        assert c.reasons, prompt
        assert all(r.rule and r.detail for r in c.reasons)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tokens": -1},
        {"tokens": 10, "attachment_tokens": -1},
        {"tokens": 10, "attachment_tokens": 11},
    ],
    ids=["negative tokens", "negative attachment", "attachment above total"],
)
def test_bad_token_counts(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        classify("x", **kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"medium_tokens": -1},
        {"medium_tokens": 100, "complex_tokens": 50},
        {"long_prompt_words": True},
    ],
    ids=["negative", "medium above complex", "bool"],
)
def test_bad_thresholds(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        ClassifyThresholds(**kwargs)


def test_classification_validates_values() -> None:
    with pytest.raises(ValueError):
        Classification("hard", False, frozenset(), ())
    with pytest.raises(ValueError):
        Classification("simple", False, frozenset({"cheap"}), ())


def test_vocabulary_has_no_conflicts_and_every_phrase_matches_itself() -> None:
    lexicon = cl._vocabulary().lexicon
    for kind, value, table in cl.VOCABULARY:
        for phrase, _gloss in table:
            entry = lexicon[cl._phrase_key(cl.fold(phrase))]
            assert (entry.kind, entry.value) == (kind, value), phrase
            c = classify(f"please {phrase} now", tokens=SMALL)
            if kind == "level":
                assert c.complexity == value, phrase
            else:
                assert value in c.intents, phrase


def test_fold() -> None:
    assert cl.fold("SÉCURITÉ") == "securite"
    assert cl.fold("Éviter d\u2019OpenAI") == "eviter d'openai"
    assert cl.fold("Straße") == "strasse"


def test_import_is_cheap() -> None:
    code = (
        "import sys; import codex_router.routing.classify as c; "
        "heavy = {'tiktoken', 'regex', 'yaml', 'typer', 'rich', 'httpx'} & set(sys.modules); "
        "assert not heavy, heavy; assert c._vocabulary.cache_info().currsize == 0"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("prompt", ["I am offline today, fix the cache", "Fais les tests en local"])
def test_offline_and_en_local_describe_the_code_not_the_model(prompt: str) -> None:
    assert "local" not in classify(prompt, tokens=10).intents


# ---------------------------------------------------------------------------------------------
# The word lookup finds what one regular expression over the whole vocabulary finds
# ---------------------------------------------------------------------------------------------


@functools.cache
def _vocabulary_regex() -> re.Pattern[str]:
    """The matching rule as one regex: a key at a word start that is not inside a path or a
    dotted name, the longest one ending at a word end that is not followed by a path separator
    or an extension; a space in a key stands for any run of spaces and hyphens."""
    keys = sorted(cl._vocabulary().lexicon, key=len, reverse=True)
    body = "|".join(r"[\s\-]+".join(map(re.escape, key.split(" "))) for key in keys)
    return re.compile(rf"(?<![\w/\\])(?<!\w\.)(?:{body})(?![\w/\\])(?!\.\w)")


_PIECES = [phrase for _kind, _value, table in cl.VOCABULARY for phrase, _gloss in table] + [
    *("docs/", "/", "\\", ".", ".md", "os.", "_", "-", " - ", "'", "\u2019", "\t", "\u00a0"),
    *("é", "e\u0301", "ß", "tests", "test_utils", "latest", "d'", "open", "model", "```\n"),
]
_JOINS = ["", " ", "  ", "-", ".", "/", "'", ", ", "\n"]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_PIECES) | st.text(max_size=3), st.sampled_from(_JOINS)),
        max_size=12,
    ),
    st.booleans(),
)
def test_word_lookup_finds_what_one_regex_over_the_vocabulary_finds(
    pieces: list[tuple[str, str]], upper: bool
) -> None:
    text = "".join(piece + join for piece, join in pieces)
    folded = cl.fold(text.upper() if upper else text)
    expected = [
        (cl._phrase_key(m.group()), m.start(), m.end())
        for m in _vocabulary_regex().finditer(folded)
    ]
    assert list(cl._phrases(folded, cl._vocabulary())) == expected


# ---------------------------------------------------------------------------------------------
# The learned score: tiers, reasons, the keyword rule, the weights
# ---------------------------------------------------------------------------------------------

_ISSUE = (
    "## Description\nThe exporter drops rows, see https://example.com/issues/1 and "
    "https://example.com/issues/2 and https://example.com/pull/3.\n" + "More context here. " * 30
)


TIER_CASES = [
    # (score, light_below, deep_from, level) - a score equal to light_below is not below it
    (-2.0, -1.0, 1.0, "simple"),
    (-1.0, -1.0, 1.0, "medium"),
    (0.999, -1.0, 1.0, "medium"),
    (1.0, -1.0, 1.0, "complex"),
    (0.0, 0.0, 0.0, "complex"),
    (-0.1, 0.0, 0.0, "simple"),
]


@pytest.mark.parametrize(("score", "light", "deep", "level"), TIER_CASES)
def test_tier_from_score_and_cut_points(
    score: float, light: float, deep: float, level: str
) -> None:
    th = ClassifyThresholds(light_below=light, deep_from=deep)
    assert cl.level_for(
        score, keyword_level=None, instruction_words=80, tokens=10, thresholds=th
    ) == (level)


def test_level_for_matches_classify() -> None:
    for prompt in ("Fix the typo", _ISSUE, "word " * 70, "Audit the security. " + _ISSUE):
        found = cl.features(prompt)
        score, _ = cl.score_of(found)
        level = cl.level_for(
            score,
            keyword_level=cl.keyword_level_of(found),
            instruction_words=len(prompt.split()),
            tokens=SMALL,
        )
        assert level == classify(prompt, tokens=SMALL).complexity, prompt


def test_score_reasons_name_the_signals_and_the_cut_points() -> None:
    th = ClassifyThresholds(light_below=-5.0, deep_from=0.0)
    c = classify(_ISSUE, tokens=SMALL, thresholds=th)
    score_detail = details(c, "score")[0]
    assert "no level keyword; score " in score_detail
    assert "(deep_from)" in score_detail
    assert "links 3 (links (URLs)): +" in " ".join(details(c, "signal.links"))
    signal_rules = [r for r in rules(c) if r.startswith("signal.")]
    assert 1 <= len(signal_rules) <= 3
    assert set(signal_rules) <= {f"signal.{n}" for n in cl.weights.NAMES}


def test_links_raise_the_score_and_the_attachment_counts() -> None:
    bare = cl.score_of(cl.features("Look at the exporter"))[0]
    linked = cl.score_of(cl.features("Look at the exporter", "https://a.example/1 https://b.c/2"))[
        0
    ]
    assert linked > bare


def test_complex_keyword_is_a_floor_in_a_long_instruction() -> None:
    th = ClassifyThresholds(light_below=5.0, deep_from=9.0)  # the score alone says simple
    c = classify("Audit the security of this. " + "word " * 80, tokens=SMALL, thresholds=th)
    assert c.complexity == "complex"
    assert "keyword.complex_floor" in rules(c)


DOCUMENTED_EXAMPLES = [
    ("fix a typo", "simple"),
    ("Fix the typo in the README", "simple"),
    ("Corrige la coquille dans le titre", "simple"),
    ("Audit the security of the login flow", "complex"),
    ("Review the architecture of the scheduler", "complex"),
    ("Fais un audit de sécurité de l'API", "complex"),
    ("Refactor the payment module", "medium"),
]


@pytest.mark.parametrize(("prompt", "level"), DOCUMENTED_EXAMPLES)
def test_documented_examples_keep_their_tier(prompt: str, level: str) -> None:
    assert classify(prompt, tokens=SMALL).complexity == level


def test_default_cut_points_are_the_calibrated_ones_everywhere() -> None:
    import yaml

    th = ClassifyThresholds()
    assert (th.light_below, th.deep_from) == (cl.weights.LIGHT_BELOW, cl.weights.DEEP_FROM)
    packaged = yaml.safe_load(
        (Path(cl.__file__).parent.parent / "policies" / "default.yaml").read_text(encoding="utf-8")
    )["classification"]
    assert (packaged["light_below"], packaged["deep_from"]) == (th.light_below, th.deep_from)


@pytest.mark.parametrize(
    "kwargs",
    [{"light_below": 1.0, "deep_from": 0.0}, {"light_below": float("nan")}, {"deep_from": True}],
    ids=["light above deep", "nan", "bool"],
)
def test_bad_cut_points(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ClassifyThresholds(**kwargs)


def test_classify_reads_nothing_but_its_inputs() -> None:
    # An audit hook (in a child, so it does not outlive the test) fails on any file open,
    # socket or process once the module is imported; the first call builds the vocabulary.
    code = (
        "import sys\n"
        "from codex_router.routing.classify import classify\n"
        "seen = []\n"
        "def hook(event, args):\n"
        "    if event in ('open', 'socket.connect', 'socket.__new__', 'subprocess.Popen',\n"
        "                 'os.system', 'urllib.Request', 'import'):\n"
        "        seen.append(event)\n"
        "sys.addaudithook(hook)\n"
        "for text in ('Fix the typo', 'Audit https://x.y/1\\n# H\\n' * 40, 'sans OpenAI'):\n"
        "    classify(text, tokens=10, attachment='Traceback (most recent call last):', "
        "attachment_tokens=5)\n"
        "assert not seen, seen\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow  # ~20 s alone, minutes on a loaded machine: the selection refits ~300 times
def test_training_script_reproduces_the_committed_weights() -> None:
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, str(root / "scripts" / "train_classifier.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


QUESTION_CASES = [
    # (prompt, attachment, level): a short question without keyword and without attachment is
    # simple; anything else falls to the score (NO_KEYWORD here) or to its keyword.
    ("what does ls -la print", "", "simple"),
    ("Explain this function", "", "simple"),
    ("How do I list files?", "", "simple"),
    ("Pourquoi ce script échoue-t-il ?", "", "simple"),
    ("Qu'est-ce que fait cette fonction ?", "", "simple"),
    ("Comment lister les fichiers ?", "", "simple"),
    ("what does ls -la print", "total 0\n", NO_KEYWORD),
    ("Why is there a race condition here?", "", "complex"),
    ("Somewhat broken loader", "", NO_KEYWORD),
    ("Overwhat happens", "", NO_KEYWORD),
]


@pytest.mark.parametrize(("prompt", "attachment", "level"), QUESTION_CASES)
def test_a_short_question_is_simple(prompt: str, attachment: str, level: str) -> None:
    c = classify(
        prompt,
        tokens=SMALL,
        attachment=attachment,
        attachment_tokens=len(attachment),
        thresholds=ClassifyThresholds(short_instruction_words=0),  # the question rule alone
    )
    assert c.complexity == level
    assert ("question.short" in rules(c)) is (level == "simple")


def test_a_long_question_goes_to_the_score() -> None:
    c = classify("What " + "word " * 70, tokens=SMALL)
    assert "question.short" not in rules(c)
    assert rules(c)[0] == "score"

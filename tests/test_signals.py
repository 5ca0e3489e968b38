"""Table tests for codex_router.routing.signals: every signal, in English and in French."""

from __future__ import annotations

import pytest

from codex_router.routing.signals import DESCRIPTIONS, SIGNALS, measure

TRACE = 'Traceback (most recent call last):\n  File "a.py", line 3, in <module>\nValueError: x'

SIGNAL_CASES = [
    # (signal, text, expected count) — each text is built to show that one signal
    ("words", "one two three", 3),
    ("words", "un deux trois quatre", 4),
    ("code_blocks", "See\n```python\nx = 1\n```\nand\n~~~\ny\n~~~\n", 2),
    ("code_blocks", "Voici\n```\nx = 1\n```", 1),
    ("code_lines", "Run\n```\na = 1\nb = 2\n```\n    c = 3\n", 3),
    ("code_lines", "no code here", 0),
    ("stack_trace", TRACE, 1),
    ("stack_trace", "Exception\n    at com.x.Main.run(Main.java:12)\n", 1),
    ("stack_trace", "thread 'main' panicked at src/main.rs:2:5", 1),
    ("stack_trace", "it fails with an error", 0),
    ("error_words", "ValueError raised, then a fatal error", 3),
    ("error_words", "Une erreur survient", 1),
    ("reproducer", "Steps to reproduce:\n1. open", 1),
    ("reproducer", "Pour reproduire : lancer le script", 1),
    ("reproducer", "It broke", 0),
    ("expected_actual", "Expected behavior: 1. Actual behaviour: 2.", 1),
    ("expected_actual", "Résultat attendu : 1 ; résultat obtenu : 2", 1),
    ("expected_actual", "it should work", 0),
    ("proposed_fix", "The default should be None; changing int to float fixes it", 3),
    ("proposed_fix", "La valeur devrait être nulle, il suffit de la tester", 2),
    ("diff", "diff --git a/x.py b/x.py\n@@ -1,2 +1,2 @@\n-a\n+b", 1),
    ("diff", "- a bullet\n+ another", 0),
    ("files_named", "Edit src/app/main.py, utils.ts and src/app/main.py", 2),
    ("files_named", "Modifier le fichier config.yaml", 1),
    ("files_named", "version 1.2 of os.path", 0),
    ("symbols_named", "Call `load_config` on os.path.join in MyParser", 3),
    ("symbols_named", "La classe MonAnalyseur appelle `lire`", 2),
    ("calls_named", "foo() calls bar.baz(x) and foo(y)", 2),
    ("calls_named", "La fonction lire(x) échoue", 1),
    ("feature_request", "Add support for YAML; it would be nice to have a new option", 3),
    ("feature_request", "Ce serait bien d'ajouter une nouvelle option", 2),
    ("feature_request", "Fix the crash", 0),
    ("design_words", "The API needs a refactor for backward compatibility and performance", 4),
    ("design_words", "Problème de rétrocompatibilité et de mémoire dans la conception", 3),
    ("design_words", "Fix the label", 0),
    ("numbered_steps", "1. open\n2) click\n 3. see", 3),
    ("numbered_steps", "Étapes :\n1. ouvrir\n2. cliquer", 2),
    ("bullets", "- a\n* b\n+ c\n• d", 4),
    ("bullets", "-a and b", 0),
    ("questions", "Why? How does it work ? ok", 2),
    ("questions", "Pourquoi ça plante ?", 1),
    ("questions", "a?b", 0),
    ("links", "See https://example.com/x and http://a.b", 2),
    ("links", "Voir https://exemple.fr", 1),
    ("headings", "# Title\n## Steps\n#nothashtag", 2),
    ("headings", "### Résultat\ntexte", 1),
    ("versions", "Broke between 4.2.1 and v5.0.0, also 4.2.1", 2),
    ("versions", "Depuis la version 3.10.2", 1),
    ("versions", "in 2 days", 0),
    ("easy_words", "A simple, one-line fix: trivial", 3),
    ("easy_words", "Correction facile, une seule ligne", 2),
    ("easy_words", "It is hard", 0),
    ("message_words", "The error message is misleading", 2),
    ("message_words", "Le message d'erreur est trompeur", 1),
    ("message_words", "The message arrives late", 0),
]


@pytest.mark.parametrize(
    ("signal", "text", "expected"),
    SIGNAL_CASES,
    ids=[f"{c[0]}: {c[1][:30]!r}" for c in SIGNAL_CASES],
)
def test_signal(signal: str, text: str, expected: int) -> None:
    assert measure(text)[signal] == expected


def test_every_signal_has_a_case_and_a_description() -> None:
    assert {c[0] for c in SIGNAL_CASES} == set(SIGNALS)
    assert set(DESCRIPTIONS) == set(SIGNALS)
    assert list(measure("x")) == list(SIGNALS)


def test_the_attachment_is_measured_with_the_instruction() -> None:
    alone = measure("fix the failing test")
    both = measure("fix the failing test", TRACE)
    assert alone["stack_trace"] == 0
    assert both["stack_trace"] == 1
    assert both["words"] == alone["words"] + len(TRACE.split())
    assert measure("fix the failing test", "") == alone


def test_counts_are_non_negative_and_deterministic() -> None:
    text = "# T\n1. a?\n```\nx\n" * 50  # an unclosed fence, repeated
    first = measure(text, text)
    assert first == measure(text, text)
    assert all(isinstance(v, int) and v >= 0 for v in first.values())

"""The prompt and its attachment: reading, cleaning and compressing, streaming.

Owns: reading the prompt and piped input (``source``: UTF-8 checks, limits), line cleaning
(``clean``: ANSI, carriage-return redraws, control characters), content detection
(``sections``, ``structured``), masking secrets (``secrets``), folding repeated lines
(``reducers``, ``window``), the whole stream (``compress``) and fitting a token budget
(``budget``). Pure apart from ``source``.

May import: errors, tokens, redact
"""

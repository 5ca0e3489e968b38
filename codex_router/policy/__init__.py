"""The routing policy and every setting, each with where it came from.

Owns: YAML → tree with file:line for every value (``load``), the schema and its checks
(``model``, ``fields``), flag > env > file > default resolution with provenance (``settings``),
``policy show`` (``describe``) and the starter templates (``templates``). The packaged policies
live beside this package in ``codex_router/policies/`` (the repository's top-level
``policies/`` links to them).

Side effects: reading policy files; the parsed-policy cache in the cache dir; ``policy init``
writes one file.

May import: errors, dirs, fsutil, redact
"""

"""Rendering: Rich for people, ``ui.print_json`` for ``--json``; nothing else prints.

Each view takes a result object (or its ``to_dict()``) and writes it; human output fits 80
columns and stays plain when piped.

May import: ui, redact, policy, run, codex, history, doctor
"""

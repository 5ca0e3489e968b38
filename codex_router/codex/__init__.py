"""Everything that touches the real Codex CLI.

Owns: finding and probing the ``codex`` binary (``binary``), the argv and config change of one
attempt (``argv``), editing ``$CODEX_HOME/config.toml`` for a run and giving it back byte for
byte (``config_edit`` is the pure edit, ``config_guard`` the backup, journal, lock and restore),
the managed profile files (``profiles``), launching one attempt with its timeout and signal
forwarding (``launch``), reading its ``--json`` event stream into what the user sees and how
the attempt ended (``events``), the git-tree check between attempts (``worktree``) and reading a
session's usage from Codex's rollout files (``session``).

Side effects: files under ``$CODEX_HOME`` and codex-route's state dir, the ``codex`` and ``git``
subprocesses. Nothing else in codex-route writes Codex's files or starts ``codex``.

May import: errors, dirs, fsutil, redact, policy, prompt, routing, history
"""

"""One ``codex-route run``: its plan, then its attempts, then its record.

Owns: the plan (``plan``: read and compress the input, count tokens, classify, route, estimate the
cost, build each path's argv and config change; ``Plan.to_dict()`` is the documented dry-run
JSON), its execution (``execute``: walk the ready paths in fallback order under the config
guard, stop where a fallback would not help, record the run in the history), the next step
after each attempt from how it ended (``steps``), and the paths'
adaptive health read from the history (``health``), and ``replay`` (the recorded runs
re-decided under another policy).

Side effects: through ``codex`` (launch, config guard), ``history`` (one record per run) and
``proxy.session`` (the session key handed to codex); none of its own.

May import: errors, dirs, policy, prompt, tokens, routing, codex, proxy, history
"""

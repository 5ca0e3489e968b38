"""The routing decision: which alias and which Codex-facing paths a task deserves.

Owns: classifying the task (``classify``: complexity, long context, intents, with reasons),
the route itself (``route``: provider → alias → ordered paths, pure), the cost estimate per alias
(``cost``), the readiness facts the route needs (``readiness``: which key variables are set,
whether the LiteLLM proxy answers) and the adaptive health of each path from its recorded
attempts (``health``, pure), and recorded runs re-decided under another policy (``replay``,
pure).

Side effects: none but ``readiness``, which reads the environment and probes the proxy's TCP
port; everything else is pure and table-tested.

May import: errors, dirs, urls, policy, prompt, proxy
"""

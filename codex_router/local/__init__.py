"""The local fast path: simple tasks answered by a local model on Ollama, without Codex.

Owns: the Ollama client (``ollama``: streaming chat, time to first token, tokens/s, the
``bench-local`` measurement) and the ``run --provider qwen`` fast path (``fast_path``: when it
applies, running it, recording it).

Side effects: HTTP to the Ollama URL of the policy (loopback by default), one history record.

May import: errors, dirs, redact, urls, policy, routing, run, history
"""

"""Shared test helpers: fake servers, record factories, the test corpus, small network tools.

Imported as ``helpers.<module>``: pytest puts ``tests/`` on ``sys.path`` (``pythonpath`` in
pyproject.toml), and the benchmarks add it themselves. Fixtures stay in the ``conftest.py``
files; nothing here is a fixture, and only :mod:`helpers.ci` imports pytest, so the benchmarks
may use the rest.

* :mod:`helpers.browser` — headless Chromium (Playwright), ``codex-route ui`` as a child, a
  seeded history with the numbers its charts must show
* :mod:`helpers.ci` — no skip in CI: a missing precondition fails there
* :mod:`helpers.corpus` — the corpus slice in ``tests/data/corpus`` and its data files
* :mod:`helpers.e2e` — codex-route as a child process, a user's own Codex config
* :mod:`helpers.fake_chat_server` — an OpenAI-compatible chat server (Ollama, LiteLLM upstreams)
* :mod:`helpers.fake_litellm` — a stand-in ``litellm`` executable
* :mod:`helpers.fake_responses` — an OpenAI Responses server for the real Codex
* :mod:`helpers.history` — RunRecord and Attempt factories
* :mod:`helpers.net` — a free loopback port, a URL where nothing listens
* :mod:`helpers.tty` — codex-route as a child with a real pty on the streams a test picks
"""

"""The optional local LiteLLM gateway: config generation, install checks, process life.

``config`` is pure (policy → LiteLLM YAML); ``install`` finds the ``litellm`` executable and checks
its version from files on disk; ``state`` owns the files in ``<state_dir>/proxy``; ``process``
starts, stops and inspects the proxy; ``session`` is the light part ``run`` needs (the session key
for Codex's environment, whether our proxy is up); ``members`` the per-member keys of a team gateway
(``proxy keys``), whose file format and LiteLLM ``custom_auth`` hook are ``gateway_auth`` (stdlib
only: LiteLLM loads a copy of it).

Side effects: the ``litellm`` process, its files in the state dir, HTTP to it on 127.0.0.1.

May import: errors, dirs, fsutil, urls, policy
"""

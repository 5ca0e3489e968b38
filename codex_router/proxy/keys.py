"""The names of the provider secrets codex-route knows: which variable holds which key.

Small and import-free on purpose: ``codex --version`` and every codex attempt get an
environment without the keys they do not need (:mod:`codex_router.run.child_env`), and the dry
run must not load the proxy's config builder (and YAML) to learn these names.
"""

from __future__ import annotations

#: The variable codex reads the proxy's session key from on the litellm path.
CODEX_KEY_VAR = "LITELLM_API_KEY"
#: The variable the proxy reads its master key from (LiteLLM's own name).
MASTER_KEY_VAR = "LITELLM_MASTER_KEY"

#: The variable holding each upstream's key (None: no key needed).
UPSTREAM_KEY_VARS: dict[str, str | None] = {
    "openai": "OPENAI_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "huggingface": "HF_TOKEN",
    "qwen": None,
    "anthropic": "ANTHROPIC_API_KEY",
}
#: Every provider secret codex-route knows by name: the upstream keys above, Codex's own
#: (``CODEX_API_KEY``), the proxy's (``LITELLM_*``) and the usual other names of each provider's
#: key. A child process gets only the ones its job uses (the proxy: :attr:`ProxyConfig.key_vars`;
#: codex: see :mod:`codex_router.run.child_env`); docs/providers.md lists who gets which.
PROVIDER_SECRET_VARS = (
    "OPENAI_API_KEY",
    "CODEX_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AZURE_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "ANTHROPIC_API_KEY",
    "HF_TOKEN",
    "HUGGINGFACE_API_KEY",
    "HUGGING_FACE_HUB_TOKEN",
    "HUGGINGFACEHUB_API_TOKEN",
    "LITELLM_API_KEY",
    "LITELLM_MASTER_KEY",
    "OPENROUTER_API_KEY",
    "MISTRAL_API_KEY",
    "GROQ_API_KEY",
    "DEEPSEEK_API_KEY",
    "XAI_API_KEY",
)

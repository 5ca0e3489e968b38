"""Alias roles: the parts an alias can play, and the one place that names the built-in aliases.

Code never names an alias: it asks the policy which alias plays a role (``Policy.alias_for``).
The policy's ``roles:`` section maps each role to an alias, so a user who renames an alias points
its role at the new name and routing, the proxy config, the managed profiles, the local fast path
and the stats baseline all follow.

===========  ========================  =====================================================
role         built-in alias            what plays it
===========  ========================  =====================================================
light        ``codex-light``           simple tasks (unless ``task_provider_rules`` names another)
default      ``codex-default``         medium tasks; the model of the managed ``litellm`` profile
long         ``codex-long``            long inputs
deep         ``codex-deep``            complex tasks; the baseline of "saved vs deep" in stats
no-openai    ``codex-no-openai``       ``--provider gemini``/``no-openai``; never reaches OpenAI
hf-cheap     ``codex-hf-cheap``        ``--provider huggingface`` on simple tasks
hf-fast      ``codex-hf-fast``         ``--provider huggingface`` otherwise; the managed HF profile
local        ``codex-qwen-local``      ``--provider qwen``, the local fast path, every proxy
                                       group's last fallback; ``local-small``/``phi`` without Phi
small-local  ``codex-small-local``     ``--provider local-small``/``phi``: Phi-4-mini on Ollama,
                                       64 output tokens (``codex-phi-local`` is its legacy name)
claude       ``codex-claude-complex``  ``--provider claude``: Claude through the LiteLLM proxy
===========  ========================  =====================================================
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A part an alias plays; the value is the key under the policy's ``roles:``."""

    LIGHT = "light"
    DEFAULT = "default"
    LONG = "long"
    DEEP = "deep"
    NO_OPENAI = "no-openai"
    HF_CHEAP = "hf-cheap"
    HF_FAST = "hf-fast"
    LOCAL = "local"
    SMALL_LOCAL = "small-local"
    CLAUDE = "claude"


#: The alias the packaged default policy (``policies/default.yaml``, ``roles:``) gives each role.
#: The policy is what counts at run time; a test keeps the two equal.
DEFAULT_ALIASES: dict[Role, str] = {
    Role.LIGHT: "codex-light",
    Role.DEFAULT: "codex-default",
    Role.LONG: "codex-long",
    Role.DEEP: "codex-deep",
    Role.NO_OPENAI: "codex-no-openai",
    Role.HF_CHEAP: "codex-hf-cheap",
    Role.HF_FAST: "codex-hf-fast",
    Role.LOCAL: "codex-qwen-local",
    Role.SMALL_LOCAL: "codex-small-local",
    Role.CLAUDE: "codex-claude-complex",
}

#: The role whose alias a kind of task gets when ``task_provider_rules.<kind>.alias`` is not set.
TASK_ROLES: dict[str, Role] = {
    "simple": Role.LIGHT,
    "medium": Role.DEFAULT,
    "complex": Role.DEEP,
    "long_context": Role.LONG,
}

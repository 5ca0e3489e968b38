"""The extra codex arguments a user passes after ``--``: what they override. Pure.

``codex exec`` takes ``-c key=value`` / ``--config key=value`` (also ``-ckey=value``,
``-c=key=value`` and ``--config=key=value``), ``-p NAME`` / ``--profile NAME`` (a file
``$CODEX_HOME/NAME.config.toml`` layered over config.toml), and ``--oss`` /
``--local-provider NAME``, which switch to a local provider. On a managed path codex-route
selects its own provider (``-c model_provider="cost-routing"`` and the table it writes), so an
extra argument choosing another provider, or changing a provider table, would silently send the
run elsewhere while it is recorded as ``litellm``: :func:`check_provider_overrides` refuses it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from codex_router.errors import UsageError

#: Codex flags that switch the provider without a ``-c``.
PROVIDER_FLAGS = ("--oss", "--local-provider")
#: ``codex exec``'s flag for its JSONL event stream (``--experimental-json``: its older name).
JSON_FLAGS = ("--json", "--experimental-json")


def asks_for_events(codex_args: Sequence[str]) -> bool:
    """Does the user pass ``--json`` to codex themselves (then the events are theirs, on stdout)?"""
    return any(arg in JSON_FLAGS for arg in codex_args)


def config_overrides(codex_args: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(flag as written, key, value)`` for every ``-c``/``--config`` in ``codex_args``.

    The key is normalised as Codex reads it: spaces around it dropped, quotes around each dotted
    part removed (``model_providers."x".env_key`` → ``model_providers.x.env_key``).
    """
    found = []
    i = 0
    while i < len(codex_args):
        arg = codex_args[i]
        value: str | None = None
        if arg in ("-c", "--config"):
            if i + 1 < len(codex_args):
                value = codex_args[i + 1]
                i += 1
        elif arg.startswith("--config="):
            value = arg[len("--config=") :]
        elif arg.startswith("-c") and not arg.startswith("--"):
            value = arg[2:]
            value = value[1:] if value.startswith("=") else value
        if value is not None:
            key, _, rest = value.partition("=")
            found.append((arg, _normal_key(key), rest.strip()))
        i += 1
    return found


def _normal_key(key: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in key.strip().split("."))


def profile_names(codex_args: Sequence[str]) -> list[str]:
    """The profiles named by ``-p NAME``, ``-pNAME``, ``--profile NAME`` or ``--profile=NAME``."""
    names = []
    for i, arg in enumerate(codex_args):
        if arg in ("-p", "--profile"):
            if i + 1 < len(codex_args):
                names.append(codex_args[i + 1])
        elif arg.startswith("--profile="):
            names.append(arg.split("=", 1)[1])
        elif arg.startswith("-p") and not arg.startswith("--") and len(arg) > 2:
            names.append(arg[2:].removeprefix("="))
    return names


def provider_overrides(codex_args: Sequence[str]) -> list[str]:
    """Each argument that selects or changes a Codex provider, as the user wrote it."""
    found = []
    for flag, key, value in config_overrides(codex_args):
        if key.split(".")[0] in ("model_provider", "model_providers"):
            found.append(flag if flag not in ("-c", "--config") else f"{flag} {key}={value}")
    for arg in codex_args:
        if arg in PROVIDER_FLAGS or arg.startswith("--local-provider="):
            found.append(arg)
    return found


def check_provider_overrides(codex_args: Sequence[str], paths: Iterable[str]) -> None:
    """Refuse provider overrides when the plan has a managed path (``litellm``, ``huggingface``).

    A plan whose only path is ``standard`` runs Codex as the user configured it: there an
    override is the user's own choice and passes through.
    """
    managed = [p for p in paths if p != "standard"]
    if not managed:
        return
    found = provider_overrides(codex_args)
    if not found:
        return
    raise UsageError(
        f"the codex argument {found[0]!r} would override the provider codex-route selects on the "
        f"{'/'.join(managed)} path (the run would be recorded as {managed[0]} while codex talks "
        "to another provider)",
        hint="drop it, or pass --codex-provider standard to run codex with your own provider "
        "and config",
    )

"""``codex-route proxy start|stop|status``: the optional local LiteLLM gateway."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Any

import typer

from codex_router.errors import UsageError

app = typer.Typer(
    help="Start, stop or inspect the local LiteLLM proxy (the pinned LiteLLM: see `doctor`).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def _ask_hidden(var: str, aliases: tuple[str, ...]) -> str | None:
    """Ask for a key without echo; the value only ever reaches the proxy's environment."""
    shown = ", ".join(aliases[:4]) + (", …" if len(aliases) > 4 else "")
    value = getpass.getpass(f"{var} for {shown} (input hidden, Enter to skip): ", stream=sys.stderr)
    return value or None


@app.command("start")
def start(
    port: int | None = typer.Option(
        None,
        "--port",
        metavar="N",
        help="Port on 127.0.0.1 (default: the port of litellm_base_url, 4000; with "
        "--gateway: gateway.port).",
    ),
    gateway: bool = typer.Option(
        False,
        "--gateway",
        help="Team gateway mode: the policy's gateway: section (bind address, Redis shared "
        "by every instance, routing, cooldowns, rpm/tpm). See docs/team.md.",
    ),
    host: str | None = typer.Option(
        None,
        "--host",
        metavar="ADDR",
        help="With --gateway: the address to bind (default: gateway.host). Beyond loopback "
        "CODEX_ROUTE_GATEWAY_MASTER_KEY is required.",
    ),
    redis_url: str | None = typer.Option(
        None,
        "--redis-url",
        metavar="URL",
        help="With --gateway: redis://host:port shared by the gateway's instances "
        "(default: gateway.redis_url; the password goes in REDIS_PASSWORD).",
    ),
    members_file: str | None = typer.Option(
        None,
        "--members-file",
        metavar="FILE",
        help="With --gateway: per-member keys from this file (`proxy keys`; default: "
        "gateway.members_file, else gateway-members.txt in the config dir, when it exists).",
    ),
    policy: Path | None = typer.Option(None, "--policy", metavar="FILE", help="Policy YAML file."),
    litellm_bin: str | None = typer.Option(
        None,
        "--litellm-bin",
        metavar="PATH",
        help="The litellm executable (default: CODEX_ROUTE_LITELLM_BIN, "
        "beside this Python, then PATH).",
    ),
    avoid_openai: bool | None = typer.Option(
        None,
        "--avoid-openai/--allow-openai",
        help="Generate no OpenAI deployment at all.",
        show_default=False,
    ),
    open_models_only: bool | None = typer.Option(
        None,
        "--open-models-only/--any-models",
        help="Only Hugging Face and local deployments.",
        show_default=False,
    ),
    timeout: float = typer.Option(
        90.0, "--timeout", metavar="SECONDS", help="How long to wait for readiness."
    ),
    no_prompt: bool = typer.Option(
        False, "--no-prompt", help="Never ask for missing provider keys: skip their deployments."
    ),
) -> None:
    """Generate the LiteLLM config from the policy and start the proxy on 127.0.0.1.

    Missing provider keys are asked for without echo when stdin is a terminal (Enter skips);
    otherwise their deployments are left out and named on stderr. Keys only ever reach the
    proxy's environment. A random master key for this session is kept in a 0600 file that
    `proxy stop` deletes; `run` hands it to codex as LITELLM_API_KEY.
    """
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.dirs import app_dirs
    from codex_router.proxy.process import StartRequest, start_proxy
    from codex_router.views import proxy as view

    if timeout <= 0:
        raise UsageError("--timeout: must be more than 0 seconds")
    if not gateway and (host is not None or redis_url is not None or members_file is not None):
        raise UsageError(
            "--host, --redis-url and --members-file apply to a team gateway only",
            hint="add --gateway (docs/team.md); the local proxy always binds 127.0.0.1",
        )
    ask = None if (no_prompt or not sys.stdin.isatty()) else _ask_hidden
    request = StartRequest(
        gateway=gateway,
        gateway_flags={
            "host": host,
            "port": port,
            "redis_url": redis_url,
            "members_file": members_file,
        },
        port=port,
        litellm_bin=litellm_bin,
        policy_file=policy,
        flags={"avoid_openai": avoid_openai, "open_models_only": open_models_only},
        timeout=timeout,
    )
    result = start_proxy(request, env=os.environ, dirs=app_dirs(), ask=ask, waiting=view.starting)
    view.print_started(result)


@app.command("stop")
def stop() -> None:
    """Stop the proxy started by `proxy start` (its recorded PID only) and delete the
    session key."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.dirs import app_dirs
    from codex_router.proxy.process import stop_proxy
    from codex_router.views import proxy as view

    view.print_stopped(stop_proxy(app_dirs()))


@app.command("status")
def status(
    json_out: bool = typer.Option(False, "--json", help="One JSON object on stdout."),
) -> None:
    """Version, PID, port, health and aliases of the proxy; exit 1 when it is not running
    and healthy."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.dirs import app_dirs
    from codex_router.proxy.process import proxy_status
    from codex_router.views import proxy as view

    result = proxy_status(app_dirs())
    if json_out:
        view.print_status_json(result)
    else:
        view.print_status(result)
    if not (result.running and result.healthy):
        raise typer.Exit(1)


keys_app = typer.Typer(
    help="Per-member keys of a team gateway: each member gets their own key, revocable "
    "without a restart (docs/team.md, Members).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(keys_app, name="keys")

_MEMBERS_FILE_HELP = (
    "The members file (hashes only; default: gateway.members_file, else "
    "gateway-members.txt in codex-route's config dir)."
)
_OUT_HELP = "New file for the key (created 0600; never overwritten). The key is never printed."


def _members_file(members_file: str | None, policy: Path | None) -> Any:
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.dirs import app_dirs
    from codex_router.proxy.members import resolve_members_file

    return resolve_members_file({"members_file": members_file}, os.environ, app_dirs(), policy)


@keys_app.command("add")
def keys_add(
    name: str = typer.Argument(
        ..., metavar="NAME", help="The member's name (user_id on the gateway)."
    ),
    out: Path = typer.Option(..., "--out", metavar="FILE", help=_OUT_HELP),
    members_file: str | None = typer.Option(
        None, "--members-file", metavar="FILE", help=_MEMBERS_FILE_HELP
    ),
    policy: Path | None = typer.Option(None, "--policy", metavar="FILE", help="Policy YAML file."),
) -> None:
    """Give NAME a new key, written only to FILE; the gateway accepts it at once."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.proxy.members import add_member, now_utc
    from codex_router.views import proxy as view

    view.print_keys_result(add_member(_members_file(members_file, policy), name, out, now_utc()))


@keys_app.command("rotate")
def keys_rotate(
    name: str = typer.Argument(..., metavar="NAME", help="The member's name."),
    out: Path = typer.Option(..., "--out", metavar="FILE", help=_OUT_HELP),
    members_file: str | None = typer.Option(
        None, "--members-file", metavar="FILE", help=_MEMBERS_FILE_HELP
    ),
    policy: Path | None = typer.Option(None, "--policy", metavar="FILE", help="Policy YAML file."),
) -> None:
    """A new key for NAME in FILE; their old key stops working (a revoked member is active
    again)."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.proxy.members import now_utc, rotate_member
    from codex_router.views import proxy as view

    view.print_keys_result(rotate_member(_members_file(members_file, policy), name, out, now_utc()))


@keys_app.command("revoke")
def keys_revoke(
    name: str = typer.Argument(..., metavar="NAME", help="The member's name."),
    members_file: str | None = typer.Option(
        None, "--members-file", metavar="FILE", help=_MEMBERS_FILE_HELP
    ),
    policy: Path | None = typer.Option(None, "--policy", metavar="FILE", help="Policy YAML file."),
) -> None:
    """Refuse NAME's key from now on; running gateways reading this file refuse it without a
    restart."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.proxy.members import now_utc, revoke_member
    from codex_router.views import proxy as view

    view.print_keys_result(revoke_member(_members_file(members_file, policy), name, now_utc()))


@keys_app.command("list")
def keys_list(
    json_out: bool = typer.Option(False, "--json", help="One JSON object on stdout."),
    members_file: str | None = typer.Option(
        None, "--members-file", metavar="FILE", help=_MEMBERS_FILE_HELP
    ),
    policy: Path | None = typer.Option(None, "--policy", metavar="FILE", help="Policy YAML file."),
) -> None:
    """The members: name, when their key was made, when it was revoked. No key, no hash."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.proxy.members import list_members
    from codex_router.views import proxy as view

    result = list_members(_members_file(members_file, policy))
    if json_out:
        view.print_keys_json(result)
    else:
        view.print_keys_list(result)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="proxy")

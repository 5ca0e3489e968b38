"""``codex-route run``: options → :func:`codex_router.run.plan.build_plan` → a view."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand

from codex_router.errors import BudgetExceededError, UsageError

if TYPE_CHECKING:
    from collections.abc import Collection

    from codex_router.dirs import AppDirs
    from codex_router.progress import Reading
    from codex_router.run.plan import Plan

#: The option every argument after ``--`` is handed to (the old tool's spelling of it).
CODEX_ARG_OPTION = "--codex-arg"


def split_codex_args(args: list[str], valued: Collection[str]) -> tuple[list[str], list[str]]:
    """``args`` before the ``--`` that ends the options, and the arguments after it.

    The ``--`` is found the way the option parser finds it: a ``--`` that is the value of an
    option taking one (``valued``: its names, e.g. ``--policy``) is that value, not the end.
    """
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return args[:i], args[i + 1 :]
        if arg.startswith("-") and len(arg) > 1:
            name = arg.split("=", 1)[0]
            if name in valued:
                i += 0 if "=" in arg else 1  # the value is the next argument
            elif not arg.startswith("--"):
                # a cluster of short options (-qx): one taking a value ends it
                for j in range(1, len(arg)):
                    if f"-{arg[j]}" in valued:
                        i += 1 if j == len(arg) - 1 else 0
                        break
        i += 1
    return args, []


class RunCommand(TyperCommand):
    """``run``'s parser: every word before ``--`` is the prompt, every argument after it is
    codex's.

    The option parser cannot tell two variadic arguments apart at ``--``, so the arguments after
    it are handed over as ``--codex-arg=ARG`` before parsing: they join the old spelling's
    values, in command-line order.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # ctx: Click's Context
        valued: set[str] = set()
        for param in self.get_params(ctx):
            if param.param_type_name == "option" and not getattr(param, "is_flag", False):
                valued.update(param.opts)
        words, codex_args = split_codex_args(list(args), valued)
        return super().parse_args(
            ctx, [*words, *(f"{CODEX_ARG_OPTION}={arg}" for arg in codex_args)]
        )

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [self.options_metavar or "[OPTIONS]", "PROMPT...", "[-- CODEX_ARGS...]"]


def _complete_provider(incomplete: str) -> list[str]:
    """Shell completion of ``--provider``."""
    from codex_router.policy.fields import PROVIDERS

    return [name for name in PROVIDERS if name.startswith(incomplete.casefold())]


def _complete_codex_provider(incomplete: str) -> list[str]:
    """Shell completion of ``--codex-provider``."""
    from codex_router.policy.fields import CODEX_PROVIDERS

    return [name for name in CODEX_PROVIDERS if name.startswith(incomplete.casefold())]


def _complete_alias(incomplete: str) -> list[str]:
    """Shell completion of ``--force-model``: the aliases of the policy in effect."""
    from codex_router.dirs import app_dirs
    from codex_router.errors import CodexRouteError
    from codex_router.policy.settings import choose_policy_file, load_policy

    try:
        policy = load_policy(choose_policy_file(None, os.environ, app_dirs()))
    except CodexRouteError:
        return []  # a broken policy: no completion, and the command itself will say why
    return sorted(name for name in policy.aliases if name.startswith(incomplete))


def register(app: typer.Typer) -> None:
    app.command(
        "run",
        cls=RunCommand,
        context_settings={"help_option_names": ["-h", "--help"]},
        no_args_is_help=True,
    )(run)


def run(
    prompt: list[str] = typer.Argument(
        ...,
        metavar="PROMPT...",
        help="The task for Codex: the words you type, joined by single spaces, are one prompt "
        "(quotes optional). '-' alone reads it from stdin; with a PROMPT, piped stdin is "
        "attached (e.g. a log). Arguments for codex go after --: "
        "codex-route run fix the typo in README.md -- --skip-git-repo-check",
        show_default=False,
    ),
    codex_args: list[str] | None = typer.Option(
        None,
        CODEX_ARG_OPTION,
        metavar="ARG",
        help="One more argument for codex (repeatable); the old spelling of `-- ARG`.",
        show_default=False,
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan; touch nothing."),
    check: bool = typer.Option(
        False,
        "--check",
        help="With --dry-run: exit with the code the run would stop with when no Codex path "
        "can run (4 codex, 5 config.toml, 8 directory), after the plan.",
    ),
    json_out: bool = typer.Option(
        False, "--json", help="With --dry-run: one JSON object on stdout."
    ),
    provider: str | None = typer.Option(
        None,
        "--provider",
        metavar="NAME",
        autocompletion=_complete_provider,
        help="auto|openai|gemini|huggingface|local-small|phi|qwen|claude|no-openai (any case)",
    ),
    local_answer: bool = typer.Option(
        False,
        "--local-answer",
        help="With --provider qwen|local-small|phi: Ollama answers directly, without Codex.",
    ),
    codex_provider: str | None = typer.Option(
        None,
        "--codex-provider",
        metavar="PATH",
        help="auto|standard|litellm|huggingface",
        autocompletion=_complete_codex_provider,
    ),
    force_model: str | None = typer.Option(
        None,
        "--force-model",
        metavar="ALIAS",
        help="Use this alias whatever the task.",
        autocompletion=_complete_alias,
    ),
    policy: Path | None = typer.Option(None, "--policy", metavar="FILE", help="Policy YAML file."),
    max_input_tokens: int | None = typer.Option(
        None, "--max-input-tokens", metavar="N", help="Token budget of the cleaned prompt."
    ),
    max_output_tokens: int | None = typer.Option(
        None, "--max-output-tokens", metavar="N", help="Output tokens assumed by the estimate."
    ),
    max_cost_usd: float | None = typer.Option(
        None,
        "--max-cost-usd",
        metavar="X",
        help="Refuse to launch above this estimate (0: no limit).",
    ),
    avoid_openai: bool | None = typer.Option(
        None, "--avoid-openai/--allow-openai", help="Never reach OpenAI.", show_default=False
    ),
    open_models_only: bool | None = typer.Option(
        None, "--open-models-only/--any-models", help="Only open-weight models.", show_default=False
    ),
    no_litellm: bool | None = typer.Option(
        None,
        "--no-litellm/--litellm",
        help="Treat the LiteLLM path as unavailable.",
        show_default=False,
    ),
    timeout: int | None = typer.Option(
        None, "--timeout", metavar="SECONDS", help="Wall-clock limit of one codex attempt."
    ),
    codex_bin: str | None = typer.Option(
        None, "--codex-bin", metavar="PATH", help="The codex binary."
    ),
    interactive: bool = typer.Option(
        False,
        "--interactive",
        help="Open the Codex TUI instead of codex exec; the TUI takes the prompt as its "
        "argument, so it is in codex's argv (visible to ps) while the TUI runs.",
    ),
    no_stdin: bool = typer.Option(
        False, "--no-stdin", help="Do not read piped stdin as an attachment."
    ),
    retry_after_changes: bool = typer.Option(
        False,
        "--retry-after-changes",
        help="Fall back even after an attempt changed the git working tree.",
    ),
    record: bool = typer.Option(
        False, "--record", help="With --dry-run: record the plan in the history."
    ),
    show_prompt: bool = typer.Option(
        False,
        "--show-prompt",
        help="With --dry-run: print the cleaned, compressed prompt codex would get, after the "
        "plan (with --json: a prompt field). Never recorded.",
    ),
    verbose: bool = typer.Option(
        False, "--verbose", help="With --dry-run: list every setting, defaults included."
    ),
    quiet: bool = typer.Option(
        False, "-q", "--quiet", help="Only codex's output and errors; no codex-route lines."
    ),
    keep_secrets: bool = typer.Option(
        False,
        "--keep-secrets",
        help="Send secrets in the prompt and piped input as they are (default: masked).",
    ),
) -> None:
    """Clean and compress the prompt, choose model and provider, and run codex."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.codex.guard_files import journal_files
    from codex_router.dirs import app_dirs, codex_home
    from codex_router.prompt.source import iter_lines, read_text, require_prompt
    from codex_router.run.plan import RunRequest, build_plan
    from codex_router.tokens.counter import count_tokens
    from codex_router.views import plan as plan_view

    if json_out and not dry_run:
        raise UsageError("--json goes with --dry-run (a live run streams codex's own output)")
    if check and not dry_run:
        raise UsageError("--check goes with --dry-run (a live run always checks)")
    if record and not dry_run:
        raise UsageError("--record goes with --dry-run (a live run is always recorded)")
    if show_prompt and not dry_run:
        raise UsageError(
            "--show-prompt goes with --dry-run (a live run sends the prompt to codex)",
            hint="add --dry-run to see the prompt without running codex",
        )
    if verbose and not dry_run:
        raise UsageError("--verbose goes with --dry-run (it lists the plan's settings)")
    attachment = None
    reading: Reading | None = None
    if prompt == ["-"]:
        prompt_text = require_prompt(read_text(sys.stdin.buffer.read), name="the prompt on stdin")
    else:
        prompt_text = require_prompt(" ".join(prompt))
        if not no_stdin and not sys.stdin.isatty():
            # a large piped input shows how far reading has got (stderr, on a terminal only)
            reading = _reading_progress()
            attachment = iter_lines(reading.watch(sys.stdin.buffer.read))
    flags = {
        "provider": provider,
        "codex_provider": codex_provider,
        "force_model": force_model,
        "max_input_tokens": max_input_tokens,
        "max_output_tokens": max_output_tokens,
        "max_cost_usd": max_cost_usd,
        "avoid_openai": avoid_openai,
        "open_models_only": open_models_only,
        "disable_litellm": no_litellm,
        "timeout_seconds": timeout,
        "mask_secrets": False if keep_secrets else None,
    }
    request = RunRequest(
        prompt_text,
        attachment,
        flags,
        policy,
        codex_bin,
        tuple(codex_args or ()),
        interactive,
        local_answer,
    )
    dirs = app_dirs()
    try:
        plan = build_plan(request, env=os.environ, dirs=dirs, count=count_tokens)
    finally:
        if reading is not None:
            reading.close()
    if not dry_run:
        _launch(
            plan,
            dirs,
            interactive=interactive,
            retry_after_changes=retry_after_changes,
            quiet=quiet,
        )
        return
    if record:
        # lazy: the history store and the attempt walk are not on a plain dry run's path
        from codex_router.run.execute import dry_run_record, keep_run, sync_in_background
        from codex_router.views import run as run_view

        team_url = plan.settings["history_team_url"]
        keep_run(dirs, dry_run_record(plan), team_url)
        if team_url:
            sync_in_background(team_url, run_view.notifier)
    if json_out and show_prompt:
        plan_view.print_plan_json_with_prompt(plan)
    elif json_out:
        plan_view.print_plan_json(plan)
    else:
        plan_view.print_plan(plan, verbose=verbose)
        if show_prompt:
            plan_view.print_prompt(plan)
    if plan.decision.provider in ("qwen", "local-small", "phi"):
        # lazy: only a local provider can take the local fast path
        from codex_router.local.fast_path import describe, wants_local_fast_path

        if wants_local_fast_path(plan):
            sys.stderr.write(f"note: {describe(plan)}\n")
    config_file = codex_home(os.environ) / "config.toml"
    if journal_files(config_file, dirs.state_dir):
        # lazy: ~14 ms with tomllib and tempfile; read only when an earlier run left a journal
        from codex_router.codex.config_guard import guards_needing_recovery

        for left in guards_needing_recovery(config_file, dirs.state_dir):
            sys.stderr.write(
                f"note: an interrupted run left codex-route's keys in {left.config}; "
                "the next run restores it first, or run `codex-route config restore`\n"
            )
    if plan.refused is not None:  # too big for any allowed context_window (exit 7)
        raise plan.refused
    if plan.blocked:
        raise BudgetExceededError(
            plan.blocked, hint="raise --max-cost-usd or choose a cheaper alias"
        )
    if check and plan.unready is not None:
        # lazy, as above: a plan Ollama can answer alone needs no Codex
        from codex_router.local.fast_path import wants_local_fast_path as local_only

        if not local_only(plan):
            # the code the real run would stop with, after the plan (docs/usage.md)
            raise plan.unready


def _reading_progress() -> Reading:
    # lazy: a few stdlib calls; only a piped input needs them
    from codex_router.progress import Reading, size_of

    try:
        total = size_of(sys.stdin.fileno())
    except (OSError, ValueError):  # replaced by one without a descriptor (a test runner)
        total = None
    return Reading("reading stdin", total, after="counting tokens")


def _launch(
    plan: Plan, dirs: AppDirs, *, interactive: bool, retry_after_changes: bool, quiet: bool
) -> None:
    # lazy: launching (the attempt walk, the local fast path) is not on the dry run's path
    from codex_router.local.fast_path import describe, run_local_plan, wants_local_fast_path
    from codex_router.run.execute import RunOptions, execute
    from codex_router.views import run as run_view

    if plan.refused is not None:
        # the input fits no allowed context_window: stop before anything is written or started
        raise plan.refused
    notify = run_view.quiet_notifier if quiet else run_view.notifier
    local = not plan.blocked and wants_local_fast_path(plan)
    if local:
        if not quiet:
            notify(describe(plan))
        ended = ["\n"]

        def write(text: str) -> None:
            sys.stdout.write(text)
            sys.stdout.flush()
            ended[0] = text[-1:]

        run_local_plan(plan, dirs=dirs, notify=notify, write=write)
        if ended[0] != "\n":
            sys.stdout.write("\n")
        return
    if not quiet:
        run_view.print_intro(plan)
    result = execute(
        plan,
        env=os.environ,
        dirs=dirs,
        notify=notify,
        options=RunOptions(interactive=interactive, retry_after_changes=retry_after_changes),
    )
    if result.exit_code:
        raise typer.Exit(result.exit_code)

"""``codex-route route eval``: score the policy's routing on labelled tasks."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from codex_router.errors import UsageError

app = typer.Typer(
    help="Check how the policy routes tasks.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@app.command("eval", no_args_is_help=True)
def evaluate(
    file: Path = typer.Argument(
        ...,
        metavar="FILE.jsonl",
        help="Labelled tasks, one JSON object per line: problem_statement or prompt, "
        "difficulty_ordinal (0 = quickest); optional attachment, source, id.",
        show_default=False,
    ),
    policy: Path | None = typer.Option(None, "--policy", metavar="FILE", help="Policy YAML file."),
    json_out: bool = typer.Option(
        False, "--json", help="One JSON object (docs/reference/route-eval-json.md)."
    ),
    limit: int | None = typer.Option(
        None, "--limit", metavar="N", help="Only the first N tasks of the file."
    ),
    provider: str | None = typer.Option(
        None,
        "--provider",
        metavar="NAME",
        help="auto|openai|gemini|huggingface|local-small|phi|qwen|claude|no-openai (any case)",
    ),
    codex_provider: str | None = typer.Option(
        None, "--codex-provider", metavar="PATH", help="auto|standard|litellm|huggingface"
    ),
    force_model: str | None = typer.Option(
        None, "--force-model", metavar="ALIAS", help="Use this alias whatever the task."
    ),
    max_input_tokens: int | None = typer.Option(
        None, "--max-input-tokens", metavar="N", help="Token budget of the cleaned prompt."
    ),
    max_output_tokens: int | None = typer.Option(
        None, "--max-output-tokens", metavar="N", help="Output tokens assumed by the estimate."
    ),
    avoid_openai: bool | None = typer.Option(
        None, "--avoid-openai/--allow-openai", help="Never reach OpenAI.", show_default=False
    ),
    open_models_only: bool | None = typer.Option(
        None, "--open-models-only/--any-models", help="Only open-weight models.", show_default=False
    ),
) -> None:
    """Route labelled tasks as run would (in process: no codex, no network), then score the
    routing: AUC, tier x label table, tier mix, estimated cost against always-deep."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.dirs import app_dirs
    from codex_router.errors import InputError
    from codex_router.policy.settings import resolve_settings
    from codex_router.progress import Steps
    from codex_router.prompt.source import iter_lines
    from codex_router.run.route_eval import evaluate_tasks, parse_tasks
    from codex_router.tokens.counter import count_tokens
    from codex_router.views import route_eval as view

    if limit is not None and limit < 1:
        raise UsageError(f"--limit: expected a number of tasks >= 1, got {limit}")
    flags = {
        "provider": provider,
        "codex_provider": codex_provider,
        "force_model": force_model,
        "max_input_tokens": max_input_tokens,
        "max_output_tokens": max_output_tokens,
        "avoid_openai": avoid_openai,
        "open_models_only": open_models_only,
    }
    settings = resolve_settings(flags, os.environ, app_dirs(), policy_flag=policy)
    name = str(file)
    try:
        with file.open("rb") as stream:
            tasks = parse_tasks(iter_lines(stream.read, name=name), name, limit=limit)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read it ({exc.strerror or exc})") from None
    steps = Steps("routing tasks", len(tasks))
    try:
        report = evaluate_tasks(tasks, name, settings, count_tokens, advance=steps.advance)
    finally:
        steps.close()
    if json_out:
        view.print_route_eval_json(report)
    else:
        view.print_route_eval(report)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="route")

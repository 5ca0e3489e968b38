"""``codex-route bench-local``: time to first token and tokens/s of the local Qwen on Ollama."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from codex_router.errors import UsageError


def register(app: typer.Typer) -> None:
    app.command("bench-local", context_settings={"help_option_names": ["-h", "--help"]})(
        bench_local
    )


def bench_local(
    runs: int = typer.Option(5, "--runs", metavar="N", help="How many completions to time."),
    json_out: bool = typer.Option(
        False, "--json", help="One JSON object on stdout (every run included)."
    ),
    max_output_tokens: int = typer.Option(
        128, "--max-output-tokens", metavar="N", help="Cap of each answer (max_tokens)."
    ),
    prompt: str | None = typer.Option(None, "--prompt", metavar="TEXT", help="The prompt to send."),
    policy: Path | None = typer.Option(None, "--policy", metavar="FILE", help="Policy YAML file."),
) -> None:
    """Stream N completions from the local model (endpoints.ollama_base_url, the local_model of the
    policy's local alias) and print the median and p95 of time to first token and tokens/s."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.dirs import app_dirs
    from codex_router.local.ollama import BENCH_PROMPT
    from codex_router.local.ollama import bench_local as measure
    from codex_router.policy.settings import resolve_settings
    from codex_router.views import bench_local as view

    if max_output_tokens < 1:
        raise UsageError(f"--max-output-tokens: must be at least 1, got {max_output_tokens}")
    if runs < 1:
        raise UsageError(f"--runs: must be at least 1, got {runs}")
    settings = resolve_settings({}, os.environ, app_dirs(), policy_flag=policy)
    with view.progress(runs) as advance:
        report = measure(
            settings,
            runs=runs,
            prompt=prompt or BENCH_PROMPT,
            max_output_tokens=max_output_tokens,
            on_run=advance,
        )
    if json_out:
        view.print_report_json(report)
    else:
        view.print_report(report)

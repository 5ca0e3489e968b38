"""``codex-route policy show|validate|init``."""

from __future__ import annotations

import os
from pathlib import Path

import typer

app = typer.Typer(
    help="Show, validate or create a routing policy.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


@app.command("show")
def show(
    policy: Path | None = typer.Option(None, "--policy", metavar="FILE", help="Policy YAML file."),
    json_out: bool = typer.Option(
        False,
        "--json",
        help="One JSON object: {policy_file: {value, source}, "
        "values: [{key, value, source, origin, file, line}, ...]}.",
    ),
) -> None:
    """Print the effective policy and where every value came from (flag > env > file > default)."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.dirs import app_dirs
    from codex_router.policy.describe import describe_policy
    from codex_router.policy.settings import resolve_settings
    from codex_router.views import policy as view

    settings = resolve_settings({}, os.environ, app_dirs(), policy_flag=policy)
    shown = describe_policy(settings)
    if json_out:
        view.print_policy_json(settings, shown)
    else:
        view.print_policy(settings, shown)


@app.command("validate")
def validate(
    file: Path = typer.Argument(..., metavar="FILE", help="The policy YAML file to check."),
) -> None:
    """Check a policy file; exit 0 when valid, 3 with file:line: key on the first error."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.policy.settings import Resolved, load_policy
    from codex_router.views import policy as view

    policy = load_policy(Resolved(str(file), "flag", "FILE"))
    view.print_valid(file, policy)


@app.command("init")
def init(
    template: str = typer.Option(
        "starter", "--template", metavar="NAME", help="starter | quota-saver | open-models-only"
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing policy file."),
    path: Path | None = typer.Option(
        None,
        "--path",
        metavar="FILE",
        help="Where to write (default: the user policy in the config dir).",
    ),
) -> None:
    """Write a commented policy to start from (never overwrites without --force)."""
    # lazy: --help imports every command module; the work loads when the command runs
    from codex_router.dirs import app_dirs
    from codex_router.policy.templates import write_template
    from codex_router.views import policy as view

    target = path or app_dirs().user_policy
    written = write_template(template, target, force=force)
    view.print_written(written, template)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="policy")

"""Starter policies shipped with the package, and writing one for the user."""

from __future__ import annotations

from pathlib import Path

from codex_router.errors import StateError, UsageError, did_you_mean
from codex_router.fsutil import atomic_write_bytes
from codex_router.policy.load import merge_trees, parse_policy_text, read_policy_file
from codex_router.policy.model import build_policy
from codex_router.policy.settings import DEFAULT_POLICY_FILE

POLICY_DIR = Path(__file__).resolve().parent.parent / "policies"
TEMPLATES = ("starter", "quota-saver", "open-models-only")


def template_path(name: str) -> Path:
    if name not in TEMPLATES:
        raise UsageError(
            f"--template: unknown template {name!r} (valid: {', '.join(TEMPLATES)})",
            hint=did_you_mean(name, TEMPLATES),
        )
    return POLICY_DIR / f"{name}.yaml"


def write_template(name: str, target: Path, *, force: bool) -> Path:
    """Copy template ``name`` to ``target`` atomically; replace a file only with ``force``."""
    source = template_path(name)
    if target.exists() and not force:
        raise UsageError(f"{target} already exists", hint="pass --force to replace it")
    data = source.read_bytes()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, data, mode=0o644)
    except OSError as exc:
        raise StateError(f"cannot write {target}: {exc.strerror}") from None
    return target


def check_template(name: str) -> None:
    """Templates must be valid policies on their own (tests call this for each one)."""
    tree = merge_trees(
        read_policy_file(DEFAULT_POLICY_FILE),
        parse_policy_text(template_path(name).read_text("utf-8"), str(template_path(name))),
    )
    build_policy(tree, default_file=str(DEFAULT_POLICY_FILE))

"""``run --provider qwen`` on a simple task: answer with the local model directly, without Codex.

A simple task (a question, a one-liner) does not need Codex's agent loop, and the local Qwen
answers it fastest when asked straight: the cleaned prompt goes to Ollama through
:func:`codex_router.local.ollama.run_local`, the reply streams to stdout, and the run is recorded
like any other (one attempt on the ``local`` path, with time to first token and tokens/s).
Anything else, a pinned ``--codex-provider``, extra codex arguments or ``--interactive`` keeps
the normal Codex walk.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from codex_router.dirs import AppDirs
from codex_router.errors import CodexRouteError
from codex_router.local.ollama import LocalResult, run_local
from codex_router.policy.roles import Role
from codex_router.redact import redact
from codex_router.run.plan import Plan

if TYPE_CHECKING:
    from codex_router.history.record import RunRecord
    from codex_router.run.execute import RecordRun

LOCAL_PATH = "local"


def wants_local_fast_path(plan: Plan) -> bool:
    """Provider qwen (any layer), its own alias, a simple short task, nothing asking for Codex."""
    return (
        plan.decision.provider == "qwen"
        and plan.decision.alias == plan.settings.policy.alias_for(Role.LOCAL)
        and plan.classification.complexity == "simple"
        and not plan.classification.long_context
        and not plan.interactive
        and not tuple(plan.codex_args)
        and plan.settings["codex_provider"] == "auto"
    )


def describe(plan: Plan) -> str:
    alias = plan.settings.policy.alias_for(Role.LOCAL)
    model = plan.settings.policy.aliases[alias].local_model
    return (
        f"{alias} answers this simple task directly: Ollama {model} at "
        f"{redact(plan.settings['ollama_base_url'])}, no Codex agent "
        "(pass --codex-provider litellm for one)"
    )


def run_local_plan(
    plan: Plan,
    *,
    dirs: AppDirs,
    notify: Callable[[str], None],
    write: Callable[[str], Any],
    record: bool = True,
    record_run: RecordRun | None = None,
) -> LocalResult:
    """Stream the local answer, record the run, and return what was measured.

    Errors (Ollama down, model missing) and Ctrl-C are recorded too, then raised as they are.
    """
    # lazy: ~35 ms (attempt walk, history store); a `run --provider qwen --dry-run` must not pay it
    from codex_router.history import store
    from codex_router.history.record import Attempt, TokenUsage
    from codex_router.run.execute import dry_run_record

    started = time.monotonic()
    policy = plan.settings.policy
    model = policy.aliases[policy.alias_for(Role.LOCAL)].local_model
    result: LocalResult | None = None
    attempt_outcome, run_outcome, exit_code, error = "failed", "failed", 1, None
    try:
        result = run_local(plan.settings, plan.codex_input, write)
        attempt_outcome, run_outcome, exit_code = "ok", "success", 0
        return result
    except KeyboardInterrupt:
        attempt_outcome, run_outcome, exit_code, error = (
            "interrupted",
            "interrupted",
            130,
            "interrupted",
        )
        raise
    except Exception as exc:
        error = getattr(exc, "message", type(exc).__name__)[:200]
        raise
    finally:
        duration_ms = int((time.monotonic() - started) * 1000)
        usage = None
        extra: dict[str, Any] = {}
        if result is not None:
            usage = TokenUsage(
                input_tokens=result.input_tokens or 0,
                output_tokens=result.output_tokens,
                total_tokens=(result.input_tokens or 0) + result.output_tokens,
            )
            extra = {"local": result.to_dict()}
            notify(_summary(result))
        attempt = Attempt(
            LOCAL_PATH, model, exit_code, duration_ms, attempt_outcome, error, None, usage
        )
        if record:
            base = dry_run_record(plan)
            run = replace(
                base,
                dry_run=False,
                outcome=run_outcome,
                exit_code=exit_code,
                duration_ms=duration_ms,
                path_order=(LOCAL_PATH,),
                attempts=(attempt,),
                usage=usage,
                extra={**base.extra, **extra},
            )
            _record(dirs, run, notify, record_run or store.record_run)


def _summary(result: LocalResult) -> str:
    ttft = "n/a" if result.ttft_seconds is None else f"{result.ttft_seconds:.2f} s"
    rate = "n/a" if result.tokens_per_second is None else f"{result.tokens_per_second:.1f} tok/s"
    return f"local {result.model}: {result.output_tokens} tokens, first token {ttft}, {rate}"


def _record(
    dirs: AppDirs, run: RunRecord, notify: Callable[[str], None], record_run: RecordRun
) -> None:
    try:
        record_run(dirs, run)
    except CodexRouteError as exc:
        notify(f"warning: the run was not recorded: {exc}")

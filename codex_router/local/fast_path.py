"""``run --provider qwen|local-small|phi`` on a simple task: the local model answers directly.

A simple task (a question, a one-liner) does not need Codex's agent loop, and the local model
(Qwen, or Phi-4-mini for ``local-small``/``phi``) answers it fastest when asked straight: the
cleaned prompt goes to Ollama through :func:`codex_router.local.ollama.run_local`, the reply
streams to stdout, and the run is recorded like any other (one attempt on the ``local`` path,
with time to first token, tokens/s and, for an alias with a target such as Phi's 5 tok/s,
whether it was met). An alias's own output cap (Phi: 64 tokens) always applies.
Anything else, a pinned ``--codex-provider``, extra codex arguments or ``--interactive`` keeps
the normal Codex walk — unless ``--local-answer`` asks Ollama for any task.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from codex_router.dirs import AppDirs
from codex_router.errors import CodexRouteError
from codex_router.local.ollama import LocalResult, output_cap, run_local
from codex_router.redact import redact
from codex_router.routing.route import LOCAL_PROVIDERS
from codex_router.run.plan import Plan

if TYPE_CHECKING:
    from codex_router.history.record import RunRecord
    from codex_router.run.execute import RecordRun

LOCAL_PATH = "local"


def _local_alias(plan: Plan) -> bool:
    spec = plan.settings.policy.resolve_alias(plan.decision.alias)
    return bool(spec.local_model) and set(spec.upstreams) <= {"qwen"}


def wants_local_fast_path(plan: Plan) -> bool:
    """A local provider (any layer) on a local alias, and either ``--local-answer`` or a simple
    short task with nothing asking for Codex."""
    if plan.decision.provider not in LOCAL_PROVIDERS or not _local_alias(plan):
        return False
    if plan.decision.local_answer:
        return True
    return (
        plan.classification.complexity == "simple"
        and not plan.classification.long_context
        and not plan.interactive
        and not tuple(plan.codex_args)
        and plan.settings["codex_provider"] == "auto"
    )


def describe(plan: Plan) -> str:
    alias = plan.decision.alias
    spec = plan.settings.policy.resolve_alias(alias)
    cap = output_cap(plan.settings, alias)
    target = spec.target_tokens_per_second
    extra = (f", at most {cap} output tokens" if cap else "") + (
        f", target ≥ {target:g} tok/s" if target else ""
    )
    what, other = (
        ("this task", "drop --local-answer and run codex-route proxy start for one")
        if plan.decision.local_answer
        else ("this simple task", "pass --codex-provider litellm for one")
    )
    return (
        f"{alias} answers {what} directly: Ollama {spec.local_model} at "
        f"{redact(plan.settings['ollama_base_url'])}{extra}, no Codex agent ({other})"
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
    alias = plan.decision.alias
    model = plan.settings.policy.resolve_alias(alias).local_model
    result: LocalResult | None = None
    attempt_outcome, run_outcome, exit_code, error = "failed", "failed", 1, None
    try:
        result = run_local(plan.settings, plan.codex_input, write, alias)
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
    if result.target_tokens_per_second is not None:
        verdict = {True: "met", False: "missed", None: "not measured"}[result.meets_target]
        rate += f" (target ≥ {result.target_tokens_per_second:g} tok/s: {verdict})"
    cap = f" of at most {result.max_output_tokens}" if result.max_output_tokens else ""
    return f"local {result.model}: {result.output_tokens}{cap} tokens, first token {ttft}, {rate}"


def _record(
    dirs: AppDirs, run: RunRecord, notify: Callable[[str], None], record_run: RecordRun
) -> None:
    try:
        record_run(dirs, run)
    except CodexRouteError as exc:
        notify(f"warning: the run was not recorded: {exc}")

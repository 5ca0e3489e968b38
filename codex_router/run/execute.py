"""``run`` for real, after the plan: walk the plan's ready paths until one succeeds.

For each attempt: edit ``config.toml`` for a managed path under the guard, launch codex, put the
config back, report one line. Stops at the first success, at a stop signal (exit 128+n, never a
fallback), or when an attempt changed the git working tree and another would re-run the task on
top of its edits (unless ``retry_after_changes``). Every run is recorded in the history: decision,
attempts, outcome; never the prompt.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from codex_router import __version__
from codex_router.codex import config_edit, worktree
from codex_router.codex.argv import (
    FAIL_FAST,
    MANAGED_PROVIDER_IDS,
    PROMPT_PLACEHOLDER,
    managed_provider_table,
)
from codex_router.codex.binary import (
    LaunchTarget,
    launch_target,
    probe_version_cached,
    require_codex,
)
from codex_router.codex.config_file import read_config_file
from codex_router.codex.config_guard import ConfigGuard
from codex_router.codex.launch import AttemptResult, LaunchSpec, StopSignals, run_attempt
from codex_router.codex.passthrough import asks_for_events, profile_names
from codex_router.codex.session import session_report
from codex_router.dirs import AppDirs, codex_home
from codex_router.errors import (
    AllPathsFailedError,
    BudgetExceededError,
    CodexConfigError,
    CodexRouteError,
    ExitCode,
    UsageError,
)
from codex_router.history import store
from codex_router.history.record import (
    AdaptiveVerdict,
    Attempt,
    RunRecord,
    TokenUsage,
    shell_exit_code,
)
from codex_router.policy.roles import Role
from codex_router.proxy.session import proxy_env_for_codex
from codex_router.routing.cost import served_provider, usage_cost_usd
from codex_router.run.child_env import (
    config_key_vars,
    override_key_vars,
    path_env,
    without_provider_secrets,
)
from codex_router.run.plan import PathPlan, Plan
from codex_router.run.steps import next_step

Notify = Callable[[str], None]
RecordRun = Callable[[AppDirs, RunRecord], None]


@dataclass(frozen=True)
class RunOptions:
    interactive: bool = False
    retry_after_changes: bool = False
    cwd: str | None = None
    record: bool = True


@dataclass
class RunResult:
    exit_code: int
    outcome: str
    attempts: list[Attempt] = field(default_factory=list)
    record: RunRecord | None = None
    codex_version: str | None = None


#: The width of the human output; Codex's failure text goes on its own line, cut to fit.
_LINE_WIDTH = 80


def _attempt_line(
    index: int, total: int, path: PathPlan, result: AttemptResult, kind: str | None = None
) -> str:
    """``attempt 2/3 litellm (MODEL): rate_limit, exit 1 in 0.3 s`` and, on a second
    line, Codex's own words for the failure (short, masked)."""
    model = path.model or "codex default"
    took = f"{result.duration_ms / 1000:.1f} s"
    if result.outcome == "ok":
        first = f" (first item {result.ttft_ms / 1000:.1f} s)" if result.ttft_ms else ""
        return f"attempt {index}/{total} {path.name} ({model}): ok in {took}{first}"
    shell_code = shell_exit_code(result.exit_code, result.outcome)
    code = "no exit code" if shell_code is None else f"exit {shell_code}"
    plain = (code, f"exit {result.exit_code}", kind)
    error = result.error if result.error not in plain else None
    if error and error.startswith(result.outcome):  # "timeout after 30 s": says it already
        outcome, error = error, None
    else:
        outcome = kind if kind and kind != result.outcome else result.outcome
    line = f"attempt {index}/{total} {path.name} ({model}): {outcome}, {code} in {took}"
    detail = result.error_message
    if not detail or detail in (*plain, error, result.error) or detail.startswith(outcome):
        detail = None
    said = " — ".join(s for s in (error, detail) if s)
    if not said:
        return line
    if len(said) > _LINE_WIDTH - 2:
        said = said[: _LINE_WIDTH - 3].rstrip() + "…"
    return f"{line}\n  {said}"


#: Codex's retry keys of a provider table, lowered for an attempt that has another path after it.
_RETRY_KEYS = ("request_max_retries", "stream_max_retries")


def _standard_argv(
    argv: list[str],
    guard: ConfigGuard,
    codex_args: tuple[str, ...],
    home: Path,
    notify: Notify,
    *,
    fallback_follows: bool = False,
) -> list[str]:
    """Pin the user's own provider on the command line: whatever another run's edit (or a killed
    run's leftover, finished first) puts in config.toml, a standard run reaches the user's own.

    ``fallback_follows``: another path comes after this attempt, so the user's provider table (if
    the file has one) is asked for few retries (Codex 0.169 reads them per provider table only:
    a top-level ``-c request_max_retries`` is ignored), and a dead upstream costs about a second
    instead of ~25 s of Codex's own back-off.
    """
    if _profile_selects_provider(codex_args, home):
        return argv  # the user's profile decides; a -c would override it
    own = guard.own_selection()
    if own is None:
        return argv  # config.toml does not parse: codex will say so
    for notice in own.notices:
        notify(notice)
    pins = ["-c", f"model_provider={config_edit.inline_toml(own.provider)}"]
    table = own.table
    fewer: dict[str, int] = {}
    if table is not None and fallback_follows:
        for key in _RETRY_KEYS:
            value = table.get(key)
            if not isinstance(value, int) or value > FAIL_FAST[key]:
                fewer[key] = FAIL_FAST[key]
    key = config_edit.inline_toml_key(own.provider)
    if table is not None and own.provider in MANAGED_PROVIDER_IDS.values():
        # codex-route may have its own table of that id in the file right now: pin the user's
        pinned = {**table, **fewer}
        pins += ["-c", f"model_providers.{key}={config_edit.inline_toml(pinned)}"]
    else:
        for name, value in fewer.items():
            pins += ["-c", f"model_providers.{key}.{name}={value}"]
    return [*argv[:-1], *pins, argv[-1]]


#: Failures every path would meet again (codex's own refusal, not the upstream's): the walk stops.
_REPEATING = {
    "untrusted directory": (
        ExitCode.WORKDIR,
        "run from a git repository, or set skip_git_repo_check: true in your policy "
        "(CODEX_ROUTE_SKIP_GIT_REPO_CHECK=1)",
    ),
    "config rejected by codex": (
        ExitCode.CONFIG,
        "fix the file codex names above (codex-route run --dry-run --check shows it)",
    ),
}
#: Codex's exit code for a command line it refuses (clap): the same argv fails on every path.
_CODEX_USAGE_EXIT = 2


def _repeating_failure(attempt: AttemptResult) -> tuple[int, str] | None:
    """(exit code, what to do) when the failure is one every path would repeat, else None."""
    if attempt.outcome != "failed":
        return None
    known = _REPEATING.get(attempt.error or "")
    if known is not None:
        return int(known[0]), known[1]
    if attempt.exit_code == _CODEX_USAGE_EXIT:
        return _CODEX_USAGE_EXIT, "fix the codex arguments after -- (see `codex exec --help`)"
    return None


def _profile_selects_provider(codex_args: tuple[str, ...], home: Path) -> bool:
    """Does a ``-p NAME`` profile file of the user's set ``model_provider`` itself?"""
    for name in profile_names(codex_args):
        try:
            data = read_config_file(home / f"{name}.config.toml")
            text = config_edit.decode(data or b"", str(home / f"{name}.config.toml"))[0]
            if "model_provider" in config_edit.parse(text, f"{name}.config.toml"):
                return True
        except CodexRouteError:
            return True  # a profile codex-route cannot read: leave it to Codex, unpinned
    return False


def _attempt_env(
    path: str, env: Mapping[str, str], plan: Plan, dirs: AppDirs, home: Path, argv: list[str]
) -> dict[str, str]:
    """Codex's environment on ``path``: only the provider keys that path uses (run/child_env).

    ``argv``: the attempt's, with the user's extra arguments and any pinned table of theirs.
    """
    user_keys: set[str] = set(override_key_vars(argv))
    for name in ["config", *(f"{p}.config" for p in profile_names(plan.codex_args))]:
        try:
            user_keys |= config_key_vars(read_config_file(home / f"{name}.toml"))
        except CodexConfigError:
            pass  # not readable: codex refuses it itself; no key of the user's to keep
    attempt_env = path_env(env, path, user_keys)
    if path == "litellm":  # codex-route's proxy accepts only its session key
        attempt_env.update(proxy_env_for_codex(dirs, plan.settings["litellm_base_url"]))
    return attempt_env


def check_profiles(codex_args: tuple[str, ...], home: Path) -> None:
    """Codex silently ignores ``-p NAME`` without ``NAME.config.toml``: refuse it here instead."""
    for name in profile_names(codex_args):
        if not (home / f"{name}.config.toml").is_file():
            raise UsageError(
                f"codex profile {name!r} has no file {home / (name + '.config.toml')}; "
                "codex would silently ignore -p and use the base config",
                hint="create it, or `codex-route config enable` for the managed ones",
            )


def execute(
    plan: Plan,
    *,
    env: Mapping[str, str],
    dirs: AppDirs,
    options: RunOptions,
    notify: Notify,
    launch: Callable[..., AttemptResult] = run_attempt,
    record_run: RecordRun | None = None,
) -> RunResult:
    """Run the plan; return codex's (or codex-route's) exit code and what happened."""
    started_at = time.time()
    t0 = time.monotonic()
    run_id = uuid.uuid4().hex
    result = RunResult(exit_code=1, outcome="failed")
    home = codex_home(env)
    try:
        _prepare_and_walk(plan, run_id, env, dirs, options, notify, launch, result, home)
    except CodexRouteError as exc:
        if result.outcome not in ("blocked",):
            result.exit_code, result.outcome = int(exc.exit_code), "error"
        raise
    finally:
        result.record = _build_record(plan, run_id, started_at, t0, result)
        if options.record:
            _record(dirs, result.record, notify, record_run, plan.settings["history_team_url"])
    return result


def _prepare_and_walk(
    plan: Plan,
    run_id: str,
    env: Mapping[str, str],
    dirs: AppDirs,
    options: RunOptions,
    notify: Notify,
    launch: Callable[..., AttemptResult],
    result: RunResult,
    home: Path,
) -> None:
    if plan.blocked:
        result.exit_code, result.outcome = int(BudgetExceededError.exit_code), "blocked"
        raise BudgetExceededError(
            plan.blocked, hint="raise --max-cost-usd or choose a cheaper alias"
        )
    if plan.unready is not None:  # codex missing or broken, config.toml, the directory
        raise plan.unready
    codex_path = require_codex(plan.codex)
    check_profiles(tuple(plan.codex_args), home)
    target = launch_target(codex_path)
    # Raises when codex is missing or broken; cached per binary after the first probe.
    result.codex_version = probe_version_cached(
        target.argv0, dirs.cache_dir, env={**without_provider_secrets(env), **target.env}
    )
    ready = [p for p in plan.paths if p.ready]
    if options.interactive:
        # the TUI is the user's session: it is never re-run on another path after it ends
        ready = ready[:1]
    if not ready:
        skipped = "; ".join(f"{p.name}: {p.reason}" for p in plan.paths)
        result.exit_code, result.outcome = int(AllPathsFailedError.exit_code), "error"
        raise AllPathsFailedError(
            f"no Codex path is ready for {plan.decision.alias} ({skipped})",
            hint="see `codex-route run --dry-run` and `codex-route doctor`",
        )
    for p in plan.paths:
        if not p.ready:
            notify(f"skipping {p.name}: {p.reason}")
    _walk(plan, ready, run_id, env, dirs, options, notify, launch, target, result, home)


def _walk(
    plan: Plan,
    ready: list[PathPlan],
    run_id: str,
    env: Mapping[str, str],
    dirs: AppDirs,
    options: RunOptions,
    notify: Notify,
    launch: Callable[..., AttemptResult],
    target: LaunchTarget,
    result: RunResult,
    home: Path,
) -> None:
    guard = ConfigGuard(home / "config.toml", dirs.state_dir, on_wait=notify)
    child_env = {**env, **target.env}
    never_retry_on = frozenset(plan.settings["never_retry_on"])
    escalate_on = frozenset(plan.settings["escalate_on"])
    higher = plan.escalation.alias if plan.escalation is not None else None
    # (path, alias): the plan's alias on each ready path; a context overflow may put the
    # long-context alias's attempt on the same path in front of the rest.
    queue: list[tuple[PathPlan, str]] = [(p, plan.decision.alias) for p in ready]
    index = 0
    while queue:
        path, alias = queue.pop(0)
        index += 1
        total = index + len(queue)
        is_last = not queue
        long_here = (
            plan.overflow_paths.get(path.name)
            if alias == plan.decision.alias and plan.overflow is not None
            else None
        )
        # escalation: once per run, from the plan's own alias (never after it went up or long)
        up_here = (
            plan.escalation_paths.get(path.name)
            if alias == plan.decision.alias and higher is not None
            else None
        )
        further = not is_last or long_here is not None or up_here is not None
        before = (
            worktree.snapshot(options.cwd) if further and not options.retry_after_changes else None
        )
        attempt_result, usage, session_error = _one_attempt(
            plan,
            path,
            run_id,
            env,
            child_env,
            dirs,
            options,
            notify,
            launch,
            target,
            guard,
            home,
            fallback_follows=not is_last,
        )
        kind = attempt_result.outcome_kind
        repeating = _repeating_failure(attempt_result) if further else None
        if repeating is not None:
            kind = "refused"  # codex refused the run itself (its config, arguments, directory)
        step = next_step(
            kind,
            path.name,
            never_retry_on=never_retry_on,
            next_path=queue[0][0].name if queue else None,
            long_alias=plan.overflow.alias if long_here is not None and plan.overflow else None,
            escalate_on=escalate_on,
            escalate_alias=higher if up_here is not None else None,
        )
        result.attempts.append(
            Attempt(
                path.name,
                path.model,
                attempt_result.exit_code,
                attempt_result.duration_ms,
                attempt_result.outcome,
                attempt_result.error or session_error,
                attempt_result.session_id,
                usage,
                outcome_kind=kind,
                ttft_ms=attempt_result.ttft_ms,
                error_message=attempt_result.error_message,
                alias=alias,
                next_step=step.action,
                next_reason=step.reason,
            )
        )
        notify(_attempt_line(index, total, path, attempt_result, kind))
        if step.action == "done":
            result.exit_code, result.outcome = 0, "success"
            return
        if attempt_result.outcome == "interrupted":
            result.exit_code = 128 + int(attempt_result.stop_signal or 2)
            result.outcome = "interrupted"
            return
        code = _failure_code(attempt_result)
        if step.action == "stop":
            result.exit_code, result.outcome = int(code), "failed"
            if repeating is not None and kind == "refused":
                result.exit_code = repeating[0]
                notify(
                    f"not falling back: codex refused the run itself "
                    f"({attempt_result.error or f'exit {attempt_result.exit_code}'}), and would "
                    f"on every path; exit {repeating[0]} ({repeating[1]})"
                )
            else:
                notify(f"not falling back: {step.reason}; exit {result.exit_code}")
            return
        if step.action == "last":
            if index > 1:
                result.exit_code, result.outcome = int(AllPathsFailedError.exit_code), "failed"
                tried = ", ".join(dict.fromkeys(a.path for a in result.attempts))
                notify(f"every path failed ({tried}); exit {int(AllPathsFailedError.exit_code)}")
            else:
                result.exit_code, result.outcome = int(code), "failed"
            return
        if before is not None:
            after = worktree.snapshot(options.cwd)
            following = queue[0][0].name if queue else path.name
            if step.action == "long_alias" and long_here:
                following = long_here.name
            elif step.action == "escalate" and higher:
                following = f"{path.name} with {higher}"
            if worktree.changed_between(before, after):
                result.exit_code, result.outcome = int(code), "stopped_changes"
                notify(
                    f"attempt on {path.name} changed the working tree; not re-running the task on "
                    f"{following} over its edits (review them, then rerun, or pass "
                    "--retry-after-changes)"
                )
                return
            if before.note and index == 1:
                notify(before.note)
        if step.action == "escalate" and up_here is not None and higher is not None:
            # the run has gone up a tier: the rest of the walk stays there, on the paths where
            # the higher alias is ready
            queue = [(up_here, higher)] + [
                (plan.escalation_paths[p.name], higher)
                for p, _ in queue
                if p.name in plan.escalation_paths
            ]
            notify(f"escalating to {higher} on {path.name} ({step.cause})")
        elif step.action == "long_alias" and long_here is not None and plan.overflow is not None:
            queue.insert(0, (long_here, plan.overflow.alias or alias))
            notify(f"retrying on {path.name} with {plan.overflow.reason} ({step.cause})")
        else:
            then = " (not retried there)" if kind == "auth" else ""
            notify(f"falling back to {queue[0][0].name}: {step.cause}{then}")


def _one_attempt(
    plan: Plan,
    path: PathPlan,
    run_id: str,
    env: Mapping[str, str],
    child_env: Mapping[str, str],
    dirs: AppDirs,
    options: RunOptions,
    notify: Notify,
    launch: Callable[..., AttemptResult],
    target: LaunchTarget,
    guard: ConfigGuard,
    home: Path,
    *,
    fallback_follows: bool,
) -> tuple[AttemptResult, TokenUsage | None, str | None]:
    """Launch codex once on ``path``: the result, Codex's usage, the rollout's error kind."""
    assert path.argv is not None  # build_plan gives every ready path its argv
    argv = [target.argv0, *path.argv[1:]]
    provider_id = MANAGED_PROVIDER_IDS.get(path.name)
    if path.name == "standard":
        argv = _standard_argv(
            argv, guard, tuple(plan.codex_args), home, notify, fallback_follows=fallback_follows
        )
    attempt_env = _attempt_env(path.name, child_env, plan, dirs, home, argv)
    if options.interactive:  # the TUI reads the terminal: the prompt goes in as its argument
        argv, stdin_text = (
            [plan.codex_input if a == PROMPT_PLACEHOLDER else a for a in argv],
            None,
        )
    else:
        stdin_text = plan.codex_input
    spec = LaunchSpec(
        argv,
        attempt_env,
        stdin_text,
        float(plan.settings["timeout_seconds"]) or None,
        interactive=options.interactive,
        cwd=options.cwd,
        events=not options.interactive,
        raw_events=asks_for_events(plan.codex_args),
    )
    attempt_started = time.time()
    if provider_id:
        table = managed_provider_table(path.name, plan.settings)
        attempt_result = _guarded_attempt(guard, run_id, provider_id, table, spec, launch, notify)
    else:
        attempt_result = launch(spec)
    usage, error = _session_facts(home, attempt_result, started_at=attempt_started)
    return attempt_result, usage or attempt_result.usage, error


def _guarded_attempt(
    guard: ConfigGuard,
    run_id: str,
    provider_id: str,
    table: dict[str, Any],
    spec: LaunchSpec,
    launch: Callable[..., AttemptResult],
    notify: Notify,
) -> AttemptResult:
    """Edit config.toml, run the attempt, give the file back, with stop signals held throughout.

    A Ctrl-C or SIGTERM from the edit on (while the config is written, before codex exists,
    while it is spawned) is noted instead of ending codex-route there: codex is then not started
    (or gets the signal at once), and the config is given back before the run stops with 128+n.
    """
    with StopSignals() as held:
        for notice in guard.enter(run_id, provider_id, table):
            notify(notice)
        try:
            return launch(spec, stop_signals=held)
        finally:
            outcome = guard.leave(run_id)
            if outcome.action == "merged":
                notify(outcome.message)


def _failure_code(attempt: AttemptResult) -> int:
    if attempt.outcome == "timeout":
        return int(ExitCode.TIMEOUT)
    code = attempt.exit_code
    if code is None or code == 0:
        return 1
    return 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell reports it


def _session_facts(
    home: Path, attempt: AttemptResult, *, started_at: float
) -> tuple[TokenUsage | None, str | None]:
    if not attempt.session_id:
        return None, None
    try:
        report = session_report(home, attempt.session_id, started_at=started_at)
    except (OSError, ValueError):
        return None, None
    if report is None:
        return None, None
    return report.usage, report.error


def _sum_usage(attempts: list[Attempt]) -> TokenUsage | None:
    usages = [a.usage for a in attempts if a.usage is not None]
    if not usages:
        return None
    return TokenUsage(*(sum(getattr(u, f.name) for u in usages) for f in fields(TokenUsage)))


def _build_record(
    plan: Plan, run_id: str, started_at: float, t0: float, result: RunResult
) -> RunRecord:
    deep = plan.costs.get(plan.settings.policy.alias_for(Role.DEEP))  # the "saved vs deep" baseline
    reasons = tuple(f"{r.rule}: {r.detail}" for r in plan.classification.reasons) + tuple(
        plan.decision.reasons
    )
    usage, policy, alias = _sum_usage(result.attempts), plan.settings.policy, plan.decision.alias
    first = plan.first_ready
    served = result.attempts[-1].path if result.attempts else (first.name if first else None)

    def priced(name: str | None) -> float | None:
        """The reported usage at ``name``'s prices; None: each attempt at its own alias's (an
        escalated attempt ran a pricier alias than the run's)."""
        if usage is None:
            return None
        return round(
            sum(
                usage_cost_usd(
                    policy,
                    name or a.alias or alias,
                    a.usage.input_tokens,
                    a.usage.cached_input_tokens,
                    a.usage.output_tokens,
                )
                for a in result.attempts
                if a.usage is not None
            ),
            6,
        )

    return RunRecord(
        run_id=run_id,
        started_at=started_at,
        duration_ms=int((time.monotonic() - t0) * 1000),
        outcome=result.outcome,
        exit_code=result.exit_code,
        alias=plan.decision.alias,
        provider=served_provider(policy, alias, plan.decision.provider, served),
        path_order=tuple(p.name for p in plan.paths),
        skipped={p.name: p.reason for p in plan.paths if not p.ready},
        attempts=tuple(result.attempts),
        complexity=plan.classification.complexity,
        long_context=plan.classification.long_context,
        intents=tuple(sorted(plan.classification.intents)),
        reasons=reasons,
        tokens_raw=plan.tokens.raw,
        tokens_clean=plan.tokens.clean,
        rules={r.name: r.tokens_removed for r in plan.rules},
        estimated_cost_usd=round(plan.estimated_cost_usd, 6),
        deep_cost_usd=round(deep.usd if deep else plan.estimated_cost_usd, 6),
        provenance={name: r.source for name, r in plan.settings.values.items()},
        codex_version=result.codex_version,
        codex_route_version=__version__,
        interactive=plan.interactive,
        dry_run=False,
        usage=usage,
        usage_cost_usd=priced(None),
        usage_deep_cost_usd=priced(policy.alias_for(Role.DEEP)),
        adaptive=_adaptive_verdict(plan),
    )


def _adaptive_verdict(plan: Plan) -> AdaptiveVerdict | None:
    health = plan.health
    if health is None:
        return None
    return AdaptiveVerdict(
        health.baseline,
        health.suggested,
        health.would_switch,
        health.applied,
        health.cost_guard_blocked,
    )


def dry_run_record(plan: Plan) -> RunRecord:
    """What ``run --dry-run --record`` stores: the decision, no attempts."""
    now = time.time()
    result = RunResult(exit_code=0, outcome="dry_run")
    record = _build_record(plan, uuid.uuid4().hex, now, time.monotonic(), result)
    return replace(record, dry_run=True, duration_ms=0)


def _record(
    dirs: AppDirs,
    record: RunRecord,
    notify: Notify,
    record_run: RecordRun | None,
    team_url: str | None = None,
) -> None:
    try:
        if record_run is None:
            keep_run(dirs, record, team_url)
        else:
            record_run(dirs, record)
    except CodexRouteError as exc:
        # The run itself is over; losing its record must not change its exit code.
        notify(f"warning: the run was not recorded: {exc}")
        return
    if team_url:
        sync_in_background(team_url, notify)


def keep_run(dirs: AppDirs, record: RunRecord, team_url: str | None) -> None:
    """Record the run. With a team history the run only spools it (``store.spool_run``,
    ~0.3 ms): the background sync it then starts writes it to SQLite before PostgreSQL.
    Without one it is written to SQLite here (~6 ms, mostly SQLite's fsyncs)."""
    if team_url:
        try:
            store.spool_run(dirs, record)
            return
        except CodexRouteError:
            pass  # no room for the file, say: write it directly, which says why if it fails
    store.record_run(dirs, record)


def sync_in_background(team_url: str, notify: Notify) -> None:
    """Start pushing the local runs to the team history without waiting for it: the run is
    kept locally already (spooled, or written by a ``record_run`` given to the walk), so a
    failure here only delays it to the next command that reads the history or syncs."""
    # lazy: only runs with a team history load the sync (subprocess, socket, the driver's
    # import happens in the child)
    from codex_router.history.team import start_background_sync

    try:
        start_background_sync(team_url, os.environ)
    except OSError as exc:
        notify(f"warning: the team history sync did not start ({exc.strerror or exc})")

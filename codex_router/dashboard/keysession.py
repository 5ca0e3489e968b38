"""The key session: provider keys pasted into the Keys page start the LiteLLM proxy.

The keys go where ``proxy start``'s no-echo prompt sends what the user types: into the proxy's
environment only (:func:`codex_router.proxy.process.start_proxy`, through its ``ask`` callback),
never to a file, a log or a page. The form's buffers (``bytearray``) are zeroed as soon as the
start returns, whether it succeeded or not. What Python cannot zero is documented in docs/ui.md:
the ``str`` the proxy's environment is built from (``subprocess`` needs one) lives until the
collector frees it, and the request body's chunks the server received are immutable ``bytes``.

The session remembers the variable *names* it handed over and whether it started the proxy, so
that the page can say which keys are set and ``ui`` can stop that proxy when it ends.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from codex_router.dirs import AppDirs
from codex_router.proxy.keys import PROVIDER_SECRET_VARS
from codex_router.proxy.process import (
    StartRequest,
    StartResult,
    StopResult,
    proxy_status,
    start_proxy,
    stop_proxy,
)

from .keyform import KEY_FIELDS, wipe


@dataclass
class KeySession:
    """What the Keys page started, for the page and for the shutdown. Holds no key."""

    dirs: AppDirs
    env: Mapping[str, str]
    given: tuple[str, ...] = ()  # the variables the running proxy got from the form
    started_pid: int | None = None  # the proxy this session started, stopped with the dashboard
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def names_in_environment(self) -> tuple[str, ...]:
        """The provider key variables set in the dashboard's own environment (names only)."""
        return tuple(v for v in PROVIDER_SECRET_VARS if self.env.get(v, "").strip())

    def start(self, keys: dict[str, bytearray], *, timeout: float = 90.0) -> StartResult:
        """Start the proxy with ``keys`` in its environment (they win over the dashboard's own
        variables of the same names); every buffer in ``keys`` is zeroed before this returns."""
        try:
            with self._lock:
                submitted = {name: keys[name] for name in KEY_FIELDS if name in keys}
                # the pasted keys replace the environment's: start_proxy asks only for missing ones
                base = {k: v for k, v in self.env.items() if k not in submitted}

                def ask(var: str, _aliases: tuple[str, ...]) -> str | None:
                    buffer = submitted.get(var)
                    return buffer.decode("ascii") if buffer else None

                request = StartRequest(timeout=timeout)
                result = start_proxy(request, env=base, dirs=self.dirs, ask=ask)
                if not result.already_running:
                    self.started_pid = result.record.pid
                    self.given = tuple(sorted(submitted))
                return result
        finally:
            wipe(keys.values())

    def stop(self) -> StopResult:
        """Stop the recorded proxy (``proxy stop``), whoever started it."""
        with self._lock:
            result = stop_proxy(self.dirs)
            self.started_pid = None
            self.given = ()
            return result

    def stop_own(self) -> StopResult | None:
        """At shutdown: stop the proxy only when this session started it and it still runs."""
        if self.started_pid is None:
            return None
        status = proxy_status(self.dirs)
        if status.record is None or status.record.pid != self.started_pid:
            return None
        return self.stop()

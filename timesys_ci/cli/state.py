"""What one `main(argv)` run owns, so that `main()` can run many times in one process (tests, embedders).

A run decides its client (key, URL, tokens, timeouts), the secrets to redact, `--color`, its log level
and the clock it waits with. None of that is process-wide: it lives in a `CliRun`, current for the
run's context (a ContextVar) and gone when the run ends. `timesys.llapi`, the shared client of scripts,
is left alone: the run's own client is made current for `timesys.vigiles.*` with
`timesys.core.llapi.using_client`. Log handlers and levels are put back by `configure_logging`.

Outside `main()` (a command function called directly) there is no run: `current_run()` is then one
process-wide fallback whose client is the shared `timesys.llapi`, as before runs had state of their own.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from timesys_ci.clock import SYSTEM_CLOCK, Clock

if TYPE_CHECKING:
    from timesys.core.llapi import LLAPI

REDACTED = "<redacted>"
#: `--color`: auto (decide per stream), always, never.
COLOR_MODES = ("auto", "always", "never")


class Redactor(logging.Filter):
    """Replaces known secrets (the API key) in log records and error lines: defence in depth."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def add(self, secret: Optional[str]) -> None:
        if secret and len(secret) >= 4:
            self.secrets.add(secret)

    def clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg, record.args = self.clean(record.getMessage()), None
        return True


@dataclass
class CliRun:
    prog: str = "timesys-ci"
    clock: Clock = SYSTEM_CLOCK
    color_mode: str = "auto"
    log_level: int = logging.WARNING
    redactor: Redactor = field(default_factory=Redactor)
    _client: Optional["LLAPI"] = field(default=None, repr=False)
    _stack: Optional[ExitStack] = field(default=None, repr=False)  # None: the fallback outside main()

    def __post_init__(self) -> None:
        if self.color_mode not in COLOR_MODES:
            raise ValueError(f"colour mode {self.color_mode!r} is not one of {', '.join(COLOR_MODES)}")

    @property
    def client(self) -> "LLAPI":
        """The run's own client, unconfigured until a command applies its settings; closed when the run ends."""
        import timesys
        from timesys.core.llapi import LLAPI, using_client

        if self._stack is None:
            return timesys.llapi
        if self._client is None:
            # log_level: the client sets the `timesys` logger's level; keep the run's (-v, -q, --debug).
            self._client = LLAPI(log_level=self.log_level, sleep=self.clock.sleep)
            self._stack.callback(self._client.close)
            self._stack.enter_context(using_client(self._client))
        return self._client


_OUTSIDE_MAIN = CliRun()
_CURRENT: ContextVar[Optional[CliRun]] = ContextVar("timesys_ci_cli_run", default=None)


def current_run() -> CliRun:
    """The run in progress (or the fallback outside `main()`)."""
    run = _CURRENT.get()
    return run if run is not None else _OUTSIDE_MAIN


@contextmanager
def cli_run(prog: str, *, clock: Optional[Clock] = None, color_mode: str = "auto",
            log_level: int = logging.WARNING) -> Iterator[CliRun]:
    """A new run, current until the block ends; then its client is closed and nothing of it remains."""
    run = CliRun(prog, clock or SYSTEM_CLOCK, color_mode, log_level)
    token = _CURRENT.set(run)
    try:
        with ExitStack() as stack:
            run._stack = stack
            yield run
    finally:
        run._stack = None
        _CURRENT.reset(token)

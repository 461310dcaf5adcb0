"""The clock that code which waits uses: wall time, monotonic time and sleeping, injected so tests never wait.

`db update` (rate limits, back-off), the client's retry back-off and `upload --wait-timeout` polling take a
`Clock`; `timesys_ci.cli.main(argv, clock=...)` gives one to a whole run.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone


class Clock:
    """Wall time, monotonic time and sleeping: replaced by a fake clock in tests."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK = Clock()

"""A clock on which time moves only when the code sleeps (or the test says so): nothing really waits."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from timesys_ci.clock import Clock

#: Day zero of the fake clock and of the feed mirror's data.
EPOCH = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


class FakeClock(Clock):
    """`sleeps` records every wait asked for; `now()` and `monotonic()` move by them."""

    def __init__(self, start: datetime = EPOCH) -> None:
        self.start = start
        self.elapsed = 0.0
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return self.elapsed

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.elapsed += seconds

    def advance(self, **delta: float) -> None:
        self.elapsed += timedelta(**delta).total_seconds()


class InstantClock(Clock):
    """Real time, except that sleeping returns at once and moves this clock on by the time slept.

    The default clock of in-process CLI runs: what the run measures (ages, deadlines) behaves as in a
    process, but retry back-off, rate limits and polling never really wait.
    """

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.skipped = 0.0

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + timedelta(seconds=self.skipped)

    def monotonic(self) -> float:
        return time.monotonic() + self.skipped

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.skipped += seconds

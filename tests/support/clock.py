"""A clock on which time moves only when the code sleeps (or the test says so): nothing really waits."""
from __future__ import annotations

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

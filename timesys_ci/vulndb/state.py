"""What the vulnerability database knows about its own data: one row per source, and its freshness.

The rows live in the database file itself (`feed_state`, created if missing), so
they travel with it: an atomic swap, an export and an import carry the data and
the facts about it together. A row says when the data was last brought in
(`updated`), how old the data itself is (`data_as_of`: the feed's own
timestamp), how to continue incrementally (`cursor`, `etag`, `last_modified`),
what the last run changed and what the source holds now.

A database with no row is the bundled sample (or empty): `db status` and
`upload --local` say so.
"""
from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

from timesys.exceptions import ConfigurationError, ParameterError

SCHEMA = """
CREATE TABLE IF NOT EXISTS feed_state (
    source TEXT PRIMARY KEY,
    updated TEXT NOT NULL,
    data_as_of TEXT,
    origin TEXT NOT NULL DEFAULT '',
    cursor TEXT NOT NULL DEFAULT '{}',
    etag TEXT,
    last_modified TEXT,
    sha256 TEXT,
    changed INTEGER NOT NULL DEFAULT 0,
    records INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS feed_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

DEFAULT_MAX_AGE = timedelta(days=7)


class StaleDataError(ConfigurationError):
    """`--require-fresh-db`: the local vulnerability data is the bundled sample or too old (exit status 2)."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def format_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_FRACTION = re.compile(r"\.(\d+)")


def parse_time(text: Optional[str]) -> Optional[datetime]:
    """A feed timestamp as an aware UTC datetime: RFC 3339 with any number of fraction digits, `Z`,
    `+0000` or no zone (NVD's `timestamp` has none: UTC), or a bare date. None if unreadable."""
    if not text or not isinstance(text, str):
        return None
    value = text.strip().replace(" ", "T", 1)
    value = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value, count=1)
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    match = re.search(r"([+-])(\d{2})(\d{2})$", value)
    if match and "T" in value and not re.search(r"[+-]\d{2}:\d{2}$", value):
        value = value[:match.start()] + f"{match.group(1)}{match.group(2)}:{match.group(3)}"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


@dataclass
class SourceState:
    """One source's row. `cursor` is the source's own JSON (NVD: the last window end; CVE 5: the
    applied release assets; OSV: the newest `modified` seen)."""

    source: str
    updated: str
    data_as_of: Optional[str] = None
    origin: str = ""
    cursor: dict[str, Any] = field(default_factory=dict)
    etag: Optional[str] = None
    last_modified: Optional[str] = None
    sha256: Optional[str] = None
    changed: int = 0
    records: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "SourceState":
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)

    def age(self, now: datetime) -> Optional[timedelta]:
        """Time since the source was last synced (a feed's own date can be old while it is current: KEV)."""
        moment = parse_time(self.updated) or parse_time(self.data_as_of)
        return None if moment is None else max(timedelta(0), now - moment)


def ensure_schema(connection: sqlite3.Connection) -> None:
    # Statement by statement: `executescript` would commit the caller's open transaction.
    for statement in SCHEMA.split(";"):
        if statement.strip():
            connection.execute(statement)


def read_states(connection: sqlite3.Connection) -> dict[str, SourceState]:
    """Every source's row; {} for a database without the table (the sample, or not ours)."""
    try:
        rows = connection.execute("SELECT source, updated, data_as_of, origin, cursor, etag, last_modified, sha256,"
                                  " changed, records FROM feed_state ORDER BY source").fetchall()
    except sqlite3.OperationalError:
        return {}
    states = {}
    for row in rows:
        try:
            cursor = json.loads(row[4] or "{}")
        except ValueError:
            cursor = {}
        states[row[0]] = SourceState(source=row[0], updated=row[1], data_as_of=row[2], origin=row[3] or "",
                                     cursor=cursor if isinstance(cursor, dict) else {}, etag=row[5],
                                     last_modified=row[6], sha256=row[7], changed=int(row[8] or 0),
                                     records=int(row[9] or 0))
    return states


def write_states(connection: sqlite3.Connection, states: Iterable[SourceState]) -> None:
    ensure_schema(connection)
    connection.executemany(
        "INSERT OR REPLACE INTO feed_state (source, updated, data_as_of, origin, cursor, etag, last_modified, sha256,"
        " changed, records) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(s.source, s.updated, s.data_as_of, s.origin, json.dumps(s.cursor, sort_keys=True), s.etag,
          s.last_modified, s.sha256, s.changed, s.records) for s in states])


def read_meta(connection: sqlite3.Connection) -> dict[str, Any]:
    try:
        rows = connection.execute("SELECT key, value FROM feed_meta").fetchall()
    except sqlite3.OperationalError:
        return {}
    meta = {}
    for key, value in rows:
        try:
            meta[key] = json.loads(value)
        except ValueError:
            meta[key] = value
    return meta


def write_meta(connection: sqlite3.Connection, values: Mapping[str, Any]) -> None:
    ensure_schema(connection)
    connection.executemany("INSERT OR REPLACE INTO feed_meta (key, value) VALUES (?, ?)",
                           [(key, json.dumps(value, sort_keys=True)) for key, value in values.items()])


def load_states(db_path: Path) -> tuple[dict[str, SourceState], dict[str, Any]]:
    """The rows and meta of a database file, read-only; empty when the file does not exist."""
    if not db_path.exists():
        return {}, {}
    connection = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return read_states(connection), read_meta(connection)
    except sqlite3.DatabaseError:
        return {}, {}
    finally:
        connection.close()


def mark_origin(states: Mapping[str, SourceState], origin: str) -> list[SourceState]:
    return [replace(state, origin=origin) for state in states.values()]


# -- freshness --------------------------------------------------------------------------------------


def parse_max_age(text: str) -> timedelta:
    """`--max-db-age`: days as a number (`7`, `1.5`) or with a unit: `36h`, `7d`, `2w`."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([hdw]?)\s*", text or "")
    if not match:
        raise ParameterError(f"--max-db-age: expected a number of days or e.g. 36h, 7d, 2w; not {text!r}")
    value = float(match.group(1))
    hours = {"h": 1, "d": 24, "w": 24 * 7, "": 24}[match.group(2)]
    return timedelta(hours=value * hours)


def describe_span(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    if hours < 1:
        return "less than an hour"
    if hours < 48:
        return f"{int(hours)} h"
    return f"{int(hours // 24)} days"


def describe_age(age: Optional[timedelta]) -> str:
    return "unknown age" if age is None else describe_span(age) + " old"


@dataclass(frozen=True)
class Freshness:
    """Is the local vulnerability data fit to gate on? `warning` is None when it is."""

    sample_only: bool
    stale: tuple[str, ...]  # "nvd (12 days old)"
    max_age: timedelta

    @property
    def warning(self) -> Optional[str]:
        if self.sample_only:
            return ("the local vulnerability database holds only the bundled sample (records picked for the examples): "
                    "a PASS means little; run `timesys-ci db update` (or `db import` an export)")
        if self.stale:
            return (f"the local vulnerability data is older than {describe_span(self.max_age)}"
                    f" (--max-db-age): {', '.join(self.stale)}; run `timesys-ci db update` (or `db import` "
                    f"a newer export)")
        return None


def assess(states: Mapping[str, SourceState], sample_only: bool, max_age: timedelta = DEFAULT_MAX_AGE,
           now: Optional[datetime] = None) -> Freshness:
    """Which synced sources are older than `max_age` (by their last successful update)."""
    now = now or utc_now()
    stale = []
    for state in states.values():
        age = state.age(now)
        if age is None or age > max_age:
            stale.append(f"{state.source} ({describe_age(age)})")
    return Freshness(sample_only=sample_only, stale=tuple(stale), max_age=max_age)


def require_fresh(check: Freshness, required: bool) -> tuple[str, ...]:
    """`upload --local`: the warning for the summary, or StaleDataError with --require-fresh-db."""
    if check.warning and required:
        raise StaleDataError(f"--require-fresh-db: {check.warning}")
    return (check.warning,) if check.warning else ()

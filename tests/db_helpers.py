"""Shared helpers of the `db` tests: a fake clock, running an update against the feed mirror, reading the DB."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Any, Optional

from .support.clock import EPOCH, FakeClock
from .support.feed_mirror import FeedMirror, cve5_day, cve5_records
from timesys_ci.vulndb import dbfile
from timesys_ci.vulndb.state import SourceState, load_states
from timesys_ci.vulndb.update import UpdateOptions, UpdateSummary, update


def run_update(mirror: FeedMirror, data: Path, clock: FakeClock, **options: Any) -> UpdateSummary:
    return update(data, UpdateOptions(urls=mirror.urls, clock=clock, **options))


def states(data: Path) -> dict[str, SourceState]:
    return load_states(dbfile.vulndb_path(data))[0]


def db_digest(data: Path) -> Optional[str]:
    path = dbfile.vulndb_path(data)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def record_ids(data: Path, source: str) -> dict[str, str]:
    """id -> `modified` of the records of one source (nvd, cve5, osv) in the database."""
    connection = sqlite3.connect(dbfile.vulndb_path(data))
    try:
        return dict(connection.execute("SELECT id, modified FROM records WHERE source = ?", (source,)))
    finally:
        connection.close()


def first_day(mirror: FeedMirror) -> dict[str, Any]:
    """cvelistV5 on 2025-06-01: the midnight baseline (8 records) and two cumulative hourly deltas."""
    records = cve5_records()
    ids = sorted(records)
    cve5_day(mirror, EPOCH, baseline={i: records[i] for i in ids[:8]},
             hourly={"0100Z": {ids[8]: records[ids[8]]},
                     "0500Z": {ids[8]: records[ids[8]], ids[9]: records[ids[9]]}})
    return records

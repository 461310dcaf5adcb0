"""The vulnerability database file `<data dir>/vulndb.sqlite3`: building a new version of it atomically.

`db update`, `db import` and `service import-vulns` never write the live file.
They copy it (SQLite's online backup, consistent even while the service reads
it) to a temporary file in the same directory, bring the new data into the copy,
and `os.replace` the copy over the live file. A failure or a kill at any point
leaves the previous database as it was; the service notices the new file and
reopens it. One lock per data dir keeps two writers apart.

This module is also the one place that knows how records get into the store
(`open_store`, `import_files`, `record_counts`): everything above it is
independent of the store's implementation.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Optional

from timesys.core.utils import _fsync_directory  # the rename itself made durable
from timesys.exceptions import ConfigurationError
from timesys_ci.vulndb import state as feed_state
from timesys_ci.vulndb.errors import VulnDataError
from timesys_ci.vulndb.importer import import_paths
from timesys_ci.vulndb.store import FILE_NAME, VulnStore

VULNDB_FILE = FILE_NAME
LOCK_FILE = ".vulndb.lock"
_TEMP_PREFIX = f".{VULNDB_FILE}."


class BusyError(ConfigurationError):
    """Another `db update`/`db import` is writing this data dir."""


def vulndb_path(data_dir: Path) -> Path:
    return Path(data_dir) / VULNDB_FILE


# -- the store (the one place that knows how records get into it) -----------------------------------------


def open_store(path: Path) -> VulnStore:
    """The vulnerability store over `path` (created if missing)."""
    return VulnStore(path)


@dataclass
class ImportResult:
    counts: dict[str, int] = field(default_factory=dict)  # records (nvd, cve5, osv) / entries (kev, epss) imported


class UnreadableData(ValueError):
    """A file to import is not readable vulnerability data (one line naming the file and record)."""


def import_files(store: VulnStore, paths: Sequence[Path], *, origin: str) -> ImportResult:
    """Bring feed files (any format the importer detects: files, dirs, zips) into the store, all or nothing.

    `origin` is what every report's `vuln_data` shows as the data's origin.
    """
    try:
        summary = import_paths(store, paths, origin=origin)
    except VulnDataError as exc:
        raise UnreadableData(str(exc)) from None
    return ImportResult(dict(summary.counts()))


def source_counts(store: VulnStore) -> dict[str, int]:
    """What the store holds per source: records of nvd, cve5 and osv; entries of kev and epss."""
    return store.counts()


def record_counts(path: Path) -> dict[str, int]:
    """`source_counts` of a database file; {} when there is none."""
    if not path.exists():
        return {}
    store = VulnStore(path)
    try:
        return store.counts()
    finally:
        store.close()


def sample_only(path: Path) -> bool:
    """True when the file holds only the bundled sample (or nothing at all yet)."""
    if not path.exists():
        return True
    store = VulnStore(path)
    try:
        return store.is_empty() or bool(store.data_summary()["sample_only"])
    finally:
        store.close()


def freshness(path: Path, max_age: timedelta = feed_state.DEFAULT_MAX_AGE,
              now: Optional[datetime] = None) -> feed_state.Freshness:
    """Is the database file fit to gate on: not only the sample, every synced source younger than `max_age`."""
    return feed_state.assess(feed_state.load_states(path)[0], sample_only(path), max_age, now)


def schema_problem(path: Path) -> Optional[str]:
    """Why the file is not a vulnerability database this version can use, or None."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            check = connection.execute("PRAGMA quick_check").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        return f"not an SQLite database ({exc})"
    if not check or check[0] != "ok":
        return f"the database is damaged ({check[0] if check else 'no answer'})"
    try:
        VulnStore(path).close()
    except VulnDataError as exc:
        return str(exc).replace(f"{path}: ", "")
    return None


# -- building a new version ------------------------------------------------------------------------


@contextlib.contextmanager
def locked(data_dir: Path) -> Iterator[None]:
    """Hold the data dir's writer lock (released if the process dies)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = open(data_dir / LOCK_FILE, "a+")
    try:
        try:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - no flock on Windows: one writer is the user's job there
            pass
        except OSError:
            raise BusyError(f"{data_dir}: another `db update` or `db import` is writing this data dir") from None
        yield
    finally:
        handle.close()


def _remove_leftovers(data_dir: Path) -> None:
    """Temporary copies of a run that was killed (only called with the lock held)."""
    for leftover in data_dir.glob(f"{_TEMP_PREFIX}*.tmp*"):
        leftover.unlink(missing_ok=True)


class Build:
    """A temporary copy of the database being brought up to date; `commit` swaps it in."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.live = vulndb_path(data_dir)
        fd, name = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=".tmp", dir=data_dir)
        os.close(fd)
        self.path = Path(name)
        if self.live.exists():
            _copy_database(self.live, self.path)
        else:
            self.path.unlink()
        self._store: Optional[VulnStore] = None
        self._states: dict[str, feed_state.SourceState] = {}
        self._meta: dict[str, Any] = {}

    @property
    def store(self) -> VulnStore:
        if self._store is None:
            self._store = open_store(self.path)
        return self._store

    def states(self) -> dict[str, feed_state.SourceState]:
        return feed_state.load_states(self.path)[0] if self.path.exists() else {}

    def set_state(self, state: feed_state.SourceState) -> None:
        self._states[state.source] = state

    def set_meta(self, values: Mapping[str, Any]) -> None:
        self._meta.update(values)

    def close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def commit(self) -> None:
        self.close_store()
        connection = sqlite3.connect(self.path, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
            connection.execute("BEGIN IMMEDIATE")
            feed_state.write_states(connection, self._states.values())
            if self._meta:
                feed_state.write_meta(connection, self._meta)
            connection.execute("COMMIT")
        finally:
            connection.close()
        _fsync(self.path)
        _checkpoint(self.live)
        os.replace(self.path, self.live)
        _fsync_directory(self.data_dir)

    def discard(self) -> None:
        self.close_store()
        for path in (self.path, Path(f"{self.path}-journal"), Path(f"{self.path}-wal"), Path(f"{self.path}-shm")):
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def building(data_dir: Path, *, lock: bool = True) -> Iterator[Build]:
    """`with building(dir) as build: ...; build.commit()` -- without `commit`, nothing changes.

    `lock=False`: the caller already holds `locked(data_dir)`.
    """
    data_dir = Path(data_dir)
    with locked(data_dir) if lock else contextlib.nullcontext():
        _remove_leftovers(data_dir)
        build = Build(data_dir)
        try:
            yield build
        finally:
            build.discard()


def write_states_in_place(data_dir: Path, states: Sequence[feed_state.SourceState]) -> None:
    """Only state rows changed (a run that found nothing new): one transaction on the live file."""
    connection = sqlite3.connect(vulndb_path(data_dir), isolation_level=None, timeout=30)
    try:
        connection.execute("BEGIN IMMEDIATE")
        feed_state.write_states(connection, states)
        connection.execute("COMMIT")
    finally:
        connection.close()


def replace_with(data_dir: Path, new_file: Path) -> None:
    """Swap a complete, verified database file (in `data_dir`) in for the live one."""
    _fsync(new_file)
    live = vulndb_path(data_dir)
    _checkpoint(live)
    os.replace(new_file, live)
    _fsync_directory(data_dir)


def snapshot(data_dir: Path, target: Path) -> None:
    """A consistent copy of the live database (for an export)."""
    _copy_database(vulndb_path(data_dir), target)


def _copy_database(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")
    finally:
        dst.close()
        src.close()


def _checkpoint(live: Path) -> None:
    """Fold a WAL of the live file into it, so no stale `-wal` is left to be read against the new file."""
    if not live.exists() or not Path(f"{live}-wal").exists():
        return
    connection = sqlite3.connect(live)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.DatabaseError:
        pass
    finally:
        connection.close()


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())

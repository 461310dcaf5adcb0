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
import gzip
import os
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from timesys.core.utils import _fsync_directory  # the rename itself made durable
from timesys.exceptions import ConfigurationError
from timesys_ci.vulndb import state as feed_state

VULNDB_FILE = "vulndb.sqlite3"
LOCK_FILE = ".vulndb.lock"
_TEMP_PREFIX = f".{VULNDB_FILE}."
#: Largest gzip member the EPSS/KEV path will inflate (the real EPSS CSV is about 10 MB).
MAX_INFLATED = 2 * 1024 * 1024 * 1024


class BusyError(ConfigurationError):
    """Another `db update`/`db import` is writing this data dir."""


def vulndb_path(data_dir: Path) -> Path:
    return Path(data_dir) / VULNDB_FILE


# -- the store (one place to swap implementations) -------------------------------------------------


def open_store(path: Path) -> Any:
    """The vulnerability store over `path` (created if missing)."""
    from timesys_ci.service.storage import Database, Storage

    class _FileStorage(Storage):
        """The service's vulnerability tables in their own file, until `VulnStore` lands."""

        def __init__(self, db_path: Path) -> None:
            self.data_dir = db_path.parent
            self.db = Database(db_path)

    return _FileStorage(path)


@dataclass
class ImportResult:
    counts: dict[str, int] = field(default_factory=dict)  # records brought in, per source
    not_imported: list[Path] = field(default_factory=list)  # fetched, but this version cannot read them yet


def import_files(store: Any, source: str, paths: Sequence[Path]) -> ImportResult:
    """Bring feed files of one source (`nvd`, `cve5`, `osv`, `kev`, `epss`) into the store."""
    from timesys_ci.service.vulndata import import_epss, import_kev, import_nvd_files

    result = ImportResult()
    if source == "nvd":
        result.counts["nvd"] = import_nvd_files(store, paths)
    elif source == "kev":
        result.counts["kev"] = sum(import_kev(store, path) for path in paths)
    elif source == "epss":
        result.counts["epss"] = 0
        for path in paths:
            with _plain(path) as plain:
                result.counts["epss"] += import_epss(store, plain)
    else:
        result.not_imported.extend(paths)
    return result


def source_counts(store: Any) -> dict[str, int]:
    """Records the store holds per source kind, as far as it can tell."""
    connection = store.db.connection()
    return {"nvd": store.vuln_count(),
            "kev": int(connection.execute("SELECT COUNT(*) FROM kev").fetchone()[0]),
            "epss": int(connection.execute("SELECT COUNT(*) FROM epss").fetchone()[0])}


def record_counts(path: Path) -> dict[str, int]:
    """What the database holds: CVE records, KEV entries, EPSS scores (read-only)."""
    if not path.exists():
        return {}
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    counts = {}
    try:
        for name, table in (("cve_records", "vulns"), ("kev", "kev"), ("epss", "epss")):
            try:
                counts[name] = int(connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
            except sqlite3.OperationalError:
                pass
    finally:
        connection.close()
    return counts


def schema_problem(path: Path) -> Optional[str]:
    """Why the file is not a vulnerability database this version can use, or None."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return f"not an SQLite database ({exc})"
    try:
        check = connection.execute("PRAGMA quick_check").fetchone()
        if not check or check[0] != "ok":
            return f"the database is damaged ({check[0] if check else 'no answer'})"
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        return f"not an SQLite database ({exc})"
    finally:
        connection.close()
    missing = {"vulns", "kev", "epss", "feed_state"} - tables
    if missing:
        return f"not a timesys-ci vulnerability database (no {', '.join(sorted(missing))} table)"
    return None


@contextlib.contextmanager
def _plain(path: Path) -> Iterator[Path]:
    """`path`, or a gunzipped copy of it (bounded) next to it."""
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
    if not gzipped:
        yield path
        return
    plain = path.with_name(path.name + ".plain")
    try:
        with gzip.open(path, "rb") as source, open(plain, "wb") as target:
            copied = 0
            for chunk in iter(lambda: source.read(1024 * 1024), b""):
                copied += len(chunk)
                if copied > MAX_INFLATED:
                    raise ValueError(f"{path.name}: inflates to more than {MAX_INFLATED} bytes; refused")
                target.write(chunk)
        yield plain
    finally:
        plain.unlink(missing_ok=True)


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
        self._store: Any = None
        self._states: dict[str, feed_state.SourceState] = {}
        self._meta: dict[str, Any] = {}

    @property
    def store(self) -> Any:
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

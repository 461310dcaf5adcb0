"""The vulnerability database: its own SQLite file (``<data dir>/vulndb.sqlite3``), apart from accounts.

Tables: ``records`` (one row per (source, id), the record's JSON), ``record_products``
(the product names a record can match under: what candidates are looked up by),
``record_cves`` (the CVE ids a record speaks for: an OSV advisory may name several),
``program_files`` (the Linux kernel CNA's affected files per CVE), ``kev``, ``epss``
and ``sources`` (per source: when it was last imported, from what, by whom). Matching
itself is not done here: the store hands records to the pure functions of
:mod:`timesys_ci.vulndb.match` through :meth:`VulnStore.records_for` and
:meth:`VulnStore.records_about`, the same contract as the in-memory
:class:`~timesys_ci.vulndb.index.RecordIndex`.

The file uses a rollback journal, not WAL: ``db update`` builds a new file and swaps
it in with ``os.replace``, and a WAL file left beside the old one must never be
applied to the new one. A reader notices the swap (the path's inode changed) before
its next query and reopens; :meth:`VulnStore.reading` pins one consistent view for
a whole scan.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from timesys_ci.vulndb.errors import VulnDataError
from timesys_ci.vulndb.match import record_products
from timesys_ci.vulndb.record import VulnRecord
from timesys_ci.vulndb.sources.common import Withdrawn

FILE_NAME = "vulndb.sqlite3"
APPLICATION_ID = 0x54435644  # "TCVD": a timesys-ci vulnerability database
SCHEMA_VERSION = 1
RECORD_SOURCES = ("nvd", "cve5", "osv")
ORIGIN_SAMPLE = "bundled sample"
_CHUNK = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    source TEXT NOT NULL,
    id TEXT NOT NULL,
    modified TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL,
    PRIMARY KEY (source, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS record_products (
    product TEXT NOT NULL, source TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (product, source, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS record_products_record ON record_products(source, id);
CREATE TABLE IF NOT EXISTS record_cves (
    cve_id TEXT NOT NULL, source TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (cve_id, source, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS record_cves_record ON record_cves(source, id);
CREATE TABLE IF NOT EXISTS program_files (
    cve_id TEXT NOT NULL, path TEXT NOT NULL, source TEXT NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (cve_id, path, source, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS program_files_record ON program_files(source, id);
CREATE TABLE IF NOT EXISTS kev (cve_id TEXT PRIMARY KEY, date_added TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS epss (cve_id TEXT PRIMARY KEY, score REAL NOT NULL, percentile REAL);
CREATE TABLE IF NOT EXISTS sources (
    source TEXT PRIMARY KEY, updated TEXT NOT NULL, origin TEXT NOT NULL, detail TEXT NOT NULL DEFAULT ''
);
"""


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


class _Local(threading.local):
    connection: Optional[sqlite3.Connection] = None
    identity: Optional[Tuple[int, int]] = None
    pinned: int = 0


class VulnStore:
    """Vulnerability records, KEV and EPSS in one SQLite file, shared by the service threads."""

    def __init__(self, path: Union[str, Path]) -> None:
        self.path = Path(path)
        self._local = _Local()
        self._connections: List[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._connection()  # create and check the schema now: a foreign file fails at open, not mid-scan

    # -- connections ----------------------------------------------------------------------------------

    def _identity(self) -> Optional[Tuple[int, int]]:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (info.st_dev, info.st_ino)

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA busy_timeout = 30000")
            application_id = connection.execute("PRAGMA application_id").fetchone()[0]
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            tables = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            connection.close()
            raise VulnDataError(f"{self.path}: not a vulnerability database ({exc})") from None
        if tables and application_id != APPLICATION_ID:
            connection.close()
            raise VulnDataError(f"{self.path}: not a timesys-ci vulnerability database")
        if version > SCHEMA_VERSION:
            connection.close()
            raise VulnDataError(f"{self.path}: vulnerability database schema {version} is newer than this "
                                f"program's ({SCHEMA_VERSION}); upgrade timesys-ci")
        if version < SCHEMA_VERSION:
            connection.execute("PRAGMA journal_mode = DELETE")
            connection.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute("COMMIT")
        with self._lock:
            self._connections.append(connection)
        return connection

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        if local.connection is not None and local.pinned:
            return local.connection
        identity = self._identity()
        if local.connection is None or identity != local.identity:
            if local.connection is not None:
                self._drop(local.connection)
            local.connection = self._open()
            local.identity = self._identity()
        return local.connection

    def _drop(self, connection: sqlite3.Connection) -> None:
        with self._lock:
            if connection in self._connections:
                self._connections.remove(connection)
        connection.close()

    def close(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = _Local()

    @contextmanager
    def reading(self) -> Iterator["VulnStore"]:
        """One consistent view for a block of reads (a scan): no reopen, one read transaction."""
        connection = self._connection()
        local = self._local
        local.pinned += 1
        began = local.pinned == 1 and not connection.in_transaction
        if began:
            connection.execute("BEGIN")
        try:
            yield self
        finally:
            local.pinned -= 1
            if began and connection.in_transaction:
                connection.execute("COMMIT")

    @contextmanager
    def transaction(self) -> Iterator["VulnStore"]:
        """All writes inside happen together or not at all."""
        connection = self._connection()
        local = self._local
        if connection.in_transaction:  # nested: the outer block commits
            yield self
            return
        connection.execute("BEGIN IMMEDIATE")
        local.pinned += 1
        try:
            yield self
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        else:
            connection.execute("COMMIT")
        finally:
            local.pinned -= 1

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> List[Tuple[Any, ...]]:
        return self._connection().execute(sql, params).fetchall()

    # -- writing ----------------------------------------------------------------------------------------

    def put(self, items: Iterable[Union[VulnRecord, Withdrawn]]) -> Tuple[int, int]:
        """Insert or replace records and drop withdrawn ones; returns (stored, withdrawn)."""
        stored = withdrawn = 0
        with self.transaction():
            connection = self._connection()
            for item in items:
                if isinstance(item, Withdrawn):
                    withdrawn += self._delete(connection, item.source, item.id)
                    continue
                self._delete(connection, item.source, item.id)
                connection.execute("INSERT INTO records (source, id, modified, body) VALUES (?, ?, ?, ?)",
                                   (item.source, item.id, item.last_modified or "",
                                    json.dumps(item.to_json(), separators=(",", ":"))))
                connection.executemany("INSERT OR IGNORE INTO record_products (product, source, id) VALUES (?, ?, ?)",
                                       [(product, item.source, item.id) for product in
                                        sorted({product for _, product in record_products(item)})])
                connection.executemany("INSERT OR IGNORE INTO record_cves (cve_id, source, id) VALUES (?, ?, ?)",
                                       [(cve, item.source, item.id) for cve in sorted({item.id, *item.cve_ids})])
                connection.executemany(
                    "INSERT OR IGNORE INTO program_files (cve_id, path, source, id) VALUES (?, ?, ?, ?)",
                    [(cve, path, item.source, item.id) for cve in item.cve_ids for path in item.program_files])
                stored += 1
        return stored, withdrawn

    @staticmethod
    def _delete(connection: sqlite3.Connection, source: str, record_id: str) -> int:
        for table in ("record_products", "record_cves", "program_files"):
            connection.execute(f"DELETE FROM {table} WHERE source = ? AND id = ?", (source, record_id))
        return connection.execute("DELETE FROM records WHERE source = ? AND id = ?", (source, record_id)).rowcount

    def put_kev(self, entries: Iterable[Tuple[str, str]]) -> int:
        rows = list(entries)
        with self.transaction():
            self._connection().executemany("INSERT OR REPLACE INTO kev (cve_id, date_added) VALUES (?, ?)", rows)
        return len(rows)

    def put_epss(self, entries: Iterable[Tuple[str, float, Optional[float]]]) -> int:
        count = 0
        with self.transaction():
            connection = self._connection()
            batch: List[Tuple[str, float, Optional[float]]] = []
            for entry in entries:
                batch.append(entry)
                if len(batch) >= 5000:
                    connection.executemany("INSERT OR REPLACE INTO epss (cve_id, score, percentile) VALUES (?, ?, ?)",
                                           batch)
                    count, batch = count + len(batch), []
            connection.executemany("INSERT OR REPLACE INTO epss (cve_id, score, percentile) VALUES (?, ?, ?)", batch)
        return count + len(batch)

    def note_source(self, source: str, *, origin: str, detail: str = "", updated: Optional[str] = None) -> None:
        """Record that ``source`` was just imported or updated (what every report's ``vuln_data`` shows)."""
        with self.transaction():
            self._connection().execute(
                "INSERT INTO sources (source, updated, origin, detail) VALUES (?, ?, ?, ?) ON CONFLICT (source)"
                " DO UPDATE SET updated = excluded.updated, origin = excluded.origin, detail = excluded.detail",
                (source, updated or now(), origin, detail))

    # -- reading ------------------------------------------------------------------------------------------

    @staticmethod
    def _decode(body: str) -> VulnRecord:
        return VulnRecord.from_json(json.loads(body))

    def records_for(self, products: Iterable[str]) -> List[VulnRecord]:
        """Records indexed under any of the product names (any source), ordered by (source, id)."""
        wanted = sorted(set(products))
        found: Dict[Tuple[str, str], str] = {}
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            for source, record_id, body in self._rows(
                    f"SELECT r.source, r.id, r.body FROM record_products p JOIN records r"
                    f" ON r.source = p.source AND r.id = p.id WHERE p.product IN ({marks})", chunk):
                found[(source, record_id)] = body
        return [self._decode(found[key]) for key in sorted(found)]

    def records_about(self, cve_ids: Iterable[str]) -> Dict[str, List[VulnRecord]]:
        """CVE id -> every record about it (NVD, CVE JSON 5, OSV advisories naming it); unknown ids left out."""
        wanted = sorted(set(cve_ids))
        rows: Dict[str, Dict[Tuple[str, str], str]] = {}
        for chunk in _chunks(wanted):
            marks = ",".join("?" * len(chunk))
            for cve_id, source, record_id, body in self._rows(
                    f"SELECT c.cve_id, r.source, r.id, r.body FROM record_cves c JOIN records r"
                    f" ON r.source = c.source AND r.id = c.id WHERE c.cve_id IN ({marks})", chunk):
                rows.setdefault(cve_id, {})[(source, record_id)] = body
        decoded: Dict[Tuple[str, str], VulnRecord] = {}
        return {cve_id: [decoded.setdefault(key, self._decode(body)) for key, body in sorted(found.items())]
                for cve_id, found in sorted(rows.items())}

    def record(self, source: str, record_id: str) -> Optional[VulnRecord]:
        rows = self._rows("SELECT body FROM records WHERE source = ? AND id = ?", (source, record_id))
        return self._decode(rows[0][0]) if rows else None

    def program_files(self, cve_ids: Iterable[str]) -> Dict[str, List[str]]:
        """CVE id -> the files the Linux kernel CNA says it affects; CVEs without file data are absent."""
        found: Dict[str, Dict[str, None]] = {}
        for chunk in _chunks(sorted(set(cve_ids))):
            marks = ",".join("?" * len(chunk))
            for cve_id, path in self._rows(f"SELECT cve_id, path FROM program_files WHERE cve_id IN ({marks})"
                                           " ORDER BY cve_id, path", chunk):
                found.setdefault(cve_id, {})[path] = None
        return {cve_id: list(paths) for cve_id, paths in found.items()}

    def kev(self, cve_ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(sorted(set(cve_ids))):
            marks = ",".join("?" * len(chunk))
            found.update(row[0] for row in self._rows(f"SELECT cve_id FROM kev WHERE cve_id IN ({marks})", chunk))
        return found

    def epss(self, cve_ids: Iterable[str]) -> Dict[str, float]:
        found: Dict[str, float] = {}
        for chunk in _chunks(sorted(set(cve_ids))):
            marks = ",".join("?" * len(chunk))
            found.update((cve, float(score)) for cve, score in
                         self._rows(f"SELECT cve_id, score FROM epss WHERE cve_id IN ({marks})", chunk))
        return found

    def counts(self) -> Dict[str, int]:
        """Rows per source: records of nvd/cve5/osv, entries of kev and epss."""
        counts = {source: 0 for source in RECORD_SOURCES}
        counts.update({source: int(count) for source, count in
                       self._rows("SELECT source, count(*) FROM records GROUP BY source")})
        counts["kev"] = int(self._rows("SELECT count(*) FROM kev")[0][0])
        counts["epss"] = int(self._rows("SELECT count(*) FROM epss")[0][0])
        return counts

    def cve_count(self) -> int:
        """Distinct CVE (or advisory) ids the records speak for."""
        return int(self._rows("SELECT count(DISTINCT cve_id) FROM record_cves")[0][0])

    def source_notes(self) -> Dict[str, Dict[str, str]]:
        return {source: {"updated": updated, "origin": origin, "detail": detail}
                for source, updated, origin, detail in
                self._rows("SELECT source, updated, origin, detail FROM sources ORDER BY source")}

    def data_summary(self) -> Dict[str, Any]:
        """What a report was scanned against: per source the count, when it was updated and from what.

        ``sample_only`` is true when every source holding data came from the bundled sample.
        """
        counts = self.counts()
        notes = self.source_notes()
        sources: Dict[str, Any] = {}
        for source in (*RECORD_SOURCES, "kev", "epss"):
            if not counts.get(source) and source not in notes:
                continue
            note: Mapping[str, str] = notes.get(source, {})
            sources[source] = {"records": counts.get(source, 0), "updated": note.get("updated"),
                               "origin": note.get("origin")}
        dates = [entry["updated"] for entry in sources.values() if entry["updated"]]
        held = [entry for entry in sources.values() if entry["records"]]
        return {
            "sources": sources,
            "records": sum(counts.get(source, 0) for source in RECORD_SOURCES),
            "cves": self.cve_count(),
            "updated": max(dates) if dates else None,
            "oldest_update": min(dates) if dates else None,
            "sample_only": bool(held) and all(entry["origin"] == ORIGIN_SAMPLE for entry in held),
        }

    def is_empty(self) -> bool:
        return not self._rows("SELECT 1 FROM records LIMIT 1") and not self._rows("SELECT 1 FROM kev LIMIT 1")


def open_store(data_dir: Union[str, Path]) -> VulnStore:
    """The vulnerability database of a data directory."""
    return VulnStore(Path(data_dir) / FILE_NAME)

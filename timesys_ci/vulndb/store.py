"""The vulnerability database: its own SQLite file (``<data dir>/vulndb.sqlite3``), apart from accounts.

Design: matching reads prepared rows, never the records' JSON
----------------------------------------------------------------
A full data set is ~600,000 records (NVD, CVE JSON 5, OSV) with over a million version
ranges; a 5,000-package image names hundreds of thousands of them. Decoding those records
for every scan costs minutes, so each record is prepared once, when it is stored
(:mod:`timesys_ci.vulndb.prepare`), into rows a scan reads in bulk:

``spans (pid, space, lo, hi, rid, part, val)``
    the range index. A span says: for a package version whose key in ``space`` lies in
    ``[lo, hi)`` (keys are bytes that sort like versions, :mod:`timesys_ci.vulndb.keys`),
    part ``part`` of record ``rid`` says ``val`` (an NVD criterion: it contains the version,
    its fix; a CVE JSON 5 entry: affected or unaffected, its fixes; an OSV entry likewise).
    Primary key ``(pid, space, lo, …)``: a scan joins all its package versions against it
    in one query (``lo <= key``, then ``key < hi``) and gets only the spans that contain
    each version — work in proportion to the candidates, not to the records.
``records (rid, source, id, modified, plan, facts, body)``
    ``plan``: the little a verdict needs beyond the spans (marshal); ``facts``: the shown
    fields; ``body``: the full record, JSON compressed with a preset dictionary, read only
    when a record needs the full matcher or a caller asks for records.
``names (pid, rid)``, ``products (pid, name)``
    the products a record is indexed under (``records_for``, candidate checks).
``cves (cve_id, rid, speaks)``
    the ids a record is about (``records_about``): the CVEs it speaks for (an OSV advisory may
    name several; ``speaks``), and its own id.
``fallback (pid, tag, rid)``
    records matched by the full reference matcher: those the spans cannot describe
    (tag ``""``: negated or AND configurations, wildcard names, a CNA's ``changes`` …), and
    OSV distribution entries (tag: the ecosystem), which apply only to packages whose
    package URL is of it.
``shown (cve_id, val)``
    what a report shows for each CVE (scores, severity, KEV flag), computed when its
    records change by :func:`~timesys_ci.vulndb.merge.display_record` and
    :func:`~timesys_ci.vulndb.scan.display_fields` themselves.
``program_files``, ``kev``, ``epss``, ``sources``
    the Linux kernel CNA's affected files, CISA KEV, FIRST EPSS, per-source notes.

A scan (:mod:`timesys_ci.vulndb.fastmatch`) joins its package versions with ``spans``,
reads the plans of the records that may say "affected", then of every candidate record
about those CVEs, builds the verdicts and merges them with the reference
:func:`~timesys_ci.vulndb.merge.merge`; KEV, EPSS and shown facts are read in bulk. It gives
the same findings as the reference matcher over full records (the cross-check test holds
it to that). Writes keep every table consistent inside one transaction; deleting a
replaced record's spans and refreshing ``shown`` happen once, at commit.

Changing what :mod:`~timesys_ci.vulndb.prepare` writes means bumping :data:`SCHEMA_VERSION`:
an older file is rebuilt from its stored records when opened (schema 1, the records as
JSON only, likewise).

The file uses a rollback journal, not WAL: ``db update`` builds a new file and swaps it in
with ``os.replace``, and a WAL file left beside the old one must never be applied to the
new one. A reader notices the swap (the path's inode changed) before its next query and
reopens; :meth:`VulnStore.reading` pins one consistent view for a whole scan.
"""
from __future__ import annotations

import json
import logging
import marshal
import os
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple, Union

from timesys_ci.vulndb.errors import VulnDataError
from timesys_ci.vulndb.merge import display_record
from timesys_ci.vulndb.prepare import prepare, record_of_facts
from timesys_ci.vulndb.record import VulnRecord
from timesys_ci.vulndb.sources.common import Withdrawn

logger = logging.getLogger(__name__)

FILE_NAME = "vulndb.sqlite3"
APPLICATION_ID = 0x54435644  # "TCVD": a timesys-ci vulnerability database
SCHEMA_VERSION = 3
RECORD_SOURCES = ("nvd", "cve5", "osv")
ORIGIN_SAMPLE = "bundled sample"
_CHUNK = 500
_CACHE_KIB = 16 * 1024  # page cache per connection: the working set of a scan, bounded

_SCHEMA = """
CREATE TABLE IF NOT EXISTS products (pid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS records (
    rid INTEGER PRIMARY KEY, source TEXT NOT NULL, id TEXT NOT NULL, modified TEXT NOT NULL DEFAULT '',
    plan BLOB NOT NULL, facts BLOB NOT NULL, body BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS records_key ON records(source, id);
CREATE TABLE IF NOT EXISTS names (pid INTEGER NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY (pid, rid)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS names_record ON names(rid);
CREATE TABLE IF NOT EXISTS cves (
    cve_id TEXT NOT NULL, rid INTEGER NOT NULL, speaks INTEGER NOT NULL, PRIMARY KEY (cve_id, rid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cves_record ON cves(rid);
-- The key's columns come first, in key order: SQLite 3.40's quick_check reports a false "NULL value" in a
-- WITHOUT ROWID column declared before a later key column, and `db import` trusts quick_check.
CREATE TABLE IF NOT EXISTS spans (
    pid INTEGER NOT NULL, space INTEGER NOT NULL, lo BLOB NOT NULL, rid INTEGER NOT NULL,
    part INTEGER NOT NULL, val BLOB NOT NULL, hi BLOB NOT NULL, PRIMARY KEY (pid, space, lo, rid, part, val)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS fallback (
    pid INTEGER NOT NULL, tag TEXT NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY (pid, tag, rid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS fallback_record ON fallback(rid);
CREATE TABLE IF NOT EXISTS program_files (
    cve_id TEXT NOT NULL, path TEXT NOT NULL, rid INTEGER NOT NULL, PRIMARY KEY (cve_id, path, rid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS program_files_record ON program_files(rid);
CREATE TABLE IF NOT EXISTS shown (cve_id TEXT PRIMARY KEY, val BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kev (cve_id TEXT PRIMARY KEY, date_added TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS epss (cve_id TEXT PRIMARY KEY, score REAL NOT NULL, percentile REAL);
CREATE TABLE IF NOT EXISTS sources (
    source TEXT PRIMARY KEY, updated TEXT NOT NULL, origin TEXT NOT NULL, detail TEXT NOT NULL DEFAULT ''
);
"""
_SCHEMA_1_TABLES = ("record_products", "record_cves", "program_files")

# Bodies are deflated with a preset dictionary of what every record's JSON repeats; the first
# byte says which dictionary (a later one gets a new number, old bodies stay readable).
_BODY_DICTIONARIES = {1: b"".join((
    b'"program_files":["', b'https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git',
    b'"fix_commits":["https://git.kernel.org/stable/c/', b'"source":"osv"', b'"source":"cve5"', b'"cwes":["CWE-',
    b'"assigner":"', b'"vuln_status":"Analyzed"', b'"last_modified":"20', b'"published":"20', b'"description":"',
    b'"source":"nvd"', b'{"id":"CVE-20', b'"package_name":"', b'"ecosystem":"Debian:12"',
    b'"ranges":[{"type":"ECOSYSTEM","events":[["introduced","0"],["fixed","', b'"default_status":"unaffected"',
    b'"less_than_or_equal":"', b'"less_than":"', b'"version_type":"semver"', b'"status":"unaffected"',
    b'"status":"affected"', b'"versions":[{"version":"', b'"affected":[{"provider":"',
    b'"vector":"AV:N/AC:L/Au:N/C:P/I:P/A:P","severity":"medium"}', b'"cvss_v2":{"version":"2.0","score":',
    b',"vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","severity":"high"}',
    b'"cvss_v3":{"version":"3.1","score":', b'"tags":["Vendor Advisory"]', b'"tags":["Patch","Third Party Advisory"]',
    b'"references":[{"url":"https://', b'"version_start_including":"', b'"version_end_excluding":"',
    b'"configurations":[{"operator":"OR","negate":false,"nodes":[{"operator":"OR","negate":false,"matches":[',
    b':*:*:*:*:*:*:*"', b'{"vulnerable":true,"criteria":"cpe:2.3:a:',
))}
_BODY_FORMAT = 1


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def encode_body(record: VulnRecord) -> bytes:
    text = json.dumps(record.to_json(), separators=(",", ":")).encode()
    # A 4 KiB window and small state: bodies are a few KiB, and the default state costs more to set up than to use.
    deflate = zlib.compressobj(1, zlib.DEFLATED, -12, 4, zlib.Z_DEFAULT_STRATEGY, _BODY_DICTIONARIES[_BODY_FORMAT])
    return bytes((_BODY_FORMAT,)) + deflate.compress(text) + deflate.flush()


def decode_body(body: bytes) -> VulnRecord:
    inflate = zlib.decompressobj(-15, _BODY_DICTIONARIES[body[0]])
    return VulnRecord.from_json(json.loads(inflate.decompress(body[1:]) + inflate.flush()))


class _Local(threading.local):
    connection: Optional[sqlite3.Connection] = None
    identity: Optional[Tuple[int, int]] = None
    pinned: int = 0
    pids: Optional[Dict[str, int]] = None  # product name -> pid, for writes; dropped with a rollback
    doomed: Optional[Set[int]] = None  # rids whose spans go at commit
    dirty: Optional[Set[str]] = None  # CVEs whose shown facts are refreshed at commit


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
            connection.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
            connection.execute("PRAGMA temp_store = MEMORY")
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
        with self._lock:
            self._connections.append(connection)
        if version < SCHEMA_VERSION:
            self._upgrade(connection, version)
        return connection

    def _upgrade(self, connection: sqlite3.Connection, version: int) -> None:
        """Create the schema, or rebuild an older file's prepared tables from its records (one transaction)."""
        connection.execute("PRAGMA journal_mode = DELETE")
        connection.execute("BEGIN IMMEDIATE")
        try:
            existing = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            old_records = "records" in existing and version >= 1
            if old_records:
                connection.execute("ALTER TABLE records RENAME TO records_old")
                for table in ({*_SCHEMA_1_TABLES, "names", "cves", "spans", "fallback", "shown", "products"}
                              & existing):
                    connection.execute(f"DROP TABLE {table}")
                for (index,) in connection.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records_old'"
                        " AND sql IS NOT NULL").fetchall():
                    connection.execute(f"DROP INDEX {index}")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._local.connection = connection  # the rebuild writes through this connection
            self._local.identity = self._identity()
            if old_records:
                self._rebuild_from(connection, version)
            self._finish_writes(connection)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            self._reset_writes()
            raise

    def _rebuild_from(self, connection: sqlite3.Connection, version: int) -> None:
        logger.info("%s: preparing the stored records for schema %d (once; this takes a while for a full data set)",
                    self.path, SCHEMA_VERSION)
        column = "body" if version >= 1 else "body"
        rows = connection.execute(f"SELECT {column} FROM records_old")
        self._local.pinned += 1
        try:
            while True:
                batch = rows.fetchmany(_CHUNK)
                if not batch:
                    break
                records = [VulnRecord.from_json(json.loads(body)) if isinstance(body, str) else decode_body(body)
                           for (body,) in batch]
                self._put(connection, records)
        finally:
            self._local.pinned -= 1
        connection.execute("DROP TABLE records_old")

    def _connection(self) -> sqlite3.Connection:
        local = self._local
        if local.connection is not None and local.pinned:
            return local.connection
        identity = self._identity()
        if local.connection is None or identity != local.identity:
            if local.connection is not None:
                self._drop(local.connection)
            local.connection = None
            connection = self._open()
            local.connection = connection
            local.identity = self._identity()
            local.pids = None
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
        if connection.in_transaction and local.pinned:  # nested: the outer block commits
            yield self
            return
        connection.execute("BEGIN IMMEDIATE")
        local.pinned += 1
        try:
            yield self
            self._finish_writes(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            self._reset_writes()
            raise
        else:
            connection.execute("COMMIT")
        finally:
            local.pinned -= 1

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> List[Tuple[Any, ...]]:
        return self._connection().execute(sql, params).fetchall()

    def _rows_in(self, sql: str, values: Iterable[Any]) -> Iterator[Tuple[Any, ...]]:
        """Rows of `sql` whose `IN ({marks})` takes each distinct value, in chunks SQLite accepts."""
        for chunk in _chunks(sorted(set(values))):
            yield from self._rows(sql.format(marks=",".join("?" * len(chunk))), chunk)

    def _temp(self, name: str, columns: str, rows: Iterable[Sequence[Any]], key: str = "") -> None:
        """A scratch table of this connection (TEMP: no write lock on the database), filled with ``rows``."""
        connection = self._connection()
        marks = ",".join("?" * (columns.count(",") + 1))
        connection.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns}{f', PRIMARY KEY ({key})' if key else ''})")
        connection.execute(f"DELETE FROM temp.{name}")
        connection.executemany(f"INSERT INTO temp.{name} VALUES ({marks})", rows)

    # -- writing ----------------------------------------------------------------------------------------

    def put(self, items: Iterable[Union[VulnRecord, Withdrawn]]) -> Tuple[int, int]:
        """Insert or replace records and drop withdrawn ones; returns (stored, withdrawn)."""
        with self.transaction():
            return self._put(self._connection(), items)

    def _put(self, connection: sqlite3.Connection, items: Iterable[Union[VulnRecord, Withdrawn]]) -> Tuple[int, int]:
        stored = withdrawn = 0
        batch: List[Union[VulnRecord, Withdrawn]] = []
        for item in items:
            batch.append(item)
            if len(batch) >= _CHUNK:
                counted = self._put_batch(connection, batch)
                stored, withdrawn, batch = stored + counted[0], withdrawn + counted[1], []
        if batch:
            counted = self._put_batch(connection, batch)
            stored, withdrawn = stored + counted[0], withdrawn + counted[1]
        return stored, withdrawn

    def _put_batch(self, connection: sqlite3.Connection, batch: Sequence[Union[VulnRecord, Withdrawn]]) \
            -> Tuple[int, int]:
        latest: Dict[Tuple[str, str], Union[VulnRecord, Withdrawn]] = {}
        for item in batch:  # the last copy of a (source, id) in the batch wins, as if stored one by one
            latest.pop((item.source, item.id), None)
            latest[(item.source, item.id)] = item
        existing: Dict[Tuple[str, str], int] = {}
        by_source: Dict[str, List[str]] = {}
        for source, record_id in latest:
            by_source.setdefault(source, []).append(record_id)
        for source, ids in by_source.items():
            marks = ",".join("?" * len(ids))
            existing.update(((source, record_id), rid) for rid, record_id in connection.execute(
                f"SELECT rid, id FROM records WHERE source = ? AND id IN ({marks})", (source, *ids)))
        withdrawn = sum(1 for key, item in latest.items() if isinstance(item, Withdrawn) and key in existing)
        self._forget(connection, list(existing.values()))
        records = [item for item in latest.values() if isinstance(item, VulnRecord)]
        self._insert(connection, records)
        return len(records), withdrawn

    def _pids(self, connection: sqlite3.Connection, names: Iterable[str]) -> Dict[str, int]:
        local = self._local
        if local.pids is None:
            local.pids = {}
        known = local.pids
        missing = sorted({name for name in names if name not in known})
        for chunk in _chunks(missing):
            marks = ",".join("?" * len(chunk))
            known.update(connection.execute(f"SELECT name, pid FROM products WHERE name IN ({marks})", chunk))
        for name in missing:
            if name not in known:
                known[name] = connection.execute("INSERT INTO products (name) VALUES (?)", (name,)).lastrowid
        return known

    def _insert(self, connection: sqlite3.Connection, records: Sequence[VulnRecord]) -> None:
        local = self._local
        dirty = local.dirty if local.dirty is not None else set()
        local.dirty = dirty
        prepared = [prepare(record) for record in records]
        pids = self._pids(connection, {name for item in prepared for name in
                                       (*item.names, *(span[0] for span in item.spans))})
        names: List[Tuple[int, int]] = []
        cves: List[Tuple[str, int, bool]] = []
        spans: List[Tuple[Any, ...]] = []
        fallback: List[Tuple[int, str, int]] = []
        files: List[Tuple[str, str, int]] = []
        for record, item in zip(records, prepared):
            rid = connection.execute(
                "INSERT INTO records (source, id, modified, plan, facts, body) VALUES (?, ?, ?, ?, ?, ?)",
                (record.source, record.id, record.last_modified or "", marshal.dumps(item.plan),
                 marshal.dumps(item.facts), encode_body(record))).lastrowid
            names += [(pids[name], rid) for name in item.names]
            cve_ids = sorted({record.id, *record.cve_ids})
            dirty.update(cve_ids)
            speaks = set(record.cve_ids)
            cves += [(cve_id, rid, cve_id in speaks) for cve_id in cve_ids]
            spans += [(pids[product], space, lo, hi, rid, part, marshal.dumps(value))
                      for product, space, lo, hi, part, value in item.spans]
            fallback += [(pids[name], tag, rid) for name, tag in item.fallback]
            files += [(cve_id, path, rid) for cve_id in record.cve_ids for path in record.program_files]
        connection.executemany("INSERT OR IGNORE INTO names (pid, rid) VALUES (?, ?)", names)
        connection.executemany("INSERT OR IGNORE INTO cves (cve_id, rid, speaks) VALUES (?, ?, ?)", cves)
        connection.executemany("INSERT OR IGNORE INTO spans (pid, space, lo, hi, rid, part, val)"
                               " VALUES (?, ?, ?, ?, ?, ?, ?)", spans)
        connection.executemany("INSERT OR IGNORE INTO fallback (pid, tag, rid) VALUES (?, ?, ?)", fallback)
        connection.executemany("INSERT OR IGNORE INTO program_files (cve_id, path, rid) VALUES (?, ?, ?)", files)

    def _forget(self, connection: sqlite3.Connection, rids: Sequence[int]) -> None:
        """Drop records (their spans go at commit: one pass over the index for all of them)."""
        if not rids:
            return
        local = self._local
        local.doomed = (local.doomed or set()) | set(rids)
        dirty = local.dirty if local.dirty is not None else set()
        local.dirty = dirty
        for chunk in _chunks(list(rids)):
            marks = ",".join("?" * len(chunk))
            dirty.update(row[0] for row in connection.execute(f"SELECT cve_id FROM cves WHERE rid IN ({marks})", chunk))
            for table in ("names", "cves", "fallback", "program_files", "records"):
                connection.execute(f"DELETE FROM {table} WHERE rid IN ({marks})", chunk)

    def _finish_writes(self, connection: sqlite3.Connection) -> None:
        """At commit: drop the spans of replaced records, refresh the shown facts of the CVEs touched."""
        local = self._local
        doomed, dirty = local.doomed, local.dirty
        local.doomed = local.dirty = None
        if doomed:
            connection.execute("CREATE TEMP TABLE IF NOT EXISTS doomed (rid INTEGER PRIMARY KEY)")
            connection.execute("DELETE FROM temp.doomed")
            connection.executemany("INSERT INTO temp.doomed (rid) VALUES (?)", ((rid,) for rid in doomed))
            connection.execute("DELETE FROM spans WHERE rid IN (SELECT rid FROM temp.doomed)")
        if dirty:
            self._refresh_shown(connection, sorted(dirty))

    def _reset_writes(self) -> None:
        local = self._local
        local.doomed = local.dirty = local.pids = None

    def _refresh_shown(self, connection: sqlite3.Connection, cve_ids: Sequence[str]) -> None:
        from timesys_ci.vulndb.scan import display_fields  # scan imports the store's neighbours; keep it lazy

        for chunk in _chunks(cve_ids, 5000):
            marks = ",".join("?" * len(chunk))
            facts: Dict[str, List[VulnRecord]] = {}
            for cve_id, source, record_id, value in connection.execute(
                    f"SELECT c.cve_id, r.source, r.id, r.facts FROM cves c JOIN records r ON r.rid = c.rid"
                    f" WHERE c.cve_id IN ({marks})", chunk):
                facts.setdefault(cve_id, []).append(record_of_facts(source, record_id, marshal.loads(value)))
            rows = []
            for cve_id, items in facts.items():
                record = display_record(cve_id, items)
                if record is not None:
                    rows.append((cve_id, marshal.dumps((display_fields(record), record.kev))))
            connection.execute(f"DELETE FROM shown WHERE cve_id IN ({marks})", chunk)
            connection.executemany("INSERT INTO shown (cve_id, val) VALUES (?, ?)", rows)

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

    # -- reading records ----------------------------------------------------------------------------------

    def records_for(self, products: Iterable[str]) -> List[VulnRecord]:
        """Records indexed under any of the product names (any source), ordered by (source, id)."""
        found: Dict[Tuple[str, str], bytes] = {}
        for source, record_id, body in self._rows_in(
                "SELECT r.source, r.id, r.body FROM products p JOIN names n ON n.pid = p.pid"
                " JOIN records r ON r.rid = n.rid WHERE p.name IN ({marks})", products):
            found[(source, record_id)] = body
        return [decode_body(found[key]) for key in sorted(found)]

    def records_about(self, cve_ids: Iterable[str]) -> Dict[str, List[VulnRecord]]:
        """CVE id -> every record about it (NVD, CVE JSON 5, OSV advisories naming it); unknown ids left out."""
        rows: Dict[str, Dict[Tuple[str, str], bytes]] = {}
        for cve_id, source, record_id, body in self._rows_in(
                "SELECT c.cve_id, r.source, r.id, r.body FROM cves c JOIN records r ON r.rid = c.rid"
                " WHERE c.cve_id IN ({marks})", cve_ids):
            rows.setdefault(cve_id, {})[(source, record_id)] = body
        decoded: Dict[Tuple[str, str], VulnRecord] = {}
        return {cve_id: [decoded[key] if key in decoded else decoded.setdefault(key, decode_body(body))
                         for key, body in sorted(found.items())]
                for cve_id, found in sorted(rows.items())}

    def record(self, source: str, record_id: str) -> Optional[VulnRecord]:
        rows = self._rows("SELECT body FROM records WHERE source = ? AND id = ?", (source, record_id))
        return decode_body(rows[0][0]) if rows else None

    def program_files(self, cve_ids: Iterable[str]) -> Dict[str, List[str]]:
        """CVE id -> the files the Linux kernel CNA says it affects; CVEs without file data are absent."""
        found: Dict[str, Dict[str, None]] = {}
        for cve_id, path in self._rows_in("SELECT DISTINCT cve_id, path FROM program_files WHERE cve_id IN ({marks})"
                                          " ORDER BY cve_id, path", cve_ids):
            found.setdefault(cve_id, {})[path] = None
        return {cve_id: list(paths) for cve_id, paths in found.items()}

    def kev(self, cve_ids: Iterable[str]) -> set[str]:
        return {row[0] for row in self._rows_in("SELECT cve_id FROM kev WHERE cve_id IN ({marks})", cve_ids)}

    def epss(self, cve_ids: Iterable[str]) -> Dict[str, float]:
        return {cve: float(score) for cve, score in
                self._rows_in("SELECT cve_id, score FROM epss WHERE cve_id IN ({marks})", cve_ids)}

    # -- reading the prepared tables (for timesys_ci.vulndb.fastmatch) ------------------------------------

    def product_ids(self, names: Iterable[str]) -> Dict[str, int]:
        return dict(self._rows_in("SELECT name, pid FROM products WHERE name IN ({marks})", names))

    def spans_at(self, probes: Sequence[Tuple[int, int, int, bytes]]) -> List[Tuple[int, int, int, int, bytes]]:
        """(slot, rid, space, part, value) of every span holding a probe's (slot, pid, space, key)."""
        self._temp("probe_keys", "slot INTEGER, pid INTEGER, space INTEGER, k BLOB", probes)
        return self._rows("SELECT p.slot, s.rid, s.space, s.part, s.val FROM temp.probe_keys p"
                          " JOIN spans s ON s.pid = p.pid AND s.space = p.space AND s.lo <= p.k WHERE p.k < s.hi")

    def spanned(self, pairs: Sequence[Tuple[int, int]]) -> List[Tuple[int, int, int]]:
        """(pid, space, rid) for records with any span in the (pid, space) pairs."""
        self._temp("spanned_pairs", "pid INTEGER, space INTEGER", pairs)
        return self._rows("SELECT DISTINCT p.pid, p.space, s.rid FROM temp.spanned_pairs p"
                          " JOIN spans s ON s.pid = p.pid AND s.space = p.space")

    def fallback_for(self, pids: Iterable[int]) -> List[Tuple[int, str, int]]:
        """(pid, tag, rid) of the records the full matcher decides for these products."""
        return list(self._rows_in("SELECT pid, tag, rid FROM fallback WHERE pid IN ({marks})", pids))

    def record_plans(self, rids: Iterable[int]) -> Dict[int, Tuple[Tuple[str, str], Optional[str], Tuple[Any, ...]]]:
        """rid -> ((source, id), last modified, plan)."""
        self._temp("plan_rids", "rid INTEGER PRIMARY KEY", ((rid,) for rid in rids))
        return {rid: ((source, record_id), modified or None, marshal.loads(plan))
                for rid, source, record_id, modified, plan in self._rows(
                    "SELECT r.rid, r.source, r.id, r.modified, r.plan FROM temp.plan_rids p JOIN records r ON r.rid = p.rid")}

    def records_by_rid(self, rids: Iterable[int]) -> Dict[int, VulnRecord]:
        return {rid: decode_body(body) for rid, body in
                self._rows_in("SELECT rid, body FROM records WHERE rid IN ({marks})", rids)}

    def deciding_records(self, affected: Iterable[Tuple[int, int]], hits: Iterable[Tuple[int, str]],
                         products: Iterable[Tuple[int, int]]) -> List[Tuple[int, str, int]]:
        """(job, cve_id, rid): for every CVE a job's records may be affected by, the records that speak for it and
        are indexed under one of the job's products.

        ``affected`` is (job, rid) of records whose spans may say affected (they count when they are candidates
        of the job), ``hits`` (job, cve_id) found otherwise, ``products`` (job, pid).
        """
        self._temp("job_products", "job INTEGER, pid INTEGER", products, key="job, pid")
        self._temp("affected", "job INTEGER, rid INTEGER", affected)
        self._temp("hits", "job INTEGER, cve_id TEXT", (), key="job, cve_id")
        connection = self._connection()
        connection.executemany("INSERT OR IGNORE INTO temp.hits VALUES (?, ?)", hits)
        connection.execute(
            "INSERT OR IGNORE INTO temp.hits SELECT a.job, c.cve_id FROM temp.affected a"
            " JOIN cves c ON c.rid = a.rid AND c.speaks"
            " WHERE EXISTS (SELECT 1 FROM names n JOIN temp.job_products j ON j.pid = n.pid"
            " WHERE n.rid = a.rid AND j.job = a.job)")
        return self._rows(
            "SELECT h.job, h.cve_id, c.rid FROM temp.hits h JOIN cves c ON c.cve_id = h.cve_id AND c.speaks"
            " WHERE EXISTS (SELECT 1 FROM names n JOIN temp.job_products j ON j.pid = n.pid"
            " WHERE n.rid = c.rid AND j.job = h.job)")

    def shown(self, cve_ids: Iterable[str]) -> Dict[str, Tuple[Tuple[Any, ...], bool, bool, Optional[float]]]:
        """CVE id -> (shown fields, a record says KEV, in the KEV catalog, EPSS score) for the known CVEs."""
        wanted = sorted(set(cve_ids))
        self._temp("shown_cves", "cve_id TEXT PRIMARY KEY", ((cve_id,) for cve_id in wanted))
        return {cve_id: (*marshal.loads(value), kev is not None, score) for cve_id, value, kev, score in self._rows(
            "SELECT w.cve_id, s.val, k.cve_id, e.score FROM temp.shown_cves w JOIN shown s ON s.cve_id = w.cve_id"
            " LEFT JOIN kev k ON k.cve_id = w.cve_id LEFT JOIN epss e ON e.cve_id = w.cve_id")}

    # -- what the store holds ----------------------------------------------------------------------------

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
        return int(self._rows("SELECT count(DISTINCT cve_id) FROM cves")[0][0])

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

"""SQLite connections: WAL, foreign keys, one connection per thread, explicit write transactions.

Every write runs in `BEGIN IMMEDIATE ... COMMIT`, so a process killed between
requests never leaves a half-applied change, and concurrent writers queue on the
database lock instead of failing.
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from timesys_ci.service.storage.schema import MIGRATIONS, SCHEMA_VERSION


class SchemaError(RuntimeError):
    """The database was written by a newer version of this program."""


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._migrate()

    def connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("PRAGMA busy_timeout = 30000")
            connection.execute("PRAGMA synchronous = NORMAL")  # with WAL: durable at checkpoints, never corrupt
            self._local.connection = connection
        return connection

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        connection = self.connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def _migrate(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = self.connection()
        connection.execute("PRAGMA journal_mode = WAL")
        with self.write() as db:
            current = db.execute("PRAGMA user_version").fetchone()[0]
            if current > SCHEMA_VERSION:
                raise SchemaError(f"{self.path}: database schema version {current} is newer than this program's "
                                  f"({SCHEMA_VERSION}); upgrade timesys-ci")
            for version in range(current, SCHEMA_VERSION):
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {version + 1}")

    @property
    def schema_version(self) -> int:
        return int(self.connection().execute("PRAGMA user_version").fetchone()[0])

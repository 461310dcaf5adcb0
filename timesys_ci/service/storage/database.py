"""SQLite connections: WAL, foreign keys, one connection per thread, explicit write transactions.

Every write runs in `BEGIN IMMEDIATE ... COMMIT`, so a process killed between
requests never leaves a half-applied change, and concurrent writers queue on the
database lock instead of failing.

The database holds every user's account, so its directory is made 0700 and
its files (with `-wal` and `-shm`, which SQLite creates with the main file's
mode) 0600, whatever the umask; looser modes of an existing data dir are
tightened on open.
"""
from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from timesys_ci.service.storage.schema import MIGRATIONS, SCHEMA_VERSION


class SchemaError(RuntimeError):
    """The database was written by a newer version of this program."""


logger = logging.getLogger(__name__)
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def _restrict(path: Path, mode: int) -> None:
    """Tighten `path` to `mode` if it is looser (a missing path is fine)."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if current & ~mode:
        os.chmod(path, mode)
        logger.info("%s: mode %o tightened to %o", path, current, mode)


def make_private(path: Path) -> None:
    """The database's directory 0700 and its files 0600, created so if missing (no umask change)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    _restrict(path.parent, PRIVATE_DIR)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))  # SQLite opens it as new
    except FileExistsError:
        pass
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}-journal"):
        _restrict(path.parent / name, PRIVATE_FILE)


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        make_private(path)
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
        connection = self.connection()
        connection.execute("PRAGMA journal_mode = WAL")
        with self.write() as db:
            current = db.execute("PRAGMA user_version").fetchone()[0]
            if current > SCHEMA_VERSION:
                raise SchemaError(f"{self.path}: database schema version {current} is newer than this program's "
                                  f"({SCHEMA_VERSION}); upgrade timesys-ci")
            purge = False
            for version in range(current, SCHEMA_VERSION):
                migration = MIGRATIONS[version]
                if callable(migration):  # a step SQL cannot express (sealing keys); it rewrites data
                    db.execute("PRAGMA secure_delete = ON")  # overwritten content is zeroed, not left in free pages
                    migration(db, self.path.parent)
                    purge = True
                else:
                    for statement in migration.split(";"):
                        if statement.strip():
                            db.execute(statement)
                db.execute(f"PRAGMA user_version = {version + 1}")
        if purge and current > 0:  # an existing database: rebuild it so no old page survives in the file or WAL
            connection.execute("VACUUM")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @property
    def schema_version(self) -> int:
        return int(self.connection().execute("PRAGMA user_version").fetchone()[0])

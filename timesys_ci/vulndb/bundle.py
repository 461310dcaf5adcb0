"""`db export` / `db import`: the vulnerability database as one file, for carrying into an air-gapped lab.

An export is a zip with exactly two members:

* `manifest.json` -- `format` "timesys-ci/vulndb-export", `version` 1, when and by what
  it was made, the database's size and SHA-256, its record counts and every source's
  state (last update, the feed's own date, records);
* `vulndb.sqlite3` -- a consistent snapshot of the database (deflated).

An import trusts nothing in the file: the zip must hold those two members and nothing
else (no paths, no links, no encryption), the manifest must be ours and small, the
database is inflated to a temporary file in the data dir with its size bounded by the
manifest and checked against the SHA-256 and the record counts, and it must be an
intact vulnerability database. Only then does it replace the live one; anything else
is a one-line error and the previous data stays. `--sha256` checks the whole file
against the checksum `db export` printed, for a transfer that must not be tampered with.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any, Optional

from timesys.core.version import TOOL_NAME, tool_version
from timesys.exceptions import ParameterError
from timesys_ci.vulndb import dbfile
from timesys_ci.vulndb.feeds.http import sha256_file
from timesys_ci.vulndb.state import format_time, load_states, utc_now, write_meta

FORMAT = "timesys-ci/vulndb-export"
VERSION = 1
MANIFEST = "manifest.json"
DATABASE = dbfile.VULNDB_FILE
MAX_MANIFEST = 1024 * 1024
#: The largest database an import accepts (the full NVD + CVE 5 + OSV data is a few GB).
MAX_DATABASE = 64 * 1024 * 1024 * 1024
_CHUNK = 1024 * 1024


class BundleError(ParameterError):
    """An export file that cannot be imported (corrupt, foreign, hostile): exit status 2, nothing changed."""


def export_bundle(data_dir: Path, target: Path) -> dict[str, Any]:
    """Write the export file `target` (atomically); returns its manifest plus the file's own sha256."""
    live = dbfile.vulndb_path(data_dir)
    if not live.exists():
        raise BundleError(f"{data_dir}: no vulnerability database ({DATABASE}) to export; run `db update` first")
    target = Path(target)
    directory = target.parent if str(target.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, snapshot_name = tempfile.mkstemp(prefix=".vulndb-export.", suffix=".sqlite3", dir=directory)
    os.close(fd)
    snapshot = Path(snapshot_name)
    fd, archive_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        dbfile.snapshot(data_dir, snapshot)
        states, meta = load_states(snapshot)
        manifest = {
            "format": FORMAT, "version": VERSION, "created": format_time(utc_now()),
            "tool": f"{TOOL_NAME} {tool_version()}",
            "database": {"name": DATABASE, "size": snapshot.stat().st_size, "sha256": sha256_file(snapshot)},
            "counts": dbfile.record_counts(snapshot),
            "sources": {name: {key: value for key, value in state.to_json().items()
                               if key in ("updated", "data_as_of", "origin", "records", "changed")}
                        for name, state in states.items()},
            "imported": meta.get("imported"),
        }
        with zipfile.ZipFile(archive_name, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
            archive.write(snapshot, DATABASE)
        with open(archive_name, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(archive_name, target)
    finally:
        snapshot.unlink(missing_ok=True)
        Path(archive_name).unlink(missing_ok=True)
    return {**manifest, "file": str(target), "file_sha256": sha256_file(target)}


def _refuse(path: Path, why: str) -> BundleError:
    return BundleError(f"{path}: {why}; nothing imported")


def read_manifest(path: Path, archive: zipfile.ZipFile, max_database: int = MAX_DATABASE) -> dict[str, Any]:
    """The checked manifest of an open export zip."""
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if sorted(names) != sorted([MANIFEST, DATABASE]) or len(set(names)) != len(names):
        shown = ", ".join(repr(name) for name in names[:5]) + (" ..." if len(names) > 5 else "")
        raise _refuse(path, f"not a timesys-ci vulnerability-data export (it holds {shown or 'nothing'}; "
                            f"expected exactly {MANIFEST} and {DATABASE})")
    for info in infos:
        if info.flag_bits & 0x1:
            raise _refuse(path, f"{info.filename} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _refuse(path, f"{info.filename} uses an unsupported compression")
    manifest_info = archive.getinfo(MANIFEST)
    if manifest_info.file_size > MAX_MANIFEST:
        raise _refuse(path, f"{MANIFEST} is larger than {MAX_MANIFEST} bytes")
    try:
        manifest = json.loads(_read_bounded(archive, manifest_info, MAX_MANIFEST))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _refuse(path, f"{MANIFEST} is not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse(path, f"not a timesys-ci vulnerability-data export ({MANIFEST} has no format {FORMAT!r})")
    if manifest.get("version") != VERSION:
        raise _refuse(path, f"export format version {manifest.get('version')!r} is not {VERSION}; "
                            "use the timesys-ci version that made it, or a newer one")
    database = manifest.get("database")
    if not isinstance(database, dict) or not isinstance(database.get("size"), int) \
            or not isinstance(database.get("sha256"), str) or len(database["sha256"]) != 64:
        raise _refuse(path, f"{MANIFEST}: database size/sha256 missing")
    size = database["size"]
    if size > max_database or size < 0:
        raise _refuse(path, f"the database is {size} bytes, more than the {max_database} accepted")
    if archive.getinfo(DATABASE).file_size != size:
        raise _refuse(path, f"{DATABASE} is {archive.getinfo(DATABASE).file_size} bytes, the manifest says {size}")
    return manifest


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    with archive.open(info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{info.filename} inflates beyond {limit} bytes")
    return data


def import_bundle(data_dir: Path, path: Path, *, expected_sha256: Optional[str] = None,
                  max_database: int = MAX_DATABASE) -> dict[str, Any]:
    """Verify the export `path` and make its database the live one; returns the manifest."""
    data_dir, path = Path(data_dir), Path(path)
    if not path.is_file():
        raise BundleError(f"{path}: export file not found")
    if expected_sha256 is not None:
        actual = sha256_file(path)
        if actual.lower() != expected_sha256.strip().lower():
            raise _refuse(path, f"sha256 is {actual}, not the {expected_sha256.strip()} expected")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _refuse(path, f"not a timesys-ci vulnerability-data export (not a zip: {exc})") from None
    with archive:
        manifest = read_manifest(path, archive, max_database)
        size = manifest["database"]["size"]
        data_dir.mkdir(parents=True, exist_ok=True)
        if shutil.disk_usage(data_dir).free < size:
            raise _refuse(path, f"{data_dir} has less than the {size} bytes free the database needs")
        with dbfile.locked(data_dir):
            fd, name = tempfile.mkstemp(prefix=f".{DATABASE}.", suffix=".tmp", dir=data_dir)
            staged = Path(name)
            try:
                with os.fdopen(fd, "wb") as target:
                    digest = _extract(path, archive, target, size)
                if digest != manifest["database"]["sha256"].lower():
                    raise _refuse(path, f"{DATABASE} does not match the sha256 in its manifest (corrupt copy?)")
                problem = dbfile.schema_problem(staged)
                if problem:
                    raise _refuse(path, problem)
                counts = dbfile.record_counts(staged)
                if isinstance(manifest.get("counts"), dict) and counts != manifest["counts"]:
                    raise _refuse(path, f"the database holds {counts}, its manifest says {manifest['counts']}")
                _mark_imported(staged, path, manifest)
                dbfile.replace_with(data_dir, staged)
            finally:
                staged.unlink(missing_ok=True)
    return manifest


def _extract(path: Path, archive: zipfile.ZipFile, target: Any, size: int) -> str:
    """Inflate the database member into `target`, never past `size` bytes; its sha256."""
    digest = hashlib.sha256()
    written = 0
    try:
        with archive.open(DATABASE) as member:
            for chunk in iter(lambda: member.read(_CHUNK), b""):
                written += len(chunk)
                if written > size:
                    raise _refuse(path, f"{DATABASE} inflates beyond the {size} bytes its manifest declares")
                digest.update(chunk)
                target.write(chunk)
        target.flush()
        os.fsync(target.fileno())
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:  # a bad CRC is a BadZipFile
        raise _refuse(path, f"{DATABASE} cannot be read from the zip (corrupt copy? {exc})") from None
    if written != size:
        raise _refuse(path, f"{DATABASE} is {written} bytes, its manifest says {size}")
    return digest.hexdigest()


def _mark_imported(database: Path, path: Path, manifest: dict[str, Any]) -> None:
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        write_meta(connection, {"imported": {"file": path.name, "created": manifest.get("created"),
                                             "tool": manifest.get("tool"), "at": format_time(utc_now()),
                                             "sha256": manifest["database"]["sha256"]}})
        connection.execute("COMMIT")
    finally:
        connection.close()

"""`db export` / `db import`: the round trip, and every kind of bad file refused with the data intact."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from timesys_ci.vulndb import bundle, dbfile
from timesys_ci.vulndb.state import load_states

from .db_helpers import FakeClock, db_digest, run_update, states
from .support.feed_mirror import FeedMirror


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A data dir updated from the mirror (NVD, KEV, EPSS) and its export."""
    data = tmp_path_factory.mktemp("connected")
    with FeedMirror() as mirror:
        run_update(mirror, data, FakeClock(), sources=["nvd", "kev", "epss"])
    target = data.parent / "vulndb-export.zip"
    bundle.export_bundle(data, target)
    return data, target


@pytest.fixture
def lab(tmp_path: Path, exported: tuple[Path, Path]) -> Path:
    """A lab data dir that already holds an (older) import, to prove a refused file changes nothing."""
    bundle.import_bundle(tmp_path, exported[1])
    return tmp_path


def test_round_trip_keeps_data_counts_and_source_dates(tmp_path: Path, exported: tuple[Path, Path]) -> None:
    data, export = exported
    manifest = bundle.import_bundle(tmp_path / "lab", export)
    assert manifest["format"] == "timesys-ci/vulndb-export" and manifest["version"] == 1
    assert dbfile.record_counts(dbfile.vulndb_path(tmp_path / "lab")) == dbfile.record_counts(
        dbfile.vulndb_path(data)) == {"nvd": 30, "cve5": 0, "osv": 0, "kev": 1460, "epss": 150} == manifest["counts"]
    # The sources' own dates travel: the lab sees how old the data is, not when it was imported.
    assert {k: v.updated for k, v in states(tmp_path / "lab").items()} == {k: v.updated for k, v in
                                                                         states(data).items()}
    meta = load_states(dbfile.vulndb_path(tmp_path / "lab"))[1]
    assert meta["imported"]["file"] == "vulndb-export.zip" and meta["imported"]["sha256"] == \
        manifest["database"]["sha256"]
    with zipfile.ZipFile(export) as archive:
        assert sorted(archive.namelist()) == ["manifest.json", "vulndb.sqlite3"]


def test_export_without_a_database_is_refused(tmp_path: Path) -> None:
    with pytest.raises(bundle.BundleError, match="no vulnerability database"):
        bundle.export_bundle(tmp_path / "empty", tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


def _rewrite(source: Path, target: Path, *, manifest: dict | None = None, extra: dict[str, bytes] | None = None,
             database: bytes | None = None, names: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    if manifest is not None:
        members["manifest.json"] = json.dumps(manifest).encode()
    if database is not None:
        members["vulndb.sqlite3"] = database
    members.update(extra or {})
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr((names or {}).get(name, name), data)
    return target


def _manifest(export: Path) -> dict:
    with zipfile.ZipFile(export) as archive:
        return json.loads(archive.read("manifest.json"))


def _refused(lab: Path, file: Path, match: str, **kwargs: object) -> None:
    before = db_digest(lab)
    with pytest.raises(bundle.BundleError, match=match):
        bundle.import_bundle(lab, file, **kwargs)  # type: ignore[arg-type]
    assert db_digest(lab) == before
    assert not [p for p in lab.iterdir() if p.name.endswith(".tmp")]  # nothing staged is left behind


def test_corrupted_export_is_refused(lab: Path, exported: tuple[Path, Path], tmp_path: Path) -> None:
    data = bytearray(exported[1].read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(bytes(data))
    _refused(lab, corrupt, "corrupt copy|sha256|not a zip")
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(exported[1].read_bytes()[:-4000])
    _refused(lab, truncated, "not a zip")


def test_foreign_files_are_refused(lab: Path, exported: tuple[Path, Path], tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    _refused(lab, text, "not a timesys-ci vulnerability-data export \\(not a zip")
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("README.md", "something else")
    _refused(lab, other, "it holds 'README.md'")
    manifest = _manifest(exported[1])
    _refused(lab, _rewrite(exported[1], tmp_path / "f.zip", manifest={**manifest, "format": "grype-db"}),
             "has no format 'timesys-ci/vulndb-export'")
    _refused(lab, _rewrite(exported[1], tmp_path / "v.zip", manifest={**manifest, "version": 99}),
             "format version 99")
    # A well-formed export of an SQLite file that is not a vulnerability database.
    import sqlite3

    stranger = tmp_path / "stranger.sqlite3"
    connection = sqlite3.connect(stranger)
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    raw = stranger.read_bytes()
    import hashlib

    forged = {**manifest, "database": {"name": "vulndb.sqlite3", "size": len(raw),
                                       "sha256": hashlib.sha256(raw).hexdigest()}}
    _refused(lab, _rewrite(exported[1], tmp_path / "s.zip", manifest=forged, database=raw),
             "not a timesys-ci vulnerability database")
    missing = tmp_path / "missing.zip"
    _refused(lab, missing, "export file not found")


def test_hostile_archives_are_refused(lab: Path, exported: tuple[Path, Path], tmp_path: Path) -> None:
    # Extra members, path traversal: refused, and nothing is written outside the data dir.
    _refused(lab, _rewrite(exported[1], tmp_path / "t.zip", extra={"../../escape.txt": b"x"}), "expected exactly")
    assert not (tmp_path.parent / "escape.txt").exists()
    _refused(lab, _rewrite(exported[1], tmp_path / "n.zip", names={"vulndb.sqlite3": "../vulndb.sqlite3"}),
             "expected exactly")
    # Duplicate names (a later member would shadow the checked one).
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as archive, zipfile.ZipFile(exported[1]) as original:
        for name in original.namelist():
            archive.writestr(name, original.read(name))
        with pytest.warns(UserWarning):
            archive.writestr("vulndb.sqlite3", b"second")
    _refused(lab, tmp_path / "d.zip", "expected exactly")
    # A bomb: the manifest declares a small database, the member inflates to much more.
    manifest = _manifest(exported[1])
    small = {**manifest, "database": {**manifest["database"], "size": 1000}}
    _refused(lab, _rewrite(exported[1], tmp_path / "b.zip", manifest=small), "bytes, the manifest says 1000")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest).encode())
        archive.writestr("vulndb.sqlite3", bytes(manifest["database"]["size"]))  # right size, wrong bytes
    (tmp_path / "z.zip").write_bytes(bomb.getvalue())
    _refused(lab, tmp_path / "z.zip", "does not match the sha256")
    huge = {**manifest, "database": {**manifest["database"], "size": 10 ** 15}}
    _refused(lab, _rewrite(exported[1], tmp_path / "h.zip", manifest=huge), "more than the")
    big_manifest = {**manifest, "padding": "x" * (bundle.MAX_MANIFEST + 1)}
    _refused(lab, _rewrite(exported[1], tmp_path / "m.zip", manifest=big_manifest), "larger than")


def test_expected_sha256_guards_the_transfer(lab: Path, exported: tuple[Path, Path]) -> None:
    _refused(lab, exported[1], "sha256 is", expected_sha256="0" * 64)
    from timesys_ci.vulndb.feeds.http import sha256_file

    bundle.import_bundle(lab, exported[1], expected_sha256=sha256_file(exported[1]).upper())

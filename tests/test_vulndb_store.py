"""VulnStore: its own SQLite file, candidate lookups, program files, provenance, reopening a swapped file."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from timesys_ci.vulndb.errors import VulnDataError
from timesys_ci.vulndb.importer import import_paths
from timesys_ci.vulndb.sources.common import Withdrawn
from timesys_ci.vulndb.store import ORIGIN_SAMPLE, SCHEMA_VERSION, VulnStore, open_store
from .vulndb_helpers import FIXTURES, cve5_record, nvd_records


def _store(tmp_path: Path) -> VulnStore:
    store = open_store(tmp_path)
    store.put([*nvd_records(), cve5_record("CVE-2025-21631"), cve5_record("CVE-2025-21772"),
               cve5_record("CVE-2024-9143")])
    return store


def test_lookups_by_product_and_by_cve(tmp_path: Path) -> None:
    store = _store(tmp_path)
    assert {record.key for record in store.records_for(["openssl"])} >= {("cve5", "CVE-2024-9143"),
                                                                       ("nvd", "CVE-2022-0778")}
    about = store.records_about(["CVE-2024-9143", "CVE-2099-0001"])
    assert list(about) == ["CVE-2024-9143"] and [r.source for r in about["CVE-2024-9143"]] == ["cve5", "nvd"]
    assert store.record("nvd", "CVE-2024-36971").kev is True and store.record("nvd", "CVE-2099-1") is None
    assert store.counts() == {"nvd": 30, "cve5": 3, "osv": 0, "kev": 0, "epss": 0}
    store.close()


def test_program_files_for_kernel_cves(tmp_path: Path) -> None:
    store = _store(tmp_path)
    assert store.program_files(["CVE-2025-21631", "CVE-2025-21772", "CVE-2024-9143", "CVE-2099-1"]) == {
        "CVE-2025-21631": ["block/bfq-iosched.c"], "CVE-2025-21772": ["block/partitions/mac.c"]}
    store.close()


def test_replacing_and_withdrawing_records(tmp_path: Path) -> None:
    store = _store(tmp_path)
    assert store.put([Withdrawn("nvd", "CVE-2022-0778"), Withdrawn("nvd", "CVE-2099-0001")]) == (0, 1)
    assert [r.source for r in store.records_about(["CVE-2022-0778"]).get("CVE-2022-0778", [])] == []
    assert "CVE-2022-0778" not in {r.id for r in store.records_for(["openssl"])}
    store.put([cve5_record("CVE-2024-9143")])  # the same (source, id) again: replaced, not doubled
    assert store.counts()["cve5"] == 3
    store.close()


def test_data_summary_says_which_data_and_when(tmp_path: Path) -> None:
    store = VulnStore(tmp_path / "vulndb.sqlite3")
    import_paths(store, [FIXTURES / "nvd"], origin=ORIGIN_SAMPLE)
    summary = store.data_summary()
    assert summary["sample_only"] is True and summary["records"] == 30 and summary["updated"]
    assert set(summary["sources"]) == {"nvd"} and summary["sources"]["nvd"]["origin"] == ORIGIN_SAMPLE
    import_paths(store, [FIXTURES / "kev"])
    summary = store.data_summary()
    assert summary["sample_only"] is False and summary["sources"]["kev"]["origin"] == "import"
    store.close()


def test_a_replaced_file_is_reopened_before_the_next_query(tmp_path: Path) -> None:
    store = _store(tmp_path)
    other = VulnStore(tmp_path / "next" / "vulndb.sqlite3")
    other.put([cve5_record("CVE-2024-9143")])
    other.close()
    assert store.counts()["nvd"] == 30
    with store.reading():  # a scan in progress keeps its view
        os.replace(tmp_path / "next" / "vulndb.sqlite3", store.path)
        assert store.counts()["nvd"] == 30
    assert store.counts() == {"nvd": 0, "cve5": 1, "osv": 0, "kev": 0, "epss": 0}
    seen = []
    thread = threading.Thread(target=lambda: seen.append(store.counts()["cve5"]))
    thread.start()
    thread.join()
    assert seen == [1]
    store.close()


def test_a_foreign_or_newer_file_is_refused(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.sqlite3"
    connection = sqlite3.connect(foreign)
    connection.execute("CREATE TABLE t (x)")
    connection.close()
    with pytest.raises(VulnDataError, match="not a timesys-ci vulnerability database"):
        VulnStore(foreign)
    (tmp_path / "text.sqlite3").write_text("hello")
    with pytest.raises(VulnDataError, match="not a vulnerability database"):
        VulnStore(tmp_path / "text.sqlite3")
    newer = VulnStore(tmp_path / "newer.sqlite3")
    newer.close()
    connection = sqlite3.connect(tmp_path / "newer.sqlite3")
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    with pytest.raises(VulnDataError, match="is newer than this program's"):
        VulnStore(tmp_path / "newer.sqlite3")


def test_the_file_uses_a_rollback_journal_so_it_can_be_swapped(tmp_path: Path) -> None:
    store = _store(tmp_path)
    connection = sqlite3.connect(store.path)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    connection.close()
    copy = tmp_path / "copy.sqlite3"
    shutil.copyfile(store.path, copy)  # a plain copy is a complete database (no -wal file beside it)
    assert VulnStore(copy).counts()["nvd"] == 30
    store.close()


@pytest.mark.parametrize("version", [1, 2])
def test_legacy_data_dir_moves_its_vulnerability_rows(tmp_path: Path, version: int) -> None:
    """A schema-1 or -2 (sealed keys) accounts database with user-imported records: moved to vulndb.sqlite3,
    then dropped by migration 3."""
    from timesys_ci.service.storage import Storage
    from timesys_ci.service.storage.schema import MIGRATIONS

    accounts = tmp_path / "vigiles.sqlite3"
    connection = sqlite3.connect(accounts)
    connection.executescript(MIGRATIONS[0])
    record = nvd_records()[0].to_json()
    record.pop("source")
    imported = dict(record, id="CVE-2099-4242")
    for item in (record, imported):
        connection.execute("INSERT INTO vulns (cve_id, last_modified, record) VALUES (?, ?, ?)",
                           (item["id"], "", json.dumps(item)))
    connection.execute("INSERT INTO kev (cve_id, date_added) VALUES ('CVE-2099-4242', '2099-01-01')")
    connection.execute("INSERT INTO epss (cve_id, score, percentile) VALUES ('CVE-2099-4242', 0.5, 0.9)")
    if version == 2:
        MIGRATIONS[1](connection, tmp_path)  # main's schema 2: API keys sealed, vulnerability tables still there
    connection.execute(f"PRAGMA user_version = {version}")
    connection.commit()
    connection.close()
    storage = Storage(tmp_path)
    assert storage.db.schema_version == len(MIGRATIONS)
    tables = {row[0] for row in storage.db.connection().execute("SELECT name FROM sqlite_master")}
    assert not tables & {"vulns", "vuln_products", "kev", "epss"}
    assert storage.vulns.record("nvd", "CVE-2099-4242") is not None
    assert storage.vulns.kev(["CVE-2099-4242"]) == {"CVE-2099-4242"}
    assert storage.vulns.epss(["CVE-2099-4242"]) == {"CVE-2099-4242": 0.5}
    assert storage.vulns.data_summary()["sources"]["nvd"]["origin"] == "moved from vigiles.sqlite3"
    storage.close()


def test_legacy_data_dir_with_only_the_old_sample_gets_the_new_sample(tmp_path: Path) -> None:
    from timesys_ci.service.datadir import open_data_dir
    from timesys_ci.service.storage.schema import MIGRATIONS

    connection = sqlite3.connect(tmp_path / "vigiles.sqlite3")
    connection.executescript(MIGRATIONS[0])
    for record in nvd_records():
        connection.execute("INSERT INTO vulns (cve_id, last_modified, record) VALUES (?, ?, ?)",
                           (record.id, "", json.dumps(record.to_json())))
    connection.execute("PRAGMA user_version = 1")
    connection.commit()
    connection.close()
    storage = open_data_dir(tmp_path)
    summary = storage.vulns.data_summary()
    assert summary["sample_only"] is True and summary["sources"]["cve5"]["records"] > 200
    storage.close()

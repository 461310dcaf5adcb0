"""Data dirs written before vulnerability data had its own file: move it there, then let migration 2 drop it.

Schema 1 of ``vigiles.sqlite3`` held ``vulns`` (NVD records as JSON), ``kev`` and ``epss``.
Their rows are copied into ``vulndb.sqlite3`` before the accounts database is migrated,
so nothing a user imported is lost; a crash in between only repeats the copy. A data dir
that held nothing but the old bundled sample (its 30 NVD records, no KEV or EPSS) is not
copied: it gets the current sample instead (:func:`timesys_ci.service.datadir.open_data_dir`).
"""
from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

from timesys_ci.vulndb.record import VulnRecord
from timesys_ci.vulndb.store import open_store

logger = logging.getLogger(__name__)
ORIGIN = "moved from vigiles.sqlite3"
#: The ids of the NVD sample that schema-1 data dirs were seeded with.
OLD_SAMPLE_IDS = frozenset({
    "CVE-2018-1000500", "CVE-2018-14618", "CVE-2020-13790", "CVE-2021-36369", "CVE-2021-42386", "CVE-2022-0778",
    "CVE-2022-0934", "CVE-2022-1304", "CVE-2022-28391", "CVE-2022-30790", "CVE-2022-3715", "CVE-2022-37434",
    "CVE-2022-42012", "CVE-2022-48174", "CVE-2023-26604", "CVE-2023-28450", "CVE-2023-29491", "CVE-2023-42363",
    "CVE-2023-52160", "CVE-2024-1086", "CVE-2024-13176", "CVE-2024-25062", "CVE-2024-28085", "CVE-2024-2961",
    "CVE-2024-3094", "CVE-2024-36971", "CVE-2024-45490", "CVE-2024-7264", "CVE-2024-9143", "CVE-2025-0395",
})


def move_legacy_vulns(accounts_db: Path, data_dir: Path) -> int:
    """Copy schema-1 vulnerability rows into the data dir's vuln store; returns the records copied."""
    if not accounts_db.exists():
        return 0
    connection = sqlite3.connect(f"file:{accounts_db}?mode=ro", uri=True)
    try:
        # Schemas 1 and 2 (sealed keys) still hold the vulnerability tables; migration 3 drops them.
        if connection.execute("PRAGMA user_version").fetchone()[0] not in (1, 2):
            return 0
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "vulns" not in tables:
            return 0
        ids = {row[0] for row in connection.execute("SELECT cve_id FROM vulns")}
        kev = connection.execute("SELECT cve_id, date_added FROM kev").fetchall() if "kev" in tables else []
        epss = connection.execute("SELECT cve_id, score, percentile FROM epss").fetchall() if "epss" in tables else []
        if ids <= OLD_SAMPLE_IDS and not kev and not epss:
            return 0  # only the old sample: the data dir is seeded with the current one instead
        store = open_store(data_dir)
        try:
            with store.transaction():
                rows = connection.execute("SELECT record FROM vulns ORDER BY cve_id")
                while True:
                    batch = rows.fetchmany(500)
                    if not batch:
                        break
                    store.put(VulnRecord.from_json(json.loads(row[0])) for row in batch)
                store.put_kev((cve, date or "") for cve, date in kev)
                store.put_epss((cve, float(score), percentile) for cve, score, percentile in epss)
                for source, count in (("nvd", len(ids)), ("kev", len(kev)), ("epss", len(epss))):
                    if count:
                        store.note_source(source, origin=ORIGIN)
        finally:
            store.close()
    finally:
        connection.close()
    logger.info("%s: moved %d vulnerability records, %d KEV and %d EPSS entries to %s", accounts_db, len(ids),
                len(kev), len(epss), data_dir / "vulndb.sqlite3")
    return len(ids)

"""Shared loaders for the vulndb tests (not a test module)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import List

from timesys_ci.vulndb.index import RecordIndex
from timesys_ci.vulndb.record import VulnRecord
from timesys_ci.vulndb.sources.cve5 import parse_cve5
from timesys_ci.vulndb.sources.nvd import load_nvd_file
from timesys_ci.vulndb.sources.osv import parse_osv

ROOT = Path(__file__).parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "vulndb"


def nvd_records() -> List[VulnRecord]:
    return [record for path in sorted((FIXTURES / "nvd").glob("*.json")) for record in load_nvd_file(path)]


def cve5_record(cve_id: str) -> VulnRecord:
    """A CVE JSON 5 record of the fixtures (cvelistV5 first, then the OpenSSL CNA's)."""
    for folder in ("cvelistV5", "openssl-cna"):
        path = FIXTURES / "cve5" / folder / f"{cve_id}.json"
        if path.exists():
            record = parse_cve5(json.loads(path.read_text()), str(path))
            assert isinstance(record, VulnRecord)
            return record
    raise KeyError(cve_id)


def osv_record(relative: str) -> VulnRecord:
    path = FIXTURES / "osv" / relative
    record = parse_osv(json.loads(path.read_text()), str(path))
    assert isinstance(record, VulnRecord)
    return record


@lru_cache(maxsize=1)
def fixture_index() -> RecordIndex:
    """The NVD records of the fixtures only."""
    return RecordIndex(nvd_records())

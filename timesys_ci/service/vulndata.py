"""Vulnerability data in the service: importing NVD files, the bundled sample, KEV and EPSS."""
from __future__ import annotations

import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Union

from timesys_ci.gate.kev_epss import load_epss, load_kev
from timesys_ci.service.storage import Storage
from timesys_ci.vulndb.matcher import record_products
from timesys_ci.vulndb.nvd import load_nvd_bytes, load_nvd_file
from timesys_ci.vulndb.record import VulnRecord

SAMPLE_RESOURCE = "nvd-sample.json.gz"


def store_records(storage: Storage, records: Iterable[VulnRecord]) -> int:
    return storage.put_vulns((record.id, record.last_modified or "", json.dumps(record.to_json()),
                              record_products(record)) for record in records)


def import_nvd_files(storage: Storage, paths: Iterable[Union[str, Path]]) -> int:
    """Import NVD CVE API 2.0 JSON files (records, API pages or feeds; plain or gzip). Returns the count."""
    return sum(store_records(storage, load_nvd_file(path)) for path in paths)


def load_bundled_sample(storage: Storage) -> int:
    """The public-domain NVD sample shipped with the package (loaded into every new data dir)."""
    data = resources.files("timesys_ci").joinpath("data", SAMPLE_RESOURCE).read_bytes()
    return store_records(storage, load_nvd_bytes(data, source=SAMPLE_RESOURCE))


def import_kev(storage: Storage, path: Union[str, Path]) -> int:
    ids = load_kev(path)
    storage.put_kev((cve_id, "") for cve_id in sorted(ids))
    return len(ids)


def import_epss(storage: Storage, path: Union[str, Path]) -> int:
    scores = load_epss(path)
    storage.put_epss((cve_id, score, None) for cve_id, score in scores.items())
    return len(scores)

#!/usr/bin/env python3
"""Time :func:`timesys_ci.vulndb.scan.scan` on a large manifest and a large record set.

Run from the repository root:

    python3 benchmarks/bench_scan.py [--packages 3000] [--records 30000]

The manifest is built from every Vigiles manifest under ``examples/`` and
``tests/fixtures/vulndb/manifests/`` (the largest real-data set the fixtures
give), repeated with renamed products until it has ``--packages`` packages.
The records are the fixtures' NVD and CVE JSON 5 records (the bundled
sample's), cloned with their products renamed the same way, so every package
has real criteria to check. Matching uses the in-memory product index (the
service uses the SQLite store behind the same two lookups).
"""
from __future__ import annotations

import argparse
import copy
import json
from dataclasses import replace
import sys
import time
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timesys_ci.sbom import load_sbom  # noqa: E402
from timesys_ci.sbom.model import Package, Sbom  # noqa: E402
from timesys_ci.vulndb.cpe import parse_cpe  # noqa: E402
from timesys_ci.vulndb.index import RecordIndex  # noqa: E402
from timesys_ci.vulndb.record import VulnRecord  # noqa: E402
from timesys_ci.vulndb.sources.cve5 import parse_cve5  # noqa: E402
from timesys_ci.vulndb.sources.nvd import load_nvd_file  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "vulndb"
from timesys_ci.vulndb.scan import scan  # noqa: E402


def _base_packages() -> List[Package]:
    paths = sorted((ROOT / "examples").glob("*.vigiles.json")) + sorted(
        (ROOT / "tests" / "fixtures" / "vulndb" / "manifests").glob("*.vigiles.json"))
    return [package for path in paths for package in load_sbom(path.read_text(), str(path)).packages]


def _renamed_package(package: Package, copy_number: int) -> Package:
    clone = copy.deepcopy(package)
    suffix = f"_{copy_number}"
    clone.name += suffix
    clone.cve_product = [token + suffix for token in package.cve_product]
    clone.cpe_ids = [replace(parse_cpe(cpe), product=parse_cpe(cpe).product + suffix).to_fs()
                     for cpe in package.cpe_ids]
    return clone


def _renamed_record(record: VulnRecord, copy_number: int) -> VulnRecord:
    clone = VulnRecord.from_json(record.to_json())
    clone.id = f"{record.id}-{copy_number}"
    for config in clone.configurations:
        for node in config.nodes:
            for match in node.matches:
                parts = match.criteria.split(":")
                parts[4] = f"{parts[4]}_{copy_number}"
                match.criteria = ":".join(parts)
    for entry in clone.affected:
        entry.product = f"{entry.product}_{copy_number}" if entry.product else None
        entry.package_name = f"{entry.package_name}_{copy_number}" if entry.package_name else None
    return clone


def _base_records() -> List[VulnRecord]:
    records = [record for path in sorted((FIXTURES / "nvd").glob("*.json")) for record in load_nvd_file(path)]
    for path in sorted((FIXTURES / "cve5").glob("*/CVE-*.json")):
        record = parse_cve5(json.loads(path.read_text()), str(path))
        if isinstance(record, VulnRecord):
            records.append(record)
    return records


def main() -> int:
    parser = argparse.ArgumentParser(description="time scan() on a large manifest")
    parser.add_argument("--packages", type=int, default=3000)
    parser.add_argument("--records", type=int, default=30000)
    args = parser.parse_args()

    base_packages = _base_packages()
    packages = [_renamed_package(base_packages[i % len(base_packages)], i // len(base_packages))
                for i in range(args.packages)]
    base_records = _base_records()
    copies = max(1, args.records // len(base_records))
    started = time.perf_counter()
    records = [_renamed_record(record, number) for number in range(copies) for record in base_records]
    index = RecordIndex(records)
    indexed = time.perf_counter() - started

    sbom = Sbom(format="vigiles", manifest_name="bench", packages=packages)
    started = time.perf_counter()
    report = scan(sbom, index.records_for, records_about=index.records_about)
    scanned = time.perf_counter() - started
    entries = sum(len(entries) for entries in report["cves"].values())
    print(f"{len(packages)} packages x {len(index)} records: index {indexed:.2f}s, scan {scanned:.2f}s, "
          f"{entries} entries, counts " + " ".join(f"{key}={report['counts'][key]}" for key in
                                                 ("unfixed", "unapplied", "upgradable", "fixed")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The store's fast matcher against the straightforward reference matcher, on generated data.

Records and manifests come from the full-size benchmark's generator (``benchmarks/bench_vulndb_scale.py``) at a
small scale: a few thousand NVD, CVE JSON 5 and OSV records in the real feed shapes (kernel CNA entries, OSV
ecosystems, NVD backlog, rejected records). Each manifest is scanned twice over the same store — once with
:class:`~timesys_ci.vulndb.fastmatch.StoreMatcher` (prepared spans and plans), once with the reference
:class:`~timesys_ci.vulndb.scan.Matcher` over whole records — and the reports must be the same, entry for entry.
"""
from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, List

import pytest

from timesys_ci.sbom import load_sbom
from timesys_ci.vulndb.fastmatch import StoreMatcher
from timesys_ci.vulndb.record import VulnRecord
from timesys_ci.vulndb.scan import Matcher, scan
from timesys_ci.vulndb.sources.cve5 import parse_cve5
from timesys_ci.vulndb.sources.nvd import parse_cve
from timesys_ci.vulndb.sources.osv import parse_osv
from timesys_ci.vulndb.store import VulnStore

BENCHMARK = Path(__file__).parents[1] / "benchmarks" / "bench_vulndb_scale.py"
SCALE = 0.005  # ~1,300 CVEs: ~3,300 records over ~230 products, ~80 of them linux_kernel


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_vulndb_scale", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Any]:
    bench = _generator()
    catalog = bench.build_catalog(10, SCALE)
    records: List[VulnRecord] = []
    counts = {"nvd": 0, "cve5": 0, "osv": 0}
    for cve in catalog.cves:
        parsed = [("nvd", parse_cve(bench.nvd_record(cve, catalog))), ("cve5", parse_cve5(bench.cve5_record(cve, catalog)))]
        parsed += [("osv", parse_osv(document)) for _, document in bench.osv_records(cve, catalog)]
        for source, item in parsed:
            if isinstance(item, VulnRecord):
                records.append(item)
                counts[source] += 1
    unique = {record.key: record for record in records}  # OSS-Fuzz ids are drawn at random: keep one
    folder = tmp_path_factory.mktemp("crosscheck")
    store = VulnStore(folder / "vulndb.sqlite3")
    store.put(unique.values())
    kev = sorted(cve.id for cve in catalog.cves if cve.kev)
    store.put_kev((cve_id, "2026-01-01") for cve_id in kev)
    store.put_epss((cve.id, (cve.seed % 1000) / 1000, None) for cve in catalog.cves if cve.status != "Rejected")
    manifests = folder / "manifests"
    bench.write_manifests(catalog, manifests, 10, (300,))
    kernel = json.loads((manifests / "kernel.vigiles.json").read_text())
    for package in kernel["packages"].values():
        package.pop("patched_cves", None)  # at this scale the 300 patches cover every kernel CVE
    (manifests / "kernel-unpatched.vigiles.json").write_text(json.dumps(kernel))
    with sqlite3.connect(store.path) as connection:  # the fast path really has prepared rows to work from
        spans, fallback = (connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                           for table in ("spans", "fallback"))
    assert spans > 3000 and fallback < spans / 10, (spans, fallback)
    return {"store": store, "counts": counts, "cve_ids": [cve.id for cve in catalog.cves], "manifests": manifests}


def _reports(generated: Dict[str, Any], manifest: Path, **options: Any) -> Any:
    store: VulnStore = generated["store"]
    sbom = load_sbom(manifest.read_text(), str(manifest))
    with store.reading():
        fast = scan(sbom, matcher=StoreMatcher(store), **options)
        reference = scan(sbom, matcher=Matcher(store.records_for, store.records_about,
                                               kev=store.kev(generated["cve_ids"]),
                                               epss=store.epss(generated["cve_ids"])), **options)
    return fast, reference


def _summary(report: Dict[str, Any]) -> Dict[str, Any]:
    categories: Dict[str, int] = {}
    for entries in report["cves"].values():
        for entry in entries:
            categories[entry["category"]] = categories.get(entry["category"], 0) + 1
    return categories


@pytest.mark.parametrize("manifest", ["kernel.vigiles.json", "kernel-unpatched.vigiles.json",
                                      "packages-300.vigiles.json"])
@pytest.mark.parametrize("strict", [False, True])
def test_fast_matcher_reports_what_the_reference_matcher_reports(generated: Dict[str, Any], manifest: str,
                                                                 strict: bool) -> None:
    assert min(generated["counts"].values()) > 300, generated["counts"]  # the data set is really there
    fast, reference = _reports(generated, generated["manifests"] / manifest, strict=strict)
    # Something to compare: the generated kernel and image really match CVEs, in several categories.
    entries = sum(len(items) for items in reference["cves"].values())
    assert entries > 30, _summary(reference)
    if manifest.startswith("packages"):
        assert len(_summary(reference)) >= 3, _summary(reference)
    assert fast["counts"] == reference["counts"]
    assert sorted(fast["cves"]) == sorted(reference["cves"])
    for package, items in reference["cves"].items():
        assert fast["cves"][package] == items, package
    assert json.dumps(fast, sort_keys=True) == json.dumps(reference, sort_keys=True)

"""The local service's OpenSSL findings against the OpenSSL CNA's own ranges, over real HTTP.

For each release an SBOM with only OpenSSL is uploaded to the running local service
(bundled sample: NVD records, every OpenSSL CNA record, KEV); the CVEs it reports must
match an independent reading of the CNA records (tests/openssl_cna_reading.py) with
precision and recall of at least 0.98, per release and over all of them.
"""
from __future__ import annotations

import json
from typing import Dict, Set, Tuple

from timesys.core.llapi import LLAPI
from timesys.vigiles import manifests

from .openssl_cna_reading import fixes_for

RELEASES = ("1.0.2k", "1.1.1i", "1.1.1w", "3.0.2", "3.2.3", "3.4.2")


def _manifest(version: str) -> str:
    return json.dumps({"manifest_name": f"openssl-{version}", "manifest_version": "1.20", "packages": {
        "openssl": {"name": "openssl", "version": version, "cve_product": "openssl:openssl", "cve_version": version,
                    "cpe_id": f"cpe:2.3:a:openssl:openssl:{version}:*:*:*:*:*:*:*", "patched_cves": {},
                    "layer": "meta", "license": "Apache-2.0"}}})


def _scores(reported: Set[str], expected: Set[str]) -> Tuple[float, float]:
    hits = len(reported & expected)
    return (hits / len(reported) if reported else 1.0), (hits / len(expected) if expected else 1.0)


def test_reported_openssl_cves_match_the_cna_ranges(configured: LLAPI) -> None:
    totals = {"reported": 0, "expected": 0, "hits": 0}
    figures: Dict[str, Tuple[float, float, int]] = {}
    for version in RELEASES:
        report = manifests.upload_manifest(_manifest(version))
        entries = report["cves"].get("openssl", [])
        reported = {entry["cve_id"] for entry in entries if entry["category"] in ("unfixed", "unapplied", "upgradable")}
        fixes = fixes_for(version)
        expected = set(fixes)
        precision, recall = _scores(reported, expected)
        figures[version] = (precision, recall, len(expected))
        totals["reported"] += len(reported)
        totals["expected"] += len(expected)
        totals["hits"] += len(reported & expected)
        assert expected, f"{version}: the CNA records name no CVE (the fixture is wrong)"
        assert precision >= 0.98 and recall >= 0.98, (version, sorted(reported - expected), sorted(expected - reported))
        # A CVE the CNA names a fix for is upgradable to exactly that release; one without a fix is not.
        for entry in entries:
            if entry["cve_id"] not in fixes:
                continue
            assert "cve5:openssl" in entry["sources"], entry
            fixed = fixes[entry["cve_id"]]
            assert entry["fixed_version"] == fixed, entry
            assert entry["category"] == ("upgradable" if fixed else "unapplied"), entry
    precision = totals["hits"] / totals["reported"]
    recall = totals["hits"] / totals["expected"]
    print(f"OpenSSL CNA agreement: precision {precision:.3f}, recall {recall:.3f} over "
          f"{totals['expected']} (release, CVE) pairs; per release {figures}")
    assert precision >= 0.98 and recall >= 0.98

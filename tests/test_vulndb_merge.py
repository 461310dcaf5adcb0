"""One finding per (package, CVE) from NVD, CVE JSON 5 and OSV records, by the documented precedence."""
from __future__ import annotations

import dataclasses
import json
from functools import lru_cache
from typing import Any, Dict

from timesys_ci.sbom.model import Package, Sbom
from timesys_ci.vulndb.index import RecordIndex
from timesys_ci.vulndb.record import VulnRecord
from timesys_ci.vulndb.scan import package_findings, scan
from timesys_ci.vulndb.sources.cve5 import parse_cve5
from timesys_ci.vulndb.sources.osv import parse_osv
from .vulndb_helpers import FIXTURES, cve5_record, nvd_records


@lru_cache(maxsize=1)
def everything() -> RecordIndex:
    """Every NVD, CVE JSON 5 and OSV record of the fixtures."""
    records = nvd_records()
    for path in sorted((FIXTURES / "cve5").glob("*/CVE-*.json")):
        records.append(parse_cve5(json.loads(path.read_text()), str(path)))  # type: ignore[arg-type]
    for path in sorted((FIXTURES / "osv").glob("**/*.json")):
        parsed = parse_osv(json.loads(path.read_text()), str(path))
        if isinstance(parsed, VulnRecord):
            records.append(parsed)
    return RecordIndex(records)


def _entries(*packages: Package, index: RecordIndex = None) -> Dict[str, Dict[str, Any]]:  # type: ignore[assignment]
    index = index or everything()
    report = scan(Sbom(format="vigiles", packages=list(packages)), index.records_for, records_about=index.records_about)
    return {f"{name}/{entry['cve_id']}": entry for name, entries in report["cves"].items() for entry in entries}


def test_nvd_only_cna_only_and_osv_only_cves_are_each_found() -> None:
    found = _entries(Package("busybox", "1.36.1"), Package("openssl", "3.2.3", cve_product=["openssl:openssl"]),
                     Package("curl", "7.19.0"), Package("dnsmasq", "2.86"))
    nvd_only = found["busybox/CVE-2022-48174"]  # NVD: <= 1.36.1; no CNA or OSV record
    assert nvd_only["sources"] == ["nvd"] and nvd_only["category"] == "unfixed"
    cna_only = found["openssl/CVE-2024-9143"]  # NVD has not analysed it: no configurations
    assert cna_only["sources"] == ["cve5:openssl"] and cna_only["fixed_version"] == "3.2.4"
    assert cna_only["category"] == "upgradable" and cna_only["severity"] == "low"  # the CNA's own rating
    osv_only = found["curl/CVE-2009-0037"]  # curl's own OSV record, no ecosystem, SEMVER range
    assert osv_only["sources"] == ["osv"] and osv_only["fixed_version"] == "7.19.4"
    fuzz = found["dnsmasq/OSV-2021-1807"]  # an OSS-Fuzz advisory without a CVE id, matched by its git tags
    assert fuzz["sources"] == ["osv:OSS-Fuzz"] and fuzz["category"] == "unapplied" and fuzz["fix_commits"]


def test_one_finding_with_both_sources() -> None:
    found = _entries(Package("libopenssl", "1.1.1i", cve_product=["openssl"]))
    entry = found["libopenssl/CVE-2022-0778"]
    assert entry["sources"] == ["nvd", "cve5:openssl"] and entry["fixed_versions"] == ["1.1.1n"]
    assert list(found).count("libopenssl/CVE-2022-0778") == 1
    assert entry["cvss"] == 7.5  # shown from NVD, the first source for text and scores


def test_scores_of_a_cna_found_cve_come_from_the_nvd_record_when_it_has_them() -> None:
    entry = _entries(Package("openssl", "3.2.3", cve_product=["openssl:openssl"]))["openssl/CVE-2024-13176"]
    assert entry["sources"] == ["cve5:openssl"]  # NVD's record has no configurations
    assert entry["cvss"] == 4.1 and entry["vector"].startswith("CVSS:3.1/")


def test_nvd_analysis_decides_unless_the_cna_record_is_newer() -> None:
    # CVE-2018-14618: NVD says curl < 7.61.1; Red Hat's CNA record (older) says "7.61.1 affected".
    curl = Package("curl", "7.61.1", cve_product=["libcurl"])  # NVD names libcurl
    assert "curl/CVE-2018-14618" not in _entries(curl)
    cna = cve5_record("CVE-2018-14618")
    newer = dataclasses.replace(cna, last_modified="2099-01-01T00:00:00.000Z")
    index = RecordIndex([*nvd_records(), newer])
    assert _entries(curl, index=index)["curl/CVE-2018-14618"]["sources"] == ["cve5:redhat"]


def test_a_distributions_own_advisory_decides_for_its_packages_backports_included() -> None:
    purl = "pkg:rpm/almalinux/openssl@1.1.1k-6.el8_5?arch=x86_64&epoch=1&distro=almalinux-8"
    patched = Package("openssl", "1.1.1k-6.el8_5", purl=purl)
    # NVD's upstream range (1.1.0 <= v < 1.1.1n) contains "1.1.1k", but AlmaLinux fixed it in 1:1.1.1k-6.el8_5.
    assert package_findings(patched, everything().records_for).get("CVE-2022-0778") is None
    older = Package("openssl", "1.1.1k-5.el8_5", purl=purl.replace("k-6", "k-5"))
    finding = package_findings(older, everything().records_for)["CVE-2022-0778"]
    assert finding.sources == ("osv:AlmaLinux:8",) and finding.fixed_versions == ("1:1.1.1k-6.el8_5",)


def test_a_patched_cve_needs_no_range_and_reports_no_fix() -> None:
    found = _entries(Package("busybox", "1.36.1", patched_cves={"CVE-2023-42363": ["fix.patch"]}))
    entry = found["busybox/CVE-2023-42363"]  # NVD: Received, no configurations
    assert entry["category"] == "fixed" and entry["fixedby"] == ["fix.patch"] and entry["sources"] == []

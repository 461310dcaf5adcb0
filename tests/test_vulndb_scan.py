from __future__ import annotations

import json
from typing import Any, Dict, List, Tuple

import pytest

from timesys_ci.sbom import load_sbom
from timesys_ci.sbom.model import Package, Sbom, VulnerabilityStatement
from timesys_ci.vulndb.scan import EXTRA_FIELDS, scan
from .vulndb_helpers import FIXTURES, ROOT, fixture_index

EXAMPLE = ROOT / "examples" / "core-image-minimal.vigiles.json"

ENTRY_KEYS = {"cve_id", "version", "cvss", "vector", "cvss_version", "cvss_v4", "vector_v4", "severity", "status",
              "category", "vuln_status", "justification", "fixedby", "fixed_version", "fixed_versions", "fix_commits",
              "sources", "kev", "epss", "custom_score", "scope"}


def _scan(sbom: Sbom, **options: Any) -> Dict[str, Any]:
    index = fixture_index()  # the NVD fixtures only
    return scan(sbom, index.records_for, records_about=index.records_about, **options)


def _flat(report: Dict[str, Any]) -> List[Tuple[str, str, str]]:
    return [(name, entry["cve_id"], entry["category"]) for name, entries in report["cves"].items() for entry in entries]


def test_example_manifest_gives_exactly_the_expected_set() -> None:
    report = _scan(load_sbom(EXAMPLE.read_text(), str(EXAMPLE)))
    assert _flat(report) == [
        ("busybox", "CVE-2022-28391", "fixed"),
        ("busybox", "CVE-2022-48174", "unfixed"),  # NVD: <= 1.36.1, no fixed version, no fix commit
        ("busybox", "CVE-2023-42363", "fixed"),
        ("glibc", "CVE-2024-2961", "fixed"),
        ("linux-yocto", "CVE-2024-1086", "fixed"),
        ("linux-yocto", "CVE-2024-36971", "upgradable"),  # NVD: 6.2 <= v < 6.6.34, so fixed in 6.6.34
        ("ncurses", "CVE-2023-29491", "fixed"),
        ("util-linux", "CVE-2024-28085", "fixed"),
    ]
    kernel = report["cves"]["linux-yocto"][1]
    assert set(kernel) == ENTRY_KEYS
    assert kernel == {
        "cve_id": "CVE-2024-36971", "version": "6.6.21+git", "cvss": 7.8,
        "vector": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "cvss_version": "3.1",
        "cvss_v4": None, "vector_v4": None, "severity": "high", "status": "Unfixed, Upgrade Available",
        "category": "upgradable", "vuln_status": None, "justification": None, "fixedby": [], "fixed_version": "6.6.34",
        "fixed_versions": ["6.6.34"], "sources": ["nvd"], "fix_commits": kernel["fix_commits"],
        "kev": True, "epss": None, "custom_score": None, "scope": "kernel",
    }
    assert len(kernel["fix_commits"]) == 8 and all("git.kernel.org/stable/c/" in url for url in kernel["fix_commits"])
    assert report["counts"] == {
        "unfixed": 1, "unapplied": 0, "upgradable": 1, "fixed": 6, "whitelisted": 0,
        "kernel": {"unfixed": 0, "unapplied": 0, "upgradable": 1, "fixed": 1},
        "toolchain": {"unfixed": 0, "unapplied": 0, "upgradable": 0, "fixed": 1},
        "cvss_counts": {"high": {"unfixed": 1, "fixed": 3}, "critical": {"unfixed": 1, "fixed": 0},
                        "kernel": {"high": {"unfixed": 1}, "critical": {"unfixed": 0}}},
    }


def test_patched_cve_needs_records_about_when_nvd_does_not_tie_it() -> None:
    index = fixture_index()
    report = scan(load_sbom(EXAMPLE.read_text()), index.records_for)
    assert ("glibc", "CVE-2024-2961", "fixed") not in _flat(report)
    assert ("busybox", "CVE-2022-28391", "fixed") not in _flat(report)  # 1.36.1 is outside "<= 1.35.0"


def test_buildroot_manifest_patched_whitelist_and_ignore() -> None:
    report = _scan(load_sbom((FIXTURES / "manifests" / "buildroot-som60.vigiles.json").read_text()))
    flat = _flat(report)
    assert ("busybox", "CVE-2018-1000500", "fixed") in flat
    assert ("expat", "CVE-2024-45490", "whitelisted") in flat  # manifest whitelist
    assert ("systemd", "CVE-2023-26604", "whitelisted") in flat  # package ignore_cves
    assert ("libopenssl", "CVE-2022-0778", "upgradable") in flat  # NVD: 1.1.0 <= v < 1.1.1n
    assert not [row for row in flat if row[0] in ("linux", "uboot")]  # "custom" versions
    fixed = report["cves"]["busybox"][0]
    assert fixed["status"] == "Fixed" and fixed["fixedby"] == ["0001-wget-CVE-2018-1000500.patch"]
    assert report["cves"]["expat"][0]["status"] == "Whitelisted"


def _busybox_sbom(**extra: Any) -> Sbom:
    return Sbom(format="vigiles", packages=[Package("busybox", "1.33.2", cve_product=["busybox"])], **extra)


def test_vulnerability_statements_from_manifest() -> None:
    statements = [
        VulnerabilityStatement("CVE-2022-28391", "resolved_with_pedigree", "busybox", None, ("fix.patch",)),
        VulnerabilityStatement("CVE-2022-48174", "not_affected", None, "code_not_present"),
        VulnerabilityStatement("CVE-2021-42386", "resolved", "openssl"),  # other package: ignored
    ]
    report = _scan(_busybox_sbom(vulnerabilities=statements))
    by_id = {entry["cve_id"]: entry for entry in report["cves"]["busybox"]}
    assert by_id["CVE-2022-28391"]["category"] == "fixed" and by_id["CVE-2022-28391"]["fixedby"] == ["fix.patch"]
    assert by_id["CVE-2022-48174"]["status"] == "Not Affected"
    assert by_id["CVE-2022-48174"]["justification"] == "code_not_present"
    assert by_id["CVE-2022-48174"]["category"] == "whitelisted"
    assert report["counts"]["whitelisted"] == 1 and report["counts"]["fixed"] == 1


@pytest.mark.parametrize(
    "status, category, text",
    [("resolved", "fixed", "Fixed"), ("resolved_with_pedigree", "fixed", "Fixed"),
     ("not_affected", "whitelisted", "Not Affected"), ("false_positive", "whitelisted", "Not Affected"),
     # Still affected: the category says what fix is known (NVD names patch files for this one).
     ("exploitable", "unapplied", "Unfixed, Patch Available"), ("in_triage", "unapplied", "Unfixed, Patch Available")],
)
def test_triage_statuses_override_the_manifest(status: str, category: str, text: str) -> None:
    sbom = _busybox_sbom(whitelist={"CVE-2022-28391"})
    statuses = {("CVE-2022-28391", "busybox"): {"status": status, "justification": "because"}}
    entry = next(e for e in _scan(sbom, statuses=statuses)["cves"]["busybox"] if e["cve_id"] == "CVE-2022-28391")
    assert (entry["category"], entry["status"], entry["vuln_status"], entry["justification"]) == (
        category, text, status, "because")


def test_kev_epss_custom_scores_and_extra_fields() -> None:
    report = _scan(
        _busybox_sbom(), kev={"CVE-2022-28391"}, epss={"CVE-2022-28391": 0.25},
        custom_scores={"CVE-2022-48174": 3.0, ("CVE-2022-28391", "busybox"): 8.0}, extra_fields=EXTRA_FIELDS,
    )
    by_id = {entry["cve_id"]: entry for entry in report["cves"]["busybox"]}
    first = by_id["CVE-2022-28391"]
    assert (first["kev"], first["epss"], first["custom_score"]) == (True, 0.25, 8.0)
    assert by_id["CVE-2022-48174"]["custom_score"] == 3.0 and by_id["CVE-2022-48174"]["kev"] is False
    assert first["published"] == "2022-04-03T21:15:08.207"
    assert first["problem_types"] and first["references"][0]["url"].startswith("http")
    assert first["impact"]["cvss_v3"]["score"] == first["cvss"]
    assert isinstance(first["assigner"], str) and first["description"] and first["modified"]
    json.dumps(report)  # JSON-serialisable


def test_unknown_extra_field_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown extra field 'exploit'"):
        _scan(_busybox_sbom(), extra_fields=["exploit"])


def test_ordering_is_deterministic() -> None:
    packages = [Package("zlib", "1.2.11"), Package("busybox", "1.29.3"), Package("dnsmasq", "2.85")]
    first = _scan(Sbom(format="vigiles", packages=packages))
    second = _scan(Sbom(format="vigiles", packages=list(reversed(packages))))
    assert json.dumps(first) == json.dumps(second)
    assert list(first["cves"]) == ["busybox", "dnsmasq", "zlib"]
    ids = [entry["cve_id"] for entry in first["cves"]["busybox"]]
    assert ids == sorted(ids)

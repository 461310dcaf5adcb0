from __future__ import annotations

from pathlib import Path

import pytest

from .gate_helpers import FIXTURES
from timesys_ci.report import (
    ReportError,
    category_from_status,
    load_report,
    parse_report,
    resolve_report_url,
    severity_from_score,
)


def test_contract_report_is_read_whole() -> None:
    report = load_report(FIXTURES / "report-contract.json", base_url="https://vigiles.example.test")
    summary = report.summary
    assert summary.manifest_token == "MNF-core-image-minimal-0001"
    assert summary.manifest_name == "core-image-minimal"
    assert summary.report_token == "RPT-2026-11-27-0002"
    assert summary.report_url == "https://vigiles.example.test/cves/reports/RPT-2026-11-27-0002"
    assert summary.date == "2026-11-27T16:40:00Z"
    assert summary.counts["unfixed"] == 6
    assert len(report.findings) == 10
    kernel = next(f for f in report.findings if f.cve_id == "CVE-2024-1086")
    assert (kernel.package, kernel.version, kernel.scope, kernel.kev, kernel.epss) == (
        "linux-yocto", "6.6.21", "kernel", True, 0.8512)
    assert kernel.fixed_version == "6.6.15" and kernel.severity == "high"
    glibc = next(f for f in report.findings if f.package == "glibc")
    assert glibc.cvss is None and glibc.cvss_v4 == 8.6 and glibc.vector_v4.startswith("CVSS:4.0/")
    patched = next(f for f in report.findings if f.cve_id == "CVE-2023-42363")
    assert patched.category == "fixed" and patched.fixedby == ("CVE-2023-42363.patch",)


def test_thin_real_service_report_derives_the_extras() -> None:
    report = load_report(FIXTURES / "report-thin.json")
    by_id = {f.cve_id: f for f in report.findings}
    assert report.summary.report_token == "RPT-thin-0042"  # last segment of report_path
    assert report.summary.report_url == "/cves/reports/RPT-thin-0042"  # no base URL given
    assert report.summary.manifest_name is None
    assert by_id["CVE-2024-1086"].scope == "kernel"
    assert by_id["CVE-2024-1086"].category == "unfixed"
    assert by_id["CVE-2024-1086"].severity == "high"
    assert by_id["CVE-2024-13176"].category == "unapplied"
    assert by_id["CVE-2024-13176"].cvss == 4.1  # numeric string accepted
    assert by_id["CVE-2024-9143"].category == "fixed"  # id upper-cased
    assert by_id["CVE-2021-36369"].category == "whitelisted"
    bash = by_id["CVE-2014-6271"]
    assert bash.cvss_version == "2.0" and bash.severity == "high"  # v2 has no critical band
    assert bash.cvss_v3 is None


@pytest.mark.parametrize(
    "score, band",
    [(None, "unknown"), (0.0, "none"), (0.1, "low"), (3.9, "low"), (4.0, "medium"), (6.9, "medium"),
     (7.0, "high"), (8.9, "high"), (9.0, "critical"), (10.0, "critical")],
)
def test_severity_bands(score, band) -> None:
    assert severity_from_score(score) == band


@pytest.mark.parametrize(
    "status, vuln_status, category",
    [("Unfixed", None, "unfixed"), ("Unfixed, Patch Available", None, "unapplied"), ("Fixed", None, "fixed"),
     ("Whitelisted", None, "whitelisted"), ("Not Affected", None, "whitelisted"), ("", "resolved", "fixed"),
     ("", "false_positive", "whitelisted"), ("", None, "unfixed"), ("Something new", None, "unfixed")],
)
def test_category_from_status(status, vuln_status, category) -> None:
    assert category_from_status(status, vuln_status) == category


@pytest.mark.parametrize(
    "path, base, url",
    [("/cves/reports/RPT1", "https://h.test", "https://h.test/cves/reports/RPT1"),
     ("/cves/reports/RPT1", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/cves/reports/RPT1"),
     ("https://other.test/cves/reports/RPT1", "https://h.test", "https://other.test/cves/reports/RPT1"),
     (None, "https://h.test", None)],
)
def test_report_url(path, base, url) -> None:
    assert resolve_report_url(path, base) == url


def test_full_url_report_path_gives_token() -> None:
    report = parse_report({"report_path": "https://h.test/cves/reports/RPT9/", "cves": {}})
    assert report.summary.report_token == "RPT9" and report.findings == ()


@pytest.mark.parametrize(
    "data, message",
    [([1, 2], "r.json: a report must be a JSON object, got array"),
     ({"counts": {}}, "r.json: cves: missing"),
     ({"cves": []}, "r.json: cves: must be an object"),
     ({"cves": {"zlib": {}}}, "r.json: cves.zlib: must be a list"),
     ({"cves": {"zlib": [{"version": "1"}]}}, "r.json: cves.zlib[0].cve_id: missing"),
     ({"cves": {"zlib": [{"cve_id": "CVE-1", "cvss": "high"}]}}, "r.json: cves.zlib[0].cvss: must be a number"),
     ({"cves": {"zlib": [{"cve_id": "CVE-1", "cvss": 11}]}}, "r.json: cves.zlib[0].cvss: 11 is outside 0..10"),
     ({"cves": {"zlib": [{"cve_id": "CVE-1", "epss": 2}]}}, "r.json: cves.zlib[0].epss: 2 is outside 0..1"),
     ({"cves": {"zlib": [{"cve_id": "CVE-1", "category": "bad"}]}}, "r.json: cves.zlib[0].category: unknown")],
)
def test_bad_reports_name_file_and_field(data, message) -> None:
    with pytest.raises(ReportError) as info:
        parse_report(data, source="r.json")
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_unreadable_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"cves": ', encoding="utf-8")
    with pytest.raises(ReportError, match=r"^broken\.json: not valid JSON \(line 1"):
        load_report(path)
    with pytest.raises(ReportError, match=r"^missing\.json: cannot read report"):
        load_report(tmp_path / "missing.json")


def test_report_error_is_a_value_error() -> None:
    assert issubclass(ReportError, ValueError)


def test_kev_text_and_null_fixedby_entries() -> None:
    from timesys_ci.report import ReportError, parse_report

    entry = {"cve_id": "CVE-2024-1", "version": "1", "status": "Unfixed", "kev": "false", "fixedby": [None, "", "p.patch"]}
    finding = parse_report({"cves": {"zlib": [entry]}}).findings[0]
    assert finding.kev is False and finding.fixedby == ("p.patch",)
    assert parse_report({"cves": {"zlib": [dict(entry, kev="yes")]}}).findings[0].kev is True
    with pytest.raises(ReportError, match=r"kev: must be true or false"):
        parse_report({"cves": {"zlib": [dict(entry, kev=3)]}})

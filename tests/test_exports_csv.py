from __future__ import annotations

import csv
import io

import pytest

from tests.exports_support import load_report, manifest_sbom
from timesys_ci.service.exports import ExportError, render_report


def _records(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def test_csv_has_header_and_one_record_per_package_cve() -> None:
    data, media_type = render_report(load_report(), manifest_sbom(), "csv")
    assert media_type.startswith("text/csv")
    assert data.startswith(b"package,version,cve_id,status,category,cvss,vector,severity,fixed_version,fixedby\r\n")
    records = _records(data)
    assert len(records) == 10
    assert len({(r["package"], r["cve_id"]) for r in records}) == 10
    busybox = next(r for r in records if r["cve_id"] == "CVE-2022-48174")
    assert busybox["status"] == "Unfixed, Patch Available"  # the comma forces RFC 4180 quoting
    assert b'"Unfixed, Patch Available"' in data
    assert busybox["category"] == "unapplied"
    assert busybox["cvss"] == "9.8"
    assert busybox["severity"] == "critical"
    assert busybox["fixedby"].startswith("https://git.busybox.net/")


def test_rows_are_sorted_by_package_then_cve_number() -> None:
    records = _records(render_report(load_report(), None, "csv")[0])
    openssl = [r["cve_id"] for r in records if r["package"] == "openssl"]
    assert openssl == ["CVE-2024-9143", "CVE-2024-13176"]  # numeric, not string, order
    assert [r["package"] for r in records] == sorted(r["package"] for r in records)


def test_reference_only_entries_get_derived_category_and_severity() -> None:
    records = _records(render_report(load_report(), None, "csv")[0])
    dropbear = next(r for r in records if r["package"] == "dropbear")
    assert dropbear["category"] == "unfixed"
    assert dropbear["severity"] == "high"


def test_filtered_leaves_out_whitelisted_and_not_affected() -> None:
    records = _records(render_report(load_report(), None, "csv", filtered=True)[0])
    assert {r["category"] for r in records} == {"unfixed", "unapplied", "upgradable", "fixed"}
    assert len(records) == 8


def test_quotes_and_newlines_survive_a_round_trip() -> None:
    report = load_report()
    report["cves"] = {'odd "pkg"': [{"cve_id": "CVE-2020-1", "version": "1,0", "status": "Fixed", "fixedby": ["a\nb"]}]}
    record = _records(render_report(report, None, "csv")[0])[0]
    assert record["package"] == 'odd "pkg"'
    assert record["version"] == "1,0"
    assert record["fixedby"] == "a\nb"
    assert record["cvss"] == ""


@pytest.mark.parametrize("bad_format", ["json", "PDF", "", "cyclonedx"])
def test_unknown_format_is_rejected_naming_it(bad_format: str) -> None:
    with pytest.raises(ExportError, match="unsupported report format") as caught:
        render_report(load_report(), None, bad_format)
    assert repr(bad_format) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_bad_entry_is_rejected_naming_the_field() -> None:
    report = load_report()
    report["cves"]["openssl"][1] = {"version": "3.2.3"}
    with pytest.raises(ExportError, match=r"^report: cves\.openssl\[1\]\.cve_id: missing$"):
        render_report(report, None, "csv")
    report = load_report()
    report["cves"]["openssl"][0]["cvss"] = "high"
    with pytest.raises(ExportError, match=r"cves\.openssl\[0\]\.cvss: must be a number, got 'high'"):
        render_report(report, None, "csv")
    report = load_report()
    report["cves"]["openssl"][0]["category"] = "Broken"
    with pytest.raises(ExportError, match=r"cves\.openssl\[0\]\.category: unknown category 'Broken'"):
        render_report(report, None, "csv")
    with pytest.raises(ExportError, match="^report: cves: must be an object"):
        render_report({"cves": ["CVE-2020-1"]}, None, "csv")
    with pytest.raises(ExportError, match="^report: cves: missing"):
        render_report({"report_token": "RPT1"}, None, "csv")
    with pytest.raises(ExportError, match="^report: a report must be a JSON object"):
        render_report([], None, "csv")  # type: ignore[arg-type]


def test_entries_are_normalised_by_the_report_module() -> None:
    """Exports read a report the way the gate does (timesys_ci.report), e.g. for reference-only entries."""
    report = {"report_token": "RPT1", "cves": {"zlib": [
        # A CVSS v2 score has no critical band.
        {"cve_id": "CVE-2002-0059", "version": "1.1.3", "cvss": 10.0, "vector": "AV:N/AC:L/Au:N/C:C/I:C/A:C", "status": "Unfixed"},
        # No status text: the triage status decides, and the status column stays as the report had it.
        {"cve_id": "cve-2018-25032", "version": "1.2.11", "vuln_status": "resolved"},
        {"cve_id": "CVE-2022-37434", "version": "1.2.11", "status": "Patched"},
        {"cve_id": "CVE-2023-45853", "version": "1.2.11", "status": "Not Affected"},
    ]}}
    records = {r["cve_id"]: r for r in _records(render_report(report, None, "csv")[0])}
    assert records["CVE-2002-0059"]["severity"] == "high"
    assert records["CVE-2018-25032"]["category"] == "fixed"
    assert records["CVE-2018-25032"]["status"] == ""
    assert records["CVE-2018-25032"]["severity"] == ""  # no score: blank, not "unknown"
    assert records["CVE-2022-37434"]["category"] == "fixed"
    assert records["CVE-2023-45853"]["category"] == "whitelisted"
    assert len(_records(render_report(report, None, "csv", filtered=True)[0])) == 3

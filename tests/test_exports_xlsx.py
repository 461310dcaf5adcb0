from __future__ import annotations

import io
import zipfile
from xml.etree import ElementTree as ET

import openpyxl

from tests.exports_support import load_report, manifest_sbom
from timesys_ci.service.exports import render_report
from timesys_ci.service.exports.csv_report import COLUMNS

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
REQUIRED_PARTS = {
    "[Content_Types].xml",
    "_rels/.rels",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "xl/worksheets/sheet1.xml",
    "xl/worksheets/sheet2.xml",
    "xl/styles.xml",
}


def _workbook() -> bytes:
    data, media_type = render_report(load_report(), manifest_sbom(), "xlsx")
    assert media_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return data


def _rows(data: bytes, sheet: str) -> list[list[object]]:
    """A sheet's rows as openpyxl reads them (trailing empty cells dropped)."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    rows = [list(row) for row in book[sheet].iter_rows(values_only=True)]
    for row in rows:
        while row and row[-1] is None:
            row.pop()
    return rows


def test_workbook_parts_and_sheet_names() -> None:
    archive = zipfile.ZipFile(io.BytesIO(_workbook()))
    assert archive.testzip() is None
    assert REQUIRED_PARTS <= set(archive.namelist())
    workbook = ET.fromstring(archive.read("xl/workbook.xml"))
    assert [sheet.get("name") for sheet in workbook.findall("m:sheets/m:sheet", NS)] == ["Vulnerabilities", "Summary"]
    types = archive.read("[Content_Types].xml").decode()
    assert "/xl/worksheets/sheet2.xml" in types and "/xl/styles.xml" in types


def test_vulnerability_sheet_matches_the_csv_columns() -> None:
    rows = _rows(_workbook(), "Vulnerabilities")
    assert rows[0] == list(COLUMNS)
    assert len(rows) == 11  # header + 10 CVEs
    busybox = next(row for row in rows if row[2] == "CVE-2022-48174")
    assert busybox[:6] == ["busybox", "1.36.1", "CVE-2022-48174", "Unfixed, Patch Available", "unapplied", 9.8]
    assert busybox[7] == "critical"


def test_summary_sheet_counts() -> None:
    rows = _rows(_workbook(), "Summary")
    summary = {row[0]: row[1] for row in rows[1:]}
    assert summary["Report token"] == "RPT6b8e3d10"
    assert summary["Total CVEs"] == 10
    assert summary["Unfixed"] == 4
    assert summary["Whitelisted"] == 2
    assert summary["Kernel unfixed"] == 2
    assert summary["Critical unfixed"] == 1
    assert summary["In CISA KEV (not fixed)"] == 2


def test_control_characters_are_dropped_and_output_is_deterministic() -> None:
    report = load_report()
    report["cves"] = {"pkg\x01": [{"cve_id": "CVE-2020-1", "status": "Fixed"}]}
    first = render_report(report, None, "xlsx")[0]
    assert first == render_report(report, None, "xlsx")[0]
    rows = _rows(first, "Vulnerabilities")
    assert rows[1][0] == "pkg"


def test_openpyxl_reads_the_workbook() -> None:
    book = openpyxl.load_workbook(io.BytesIO(_workbook()))
    assert book.sheetnames == ["Vulnerabilities", "Summary"]
    sheet = book["Vulnerabilities"]
    assert sheet["A1"].value == "package"
    assert sheet["A1"].font.bold  # the header row is styled
    assert sheet.max_row == 11
    assert sheet["F2"].value == 7.2  # CVSS is a number, not text
    assert sheet.freeze_panes == "A2"  # the header row stays in view

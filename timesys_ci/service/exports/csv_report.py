"""The CSV report: one RFC 4180 record per (package, CVE)."""
from __future__ import annotations

import csv
import io
from typing import Sequence

from timesys_ci.report import Finding

from .rows import severity_label

MEDIA_TYPE = "text/csv; charset=utf-8"
COLUMNS = ("package", "version", "cve_id", "status", "category", "cvss", "vector", "severity", "fixed_version", "fixedby")


def row_cells(row: Finding) -> list[object]:
    """The COLUMNS values of one row; the score stays a number (None when unknown) for XLSX."""
    return [
        row.package,
        row.version,
        row.cve_id,
        row.status,
        row.category,
        row.cvss,
        row.vector,
        severity_label(row),
        row.fixed_version,
        " ".join(row.fixedby),  # patch names and URLs never contain spaces
    ]


def render_csv(rows: Sequence[Finding]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(["" if cell is None else _cell_text(cell) for cell in row_cells(row)])
    return buffer.getvalue().encode("utf-8")


#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _cell_text(cell: object) -> object:
    """Text as a spreadsheet shows it: never a formula (a leading `'` keeps it text), never a NUL
    (CSV readers cannot read it back: Python's before 3.11 refuse the line). Numbers stay numbers."""
    if not isinstance(cell, str):
        return _number_text(cell)
    text = cell.replace("\x00", "")
    return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text


def _number_text(cell: object) -> object:
    if isinstance(cell, float):
        return f"{cell:g}"
    return cell

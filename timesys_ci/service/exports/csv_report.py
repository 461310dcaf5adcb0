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


def _cell_text(cell: object) -> object:
    # NUL cannot be read back by CSV readers (Python's < 3.11 refuse the line): drop it.
    return cell.replace("\x00", "") if isinstance(cell, str) else _number_text(cell)


def _number_text(cell: object) -> object:
    if isinstance(cell, float):
        return f"{cell:g}"
    return cell

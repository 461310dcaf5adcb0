"""The XLSX report: a "Vulnerabilities" sheet (the CSV columns) and a "Summary" sheet."""
from __future__ import annotations

from typing import Sequence

from timesys_ci.report import Finding, ReportSummary

from .csv_report import COLUMNS, row_cells
from .summary import summary_counts
from .xlsx_writer import MEDIA_TYPE, Sheet, write_workbook

__all__ = ["MEDIA_TYPE", "render_xlsx"]

_VULN_WIDTHS = (18, 12, 17, 24, 12, 7, 46, 10, 13, 40)


def render_xlsx(info: ReportSummary, rows: Sequence[Finding], *, filtered: bool) -> bytes:
    vulnerabilities = Sheet("Vulnerabilities", COLUMNS, [row_cells(row) for row in rows], _VULN_WIDTHS)
    summary_rows: list[list[object]] = [
        ["Manifest", info.manifest_name],
        ["Manifest token", info.manifest_token],
        ["Report token", info.report_token],
        ["Report date", info.date],
        ["Filters applied", "yes" if filtered else "no"],
    ]
    summary_rows.extend([label, count] for label, count in summary_counts(info.counts, rows))
    summary = Sheet("Summary", ("item", "value"), summary_rows, (26, 40))
    return write_workbook([vulnerabilities, summary])

"""The PDF reports: `pdf` (summary and one line per CVE) and `pdfsummary` (summary only)."""
from __future__ import annotations

from itertools import groupby
from typing import Optional, Sequence

from timesys_ci.report import AFFECTED_CATEGORIES, Finding, ReportSummary
from timesys_ci.sbom.model import Sbom

from .pdf_writer import MEDIA_TYPE, PAGE_BREAK, Line, render_pdf
from .rows import severity_label
from .summary import summary_counts

__all__ = ["MEDIA_TYPE", "render_report_pdf"]


def render_report_pdf(
    sbom: Optional[Sbom],
    info: ReportSummary,
    rows: Sequence[Finding],
    *,
    filtered: bool,
    summary_only: bool,
) -> bytes:
    lines = _summary_lines(sbom, info, rows, filtered=filtered)
    if not summary_only:
        lines.append(PAGE_BREAK)
        lines.extend(_detail_lines(rows))
    title = f"Vulnerability report: {info.manifest_name or 'unnamed manifest'}"
    footer = " ".join(part for part in (info.manifest_name, info.report_token) if part)
    return render_pdf(lines, title=title, created=info.date, footer=footer)


def _summary_lines(
    sbom: Optional[Sbom], info: ReportSummary, rows: Sequence[Finding], *, filtered: bool
) -> list[Line]:
    lines = [Line(f"Vulnerability report: {info.manifest_name or 'unnamed manifest'}", "title")]
    facts = [
        ("Report date", info.date),
        ("Report token", info.report_token),
        ("Manifest token", info.manifest_token),
        ("Distro", " ".join(part for part in (sbom.distro, sbom.distro_version) if part).strip() if sbom else ""),
        ("Machine", (sbom.machine or "") if sbom else ""),
        ("Packages in manifest", str(len(sbom.packages)) if sbom and sbom.packages else ""),
        ("Filters applied", "yes" if filtered else "no"),
    ]
    lines.extend(Line(f"{label}: {value}") for label, value in facts if value)
    lines.append(Line("Summary", "heading"))
    lines.extend(Line(f"{label}: {count}", indent=12) for label, count in summary_counts(info.counts, rows))
    open_rows = [row for row in rows if row.category in AFFECTED_CATEGORIES]
    worst = sorted(open_rows, key=lambda row: (-(row.cvss if row.cvss is not None else -1.0), row.package, row.cve_id))[:10]
    if worst:
        lines.append(Line("Highest-scored open CVEs", "heading"))
        lines.extend(Line(_cve_line(row, with_package=True), indent=12) for row in worst)
    return lines


def _detail_lines(rows: Sequence[Finding]) -> list[Line]:
    lines = [Line("Vulnerabilities", "title")]
    if not rows:
        lines.append(Line("No CVEs in this report."))
    for (package, version), group in groupby(rows, key=lambda row: (row.package, row.version)):
        lines.append(Line(f"{package} {version}".strip(), "heading"))
        for row in group:
            lines.append(Line(_cve_line(row, with_package=False), indent=12))
            if row.vector:
                lines.append(Line(row.vector, "small", indent=24))
            if row.fixedby:
                lines.append(Line("Fixed by: " + ", ".join(row.fixedby), "small", indent=24))
    return lines


def _cve_line(row: Finding, *, with_package: bool) -> str:
    score = f"{row.cvss:.1f}" if row.cvss is not None else "n/a"
    parts = [row.cve_id]
    if with_package:
        parts.append(f"{row.package} {row.version}".strip())
    parts.append(f"CVSS {score} {severity_label(row)}".strip())
    if row.status:
        parts.append(row.status)
    if row.fixed_version:
        parts.append(f"fixed in {row.fixed_version}")
    if row.vuln_status:
        parts.append(f"triage: {row.vuln_status}" + (f" ({row.justification})" if row.justification else ""))
    if row.kev:
        parts.append("CISA KEV")
    if row.epss is not None:
        parts.append(f"EPSS {row.epss:.3f}")
    return " - ".join(parts)

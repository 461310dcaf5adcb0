"""The findings a report export lists, in export order.

`timesys_ci.report.parse_report` owns the reading and normalising of a report
(category from status, severity from scores, scope from the package name, the
checks on every field), for the gate and the exports alike; this module only
turns its error into the export layer's, orders the findings and applies the
export filter.
"""
from __future__ import annotations

import re
from typing import Any

from timesys_ci.report import Finding, ReportError, ReportSummary, parse_report

from .errors import ExportError


def report_findings(report: Any, *, filtered: bool = False) -> tuple[ReportSummary, list[Finding]]:
    """The report's metadata and its findings, sorted by package then CVE number.

    `filtered=True` leaves out whitelisted / not-affected findings: those are
    the ones the configured filters suppress, so a filtered export only lists
    what still needs attention or was fixed.
    """
    try:
        parsed = parse_report(report, source="report")
    except ReportError as exc:
        raise ExportError(str(exc)) from None
    findings = [finding for finding in parsed.findings if not (filtered and finding.category == "whitelisted")]
    findings.sort(key=lambda finding: (finding.package.lower(), finding.package, _cve_sort_key(finding.cve_id)))
    return parsed.summary, findings


def severity_label(finding: Finding) -> str:
    """The severity band as the exports print it: blank, not "unknown", when no score is known."""
    return "" if finding.severity == "unknown" else finding.severity


def _cve_sort_key(cve_id: str) -> tuple[str, int, int, str]:
    match = re.match(r"^([A-Za-z]+)-(\d+)-(\d+)$", cve_id)
    if not match:
        return (cve_id, 0, 0, cve_id)
    return (match.group(1).upper(), int(match.group(2)), int(match.group(3)), cve_id)

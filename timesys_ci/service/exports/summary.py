"""The counts block shared by the XLSX "Summary" sheet and the PDF summary page."""
from __future__ import annotations

from collections import Counter
from typing import Any, Mapping, Sequence

from timesys_ci.report import AFFECTED_CATEGORIES, CATEGORIES, Finding


def summary_counts(counts: Mapping[str, Any], rows: Sequence[Finding]) -> list[tuple[str, int]]:
    """(label, count) pairs in a fixed order.

    `counts` is the report's own counts block; its numbers win when present
    (the service may count things the rows do not show, e.g. filtered-out
    CVEs); missing ones are counted from the rows, so real-Vigiles reports
    without extras still get a summary.
    """
    by_category = Counter(row.category for row in rows)
    lines: list[tuple[str, int]] = [("Total CVEs", len(rows))]
    for category in CATEGORIES:
        lines.append((category.capitalize(), _int(counts.get(category), by_category[category])))
    for scope in ("kernel", "toolchain"):
        scoped = counts.get(scope) if isinstance(counts.get(scope), Mapping) else {}
        in_scope = Counter(row.category for row in rows if row.scope == scope)
        for category in ("unfixed", "fixed"):
            lines.append((f"{scope.capitalize()} {category}", _int(scoped.get(category), in_scope[category])))
    cvss_counts = counts.get("cvss_counts") if isinstance(counts.get("cvss_counts"), Mapping) else {}
    for band in ("critical", "high"):
        banded = cvss_counts.get(band) if isinstance(cvss_counts.get(band), Mapping) else {}
        computed = sum(1 for row in rows if row.severity == band and row.category == "unfixed")
        lines.append((f"{band.capitalize()} unfixed", _int(banded.get("unfixed"), computed)))
    lines.append(("In CISA KEV (not fixed)", sum(1 for row in rows if row.kev and row.category in AFFECTED_CATEGORIES)))
    return lines


def _int(value: object, fallback: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return fallback
    return int(value)

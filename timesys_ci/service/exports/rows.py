"""One normalised row per (package, CVE) of a report, whatever produced the report.

Reports from the real Vigiles service carry only `cve_id`, `version`, `cvss`,
`vector`, `status` and `fixedby`; the local service adds category, severity,
scope and more. Every export reads rows from here so the fallbacks (category
from status, severity from score, scope from package name) live in one place.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from timesys_ci.scope import package_scope

from .errors import ExportError

CATEGORIES = ("unfixed", "unapplied", "upgradable", "fixed", "whitelisted")
SEVERITIES = ("none", "low", "medium", "high", "critical")

_STATUS_CATEGORY = {
    "unfixed": "unfixed",
    "unfixed, patch available": "unapplied",
    "fixed": "fixed",
    "whitelisted": "whitelisted",
    "not affected": "whitelisted",
}


@dataclass(frozen=True)
class VulnRow:
    package: str
    version: str
    cve_id: str
    status: str
    category: str
    cvss: Optional[float]
    vector: str
    cvss_version: str
    cvss_v4: Optional[float]
    vector_v4: str
    severity: str  # "" when no score is known
    fixed_version: str
    fixedby: tuple[str, ...]
    vuln_status: str
    justification: str
    kev: bool
    epss: Optional[float]
    scope: str


@dataclass(frozen=True)
class ReportInfo:
    manifest_name: str
    manifest_token: str
    report_token: str
    date: str


def severity_for(score: Optional[float]) -> str:
    """CVSS v3/v4 qualitative band; "" when there is no score."""
    if score is None:
        return ""
    if score <= 0.0:
        return "none"
    if score < 4.0:
        return "low"
    if score < 7.0:
        return "medium"
    if score < 9.0:
        return "high"
    return "critical"


def category_for(status: str) -> str:
    lowered = status.strip().lower()
    if lowered in _STATUS_CATEGORY:
        return _STATUS_CATEGORY[lowered]
    if "upgrad" in lowered:
        return "upgradable"
    if "patch available" in lowered:
        return "unapplied"
    return "unfixed"


def report_info(report: Mapping[str, Any]) -> ReportInfo:
    if not isinstance(report, Mapping):
        raise ExportError("report: expected a JSON object")
    return ReportInfo(
        manifest_name=_text(report.get("manifest_name")),
        manifest_token=_text(report.get("manifest_token")),
        report_token=_text(report.get("report_token")) or _last_segment(_text(report.get("report_path"))),
        date=_text(report.get("date")),
    )


def report_rows(report: Mapping[str, Any], *, filtered: bool = False) -> list[VulnRow]:
    """All (package, CVE) rows, sorted by package then CVE number.

    `filtered=True` leaves out whitelisted / not-affected rows: those are the
    ones the configured filters suppress, so a filtered export only lists what
    still needs attention or was fixed.
    """
    report_info(report)
    cves = report.get("cves")
    if cves is None:
        cves = {}
    if not isinstance(cves, Mapping):
        raise ExportError("report: field 'cves' must be an object mapping package names to lists of entries")
    rows: list[VulnRow] = []
    for package, entries in cves.items():
        if not isinstance(entries, list):
            raise ExportError(f"report: field cves['{package}'] must be a list of entries")
        for index, entry in enumerate(entries):
            row = _row(str(package), entry, f"cves['{package}'][{index}]")
            if filtered and row.category == "whitelisted":
                continue
            rows.append(row)
    rows.sort(key=lambda row: (row.package.lower(), row.package, _cve_sort_key(row.cve_id)))
    return rows


def _row(package: str, entry: object, where: str) -> VulnRow:
    if not isinstance(entry, Mapping):
        raise ExportError(f"report: field {where} must be an object")
    cve_id = _text(entry.get("cve_id"))
    if not cve_id:
        raise ExportError(f"report: field {where}.cve_id is missing")
    status = _text(entry.get("status")) or "Unfixed"
    category = _text(entry.get("category")).lower()
    if category not in CATEGORIES:
        category = category_for(status)
    cvss = _score(entry.get("cvss"), f"{where}.cvss")
    cvss_v4 = _score(entry.get("cvss_v4"), f"{where}.cvss_v4")
    severity = _text(entry.get("severity")).lower()
    if severity not in SEVERITIES:
        severity = severity_for(cvss if cvss is not None else cvss_v4)
    vector = _text(entry.get("vector"))
    fixedby = entry.get("fixedby") or []
    if isinstance(fixedby, str):
        fixedby = [fixedby]
    if not isinstance(fixedby, list):
        raise ExportError(f"report: field {where}.fixedby must be a list of strings")
    return VulnRow(
        package=package,
        version=_text(entry.get("version")),
        cve_id=cve_id,
        status=status,
        category=category,
        cvss=cvss,
        vector=vector,
        cvss_version=_text(entry.get("cvss_version")) or _vector_version(vector),
        cvss_v4=cvss_v4,
        vector_v4=_text(entry.get("vector_v4")),
        severity=severity,
        fixed_version=_text(entry.get("fixed_version")),
        fixedby=tuple(_text(item) for item in fixedby if _text(item)),
        vuln_status=_text(entry.get("vuln_status")).lower(),
        justification=_text(entry.get("justification")),
        kev=entry.get("kev") is True,
        epss=_score(entry.get("epss"), f"{where}.epss"),
        scope=_text(entry.get("scope")) or package_scope(package),
    )


def _score(value: object, where: str) -> Optional[float]:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ExportError(f"report: field {where} must be a number, got {value!r}")
    try:
        return float(value)  # the real service sometimes sends scores as text
    except (TypeError, ValueError):
        raise ExportError(f"report: field {where} must be a number, got {value!r}") from None


def _vector_version(vector: str) -> str:
    match = re.match(r"CVSS:(\d+\.\d+)/", vector)
    if match:
        return match.group(1)
    return "2.0" if vector.startswith("AV:") else ""


def _cve_sort_key(cve_id: str) -> tuple[str, int, int, str]:
    match = re.match(r"^([A-Za-z]+)-(\d+)-(\d+)$", cve_id)
    if not match:
        return (cve_id, 0, 0, cve_id)
    return (match.group(1).upper(), int(match.group(2)), int(match.group(3)), cve_id)


def _last_segment(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] if path else ""


def _text(value: object) -> str:
    if value is None:
        return ""
    return str(value).strip()

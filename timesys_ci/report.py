"""Read a Vigiles report (upload/rescan/latest-report JSON) into `Finding` objects.

Two shapes are accepted: the local service's contract (every key, see the
project brief) and the thinner object the real Vigiles service returns, which
carries only `cve_id`, `version`, `cvss`, `vector`, `status` and `fixedby` per
entry. Missing extras are derived: category from the status text, severity
from the scores, scope from the package name.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Literal, Mapping, Optional, Tuple, Union, get_args
from urllib.parse import urljoin, urlsplit

from timesys import ParameterError
from timesys_ci.booleans import parse_bool
from timesys_ci.cvss import is_cvss_v2, severity_for
from timesys_ci.scope import SCOPES, package_scope

#: Severities a score can have, least to most severe (what a gate can fail on).
Severity = Literal["none", "low", "medium", "high", "critical"]
#: Ordered least to most severe; "unknown" is a finding without any score.
SEVERITIES: Tuple[str, ...] = ("unknown", *get_args(Severity))
#: Categories that mean "the build is affected"; fixed/whitelisted are not.
AffectedCategory = Literal["unfixed", "unapplied", "upgradable"]
AFFECTED_CATEGORIES: Tuple[AffectedCategory, ...] = get_args(AffectedCategory)
CATEGORIES: Tuple[str, ...] = (*AFFECTED_CATEGORIES, "fixed", "whitelisted")

_CVSS_PREFIX = re.compile(r"^CVSS:(\d+(?:\.\d+)?)/")


class ReportError(ParameterError):
    """A report file or object that cannot be read; the message is one line naming file and field."""


@dataclass(frozen=True)
class Finding:
    """One (package, CVE) entry of a report, normalised."""

    package: str
    version: str
    cve_id: str
    category: str
    severity: str
    cvss: Optional[float] = None  # v3 base score (v2 when cvss_version says so)
    vector: Optional[str] = None
    cvss_version: Optional[str] = None
    cvss_v4: Optional[float] = None
    vector_v4: Optional[str] = None
    status: str = ""
    vuln_status: Optional[str] = None
    justification: Optional[str] = None
    fixed_version: Optional[str] = None
    fixed_versions: Tuple[str, ...] = ()  # every fixed version the data knows (local service)
    sources: Tuple[str, ...] = ()  # the data sources that say it is affected (local service)
    fixedby: Tuple[str, ...] = ()
    kev: bool = False
    epss: Optional[float] = None
    scope: str = "userspace"
    kev_known: bool = False  # the report said whether it is in KEV (`kev` present), so `kev` False means "not in it"

    @property
    def key(self) -> Tuple[str, str]:
        """Identity used for baselines and fingerprints: independent of the package version."""
        return (self.package, self.cve_id)

    @property
    def cvss_v3(self) -> Optional[float]:
        """The v3 score, or None when `cvss` holds a v2 score."""
        return None if is_cvss_v2(self.cvss_version) else self.cvss


@dataclass(frozen=True)
class ReportSummary:
    """Report metadata: which manifest, which report, where to see it."""

    manifest_token: Optional[str] = None
    manifest_name: Optional[str] = None
    group_token: Optional[str] = None
    folder_token: Optional[str] = None
    report_token: Optional[str] = None
    report_path: Optional[str] = None
    report_url: Optional[str] = None
    date: Optional[str] = None
    counts: Mapping[str, Any] = field(default_factory=dict)
    source: str = "report"
    vuln_data: Mapping[str, Any] = field(default_factory=dict)  # which data a local report was scanned against


@dataclass(frozen=True)
class Report:
    summary: ReportSummary
    findings: Tuple[Finding, ...]


def severity_from_score(score: Optional[float], version: Optional[str] = None) -> str:
    """The report's severity for a score: the CVSS band, or "unknown" without a score."""
    return severity_for(score, version) or "unknown"


def category_from_status(status: str, vuln_status: Optional[str] = None) -> str:
    """Map the reference report's status text to a category.

    Unknown or missing text counts as unfixed: a report we cannot read must
    not silently weaken the gate.
    """
    text = status.strip().lower()
    if text.startswith("unfixed") and "patch" in text:
        return "unapplied"
    if "upgrad" in text:
        return "upgradable"
    if text.startswith("fixed") or text in {"patched", "resolved"}:
        return "fixed"
    if text in {"whitelisted", "not affected", "not_affected", "ignored", "false positive"}:
        return "whitelisted"
    if not text and vuln_status in {"resolved", "resolved_with_pedigree"}:
        return "fixed"
    if not text and vuln_status in {"not_affected", "false_positive"}:
        return "whitelisted"
    return "unfixed"


def resolve_report_url(report_path: Optional[str], base_url: Optional[str]) -> Optional[str]:
    """`report_path` may be a web path or a full URL; resolve a path against the base URL."""
    if not report_path:
        return None
    if urlsplit(report_path).scheme:
        return report_path
    if not base_url:
        return report_path
    return urljoin(base_url if base_url.endswith("/") else base_url + "/", report_path)


def load_report(path: Union[str, Path], base_url: Optional[str] = None) -> Report:
    """Read a report JSON file. Raises ReportError naming the file and field."""
    name = Path(path).name
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{name}: cannot read report: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    return parse_report(data, source=name, base_url=base_url)


def parse_report(data: Any, *, source: str = "report", base_url: Optional[str] = None) -> Report:
    """Normalise an already-decoded report object."""
    if not isinstance(data, dict):
        raise ReportError(f"{source}: a report must be a JSON object, got {_json_type(data)}")
    if "cves" not in data:
        raise ReportError(f"{source}: cves: missing (not a Vigiles report?)")
    cves = data["cves"]
    if cves is None:
        cves = {}
    if not isinstance(cves, dict):
        raise ReportError(f"{source}: cves: must be an object of package -> list of CVEs, got {_json_type(cves)}")
    findings: List[Finding] = []
    for package, entries in cves.items():
        if entries is None:
            continue
        if not isinstance(entries, list):
            raise ReportError(f"{source}: cves.{package}: must be a list, got {_json_type(entries)}")
        for index, entry in enumerate(entries):
            findings.append(_parse_entry(entry, str(package), f"{source}: cves.{package}[{index}]"))
    return Report(summary=_parse_summary(data, source, base_url), findings=tuple(findings))


def _parse_summary(data: Mapping[str, Any], source: str, base_url: Optional[str]) -> ReportSummary:
    report_path = _opt_str(data, "report_path", source)
    report_token = _opt_str(data, "report_token", source)
    if not report_token and report_path:
        report_token = urlsplit(report_path).path.rstrip("/").rsplit("/", 1)[-1] or None
    counts = data.get("counts")
    return ReportSummary(
        manifest_token=_opt_str(data, "manifest_token", source),
        manifest_name=_opt_str(data, "manifest_name", source),
        group_token=_opt_str(data, "group_token", source),
        folder_token=_opt_str(data, "folder_token", source),
        report_token=report_token,
        report_path=report_path,
        report_url=resolve_report_url(report_path, base_url),
        date=_opt_str(data, "date", source),
        counts=counts if isinstance(counts, dict) else {},
        source=source,
        vuln_data=data["vuln_data"] if isinstance(data.get("vuln_data"), dict) else {},
    )


def _parse_entry(entry: Any, package: str, where: str) -> Finding:
    if not isinstance(entry, dict):
        raise ReportError(f"{where}: must be an object, got {_json_type(entry)}")
    cve_id = _opt_str(entry, "cve_id", where)
    if not cve_id:
        raise ReportError(f"{where}.cve_id: missing")
    cvss = _opt_score(entry, "cvss", where)
    cvss_v4 = _opt_score(entry, "cvss_v4", where)
    vector = _opt_str(entry, "vector", where)
    cvss_version = _opt_str(entry, "cvss_version", where) or _vector_version(vector)
    status = _opt_str(entry, "status", where) or ""
    vuln_status = _opt_str(entry, "vuln_status", where)
    category = _opt_str(entry, "category", where)
    if category is None:
        category = category_from_status(status, vuln_status)
    elif category not in CATEGORIES:
        raise ReportError(f"{where}.category: unknown category {category!r} (expected one of {', '.join(CATEGORIES)})")
    severity = (_opt_str(entry, "severity", where) or "").lower()
    if severity not in SEVERITIES:
        # Contract order: v3 (else v4, else v2) base score.
        if cvss is not None and not is_cvss_v2(cvss_version):
            severity = severity_from_score(cvss)
        elif cvss_v4 is not None:
            severity = severity_from_score(cvss_v4)
        else:
            severity = severity_from_score(cvss, cvss_version)
    scope = _opt_str(entry, "scope", where)
    if scope not in SCOPES:
        scope = package_scope(package)
    epss = _opt_score(entry, "epss", where, upper=1.0)
    fixedby = entry.get("fixedby") or []
    if isinstance(fixedby, str):
        fixedby = [fixedby]
    if not isinstance(fixedby, list):
        raise ReportError(f"{where}.fixedby: must be a list, got {_json_type(fixedby)}")
    return Finding(
        package=package,
        version=str(entry.get("version") or ""),
        cve_id=cve_id.strip().upper(),
        category=category,
        severity=severity,
        cvss=cvss,
        vector=vector,
        cvss_version=cvss_version,
        cvss_v4=cvss_v4,
        vector_v4=_opt_str(entry, "vector_v4", where),
        status=status,
        vuln_status=(vuln_status or None) and vuln_status.strip().lower(),
        justification=_opt_str(entry, "justification", where),
        fixed_version=_opt_str(entry, "fixed_version", where),
        fixed_versions=_strings(entry, "fixed_versions", where),
        sources=_strings(entry, "sources", where),
        fixedby=tuple(str(item) for item in fixedby if item not in (None, "")),
        kev=_flag(entry.get("kev"), f"{where}.kev"),
        epss=epss,
        scope=scope,
        kev_known=entry.get("kev") is not None,
    )


def _strings(entry: Mapping[str, Any], key: str, where: str) -> Tuple[str, ...]:
    value = entry.get(key) or []
    if not isinstance(value, list):
        raise ReportError(f"{where}.{key}: must be a list, got {_json_type(value)}")
    return tuple(str(item) for item in value if item not in (None, ""))


def _vector_version(vector: Optional[str]) -> Optional[str]:
    if not vector:
        return None
    match = _CVSS_PREFIX.match(vector)
    if match:
        return match.group(1)
    return "2.0" if vector.startswith("AV:") else None


def _flag(value: Any, where: str) -> bool:
    """A JSON boolean; the text forms some exporters write ("true"/"false", "yes"/"no") are read too."""
    if value is None or isinstance(value, bool):
        return bool(value)
    parsed = parse_bool(value, also_false=("",)) if isinstance(value, str) else None
    if parsed is not None:
        return parsed
    raise ReportError(f"{where}: must be true or false, got {_json_type(value)} {value!r}")


def _opt_str(data: Mapping[str, Any], key: str, where: str) -> Optional[str]:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list)):
        raise ReportError(f"{where}.{key}: must be a string, got {_json_type(value)}")
    return str(value)


def _opt_score(data: Mapping[str, Any], key: str, where: str, upper: float = 10.0) -> Optional[float]:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ReportError(f"{where}.{key}: must be a number, got boolean")
    try:
        score = float(value)
    except (TypeError, ValueError):
        raise ReportError(f"{where}.{key}: must be a number, got {value!r}") from None
    if math.isnan(score) or not 0.0 <= score <= upper:
        raise ReportError(f"{where}.{key}: {value!r} is outside 0..{upper:g}")
    return score


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(value), type(value).__name__
    )

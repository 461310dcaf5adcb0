"""`GateOutcome`: what every output writer reads (report metadata, findings, gate result)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Tuple

from timesys_ci.gate.evaluate import NOT_NEW_NOTE, FindingVerdict, GateResult
from timesys_ci.gate.policy import GatePolicy
from timesys_ci.report import Finding, ReportSummary
from timesys_ci.sbom.coverage import Coverage, names

TOOL_NAME = "timesys-ci"
# Where SARIF consumers send users to learn about the tool.
TOOL_INFORMATION_URI = "https://pypi.org/project/timesys-ci/"


def tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("timesys-ci")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "0+unknown"


@dataclass(frozen=True)
class Baseline:
    """The report new-only compared with, and where it came from."""

    kind: str  # "file", "report" (a token given), "previous upload" (chosen automatically), "none"
    report_token: Optional[str] = None
    path: Optional[str] = None
    manifest_token: Optional[str] = None
    manifest_name: Optional[str] = None
    date: Optional[str] = None

    def describe(self) -> str:
        if self.kind == "none":
            return (f"none: no earlier report of {self.manifest_name!r} in this group/folder, so every finding "
                    f"counts as new" if self.manifest_name else "none: every finding counts as new")
        if self.kind == "file":
            what = f"report file {self.path}"
        elif self.kind == "report":
            what = f"report {self.report_token} (--baseline)"
        else:
            what = f"report {self.report_token} of the previous upload of {self.manifest_name!r}"
        details = [part for part in (self.date, f"SBOM {self.manifest_token}" if self.manifest_token else None) if part]
        return what + (f" ({', '.join(details)})" if details else "")

    def as_dict(self) -> Dict[str, Any]:
        return {"kind": self.kind, "report_token": self.report_token, "path": self.path,
                "manifest_token": self.manifest_token, "manifest_name": self.manifest_name, "date": self.date}


@dataclass(frozen=True)
class Scanned:
    """What was scanned: the SBOM's format and package coverage (None where it is not known)."""

    path: Optional[str] = None
    format: Optional[str] = None
    coverage: Optional[Coverage] = None
    unknown_because: str = "the SBOM was not read by timesys-ci"

    def describe(self) -> str:
        """`43`, `40 of 43 (3 without a version ...: a, b, c)`, or `unknown (...)`."""
        coverage = self.coverage
        if coverage is None:
            return f"unknown ({self.unknown_because})"
        if not coverage.without_version:
            return str(coverage.packages)
        return (f"{coverage.scanned} of {coverage.packages} ({len(coverage.without_version)} without a version, "
                f"not checked against CVE version ranges: {names(coverage.without_version)})")

    def as_dict(self) -> Dict[str, Any]:
        coverage = self.coverage
        return {"path": self.path, "format": self.format,
                "packages": coverage.packages if coverage else None,
                "scanned": coverage.scanned if coverage else None,
                "without_version": list(coverage.without_version) if coverage else None}


@dataclass(frozen=True)
class SetAsideCve:
    """A kernel CVE that kernel triage set aside: none of its files was compiled."""

    package: str
    version: str
    cve_id: str
    reason: str  # "not compiled: block/partitions/mac.c (no .o.cmd for block/partitions/mac.o)"


@dataclass(frozen=True)
class KernelTriage:
    """What kernel triage (`timesys_ci.kernel`) did to the report before the gate, for every output."""

    counts: Mapping[str, int]  # TriageResult.counts(): kernel_findings, set_aside, compiled, ...
    evidence: Tuple[str, ...] = ()  # one line per evidence kind used
    file_data: str = ""  # where the Linux kernel CNA's programFiles came from
    set_aside: Tuple[SetAsideCve, ...] = ()
    applied: Optional[int] = None  # statuses written to the service (--apply-triage); None: not asked

    @property
    def keys(self) -> FrozenSet[Tuple[str, str]]:
        return frozenset((cve.package, cve.cve_id) for cve in self.set_aside)

    def headline(self) -> str:
        """`812 kernel CVE(s) matched, 590 set aside as not_affected (code_not_present): none of their files was
        compiled`."""
        counts = self.counts
        return (f"{counts.get('kernel_findings', 0)} kernel CVE(s) matched, {counts.get('set_aside', 0)} set aside "
                f"as not_affected (code_not_present): none of their files was compiled")

    def kept(self) -> str:
        counts = self.counts
        kept = sum(counts.get(name, 0) for name in ("compiled", "unknown", "no_file_data", "other_kernel"))
        return (f"{kept} (compiled {counts.get('compiled', 0)}, undecided {counts.get('unknown', 0)}, "
                f"no file data {counts.get('no_file_data', 0)}, evidence for another kernel "
                f"{counts.get('other_kernel', 0)}); {counts.get('already_resolved', 0)} already fixed or triaged before")

    def written(self) -> str:
        if self.applied is None:
            return "statuses not written to the service (--apply-triage writes them)"
        return f"{self.applied} status(es) written to the service (--apply-triage)"

    def lines(self) -> List[str]:
        """The facts every human-readable output shows, one per line."""
        return [self.headline(), f"kept: {self.kept()}", *(f"evidence: {line}" for line in self.evidence),
                *([f"file data: {self.file_data}"] if self.file_data else [])]

    def as_dict(self) -> Dict[str, Any]:
        return {"counts": dict(self.counts), "evidence": list(self.evidence), "file_data": self.file_data,
                "applied": self.applied,
                "set_aside": [{"package": cve.package, "version": cve.version, "cve_id": cve.cve_id,
                               "reason": cve.reason} for cve in self.set_aside]}


@dataclass(frozen=True)
class GateOutcome:
    summary: ReportSummary
    result: GateResult
    policy: GatePolicy
    manifest_path: Optional[str] = None  # the uploaded manifest/SBOM, as given on the command line
    scanned: Scanned = Scanned()
    baseline: Optional[Baseline] = None  # set with new-only
    #: What may make the verdict less than it seems (no EPSS data, no baseline...): every output shows them.
    warnings: Tuple[str, ...] = ()
    #: Facts worth a line (how to browse a --local report...): the summary and Markdown show them.
    notes: Tuple[str, ...] = ()
    #: Kernel CVEs set aside before the gate because none of their files was compiled; None: no kernel triage.
    kernel_triage: Optional[KernelTriage] = None

    @property
    def set_aside(self) -> Tuple[FindingVerdict, ...]:
        """Findings new-only set aside as not new since the baseline."""
        return tuple(verdict for verdict in self.result.verdicts if verdict.note == NOT_NEW_NOTE)

    @property
    def findings(self) -> Tuple[Finding, ...]:
        return tuple(verdict.finding for verdict in self.result.verdicts)

    @property
    def passed(self) -> bool:
        return self.result.passed

    @property
    def gate(self) -> str:
        return "pass" if self.result.passed else "fail"

    @property
    def title(self) -> str:
        return self.summary.manifest_name or self.summary.manifest_token or self.summary.source


def nvd_url(cve_id: str) -> str:
    return f"https://nvd.nist.gov/vuln/detail/{cve_id}"


def score_text(verdict: FindingVerdict) -> str:
    return f"{verdict.gate_score:.1f}" if verdict.gate_score is not None else "-"


def fix_text(finding: Finding) -> str:
    """How the finding can be fixed, in a few words."""
    if finding.fixed_version:
        return f"fixed in {finding.fixed_version}"
    if finding.category == "unapplied":
        return "patch available"
    return "no fix known"


def verdict_detail(verdict: FindingVerdict) -> str:
    """Why a finding has its outcome: gate reasons, waiver or note."""
    if verdict.outcome == "waived" and verdict.waiver is not None:
        return f"waived until {verdict.waiver.expires.isoformat()}: {verdict.waiver.reason}"
    parts = list(verdict.reasons)
    if verdict.note:
        parts.append(verdict.note)
    return "; ".join(parts)

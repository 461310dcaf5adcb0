"""`GateOutcome`: what every output writer reads (report metadata, findings, gate result)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from timesys_ci.gate.evaluate import FindingVerdict, GateResult
from timesys_ci.gate.policy import GatePolicy
from timesys_ci.report import Finding, ReportSummary

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
class GateOutcome:
    summary: ReportSummary
    result: GateResult
    policy: GatePolicy
    manifest_path: Optional[str] = None  # the uploaded manifest/SBOM, as given on the command line
    #: What the reader must know about the result (e.g. the local vulnerability data is stale).
    warnings: Tuple[str, ...] = ()

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

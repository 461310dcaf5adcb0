"""Apply a `GatePolicy` to report findings: what fails, why, what is waived or ignored."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Dict, Iterable, Mapping, Optional, Sequence, Set, Tuple

from timesys_ci.gate.policy import GatePolicy, PolicyError, Waiver
from timesys_ci.report import AFFECTED_CATEGORIES, CATEGORIES, SEVERITIES, Finding, severity_from_score

# Triage statuses (set through set_status) that never fail the gate.
NEVER_FAIL_STATUSES = frozenset({"not_affected", "false_positive", "resolved", "resolved_with_pedigree"})

# Verdict outcomes:
#   fail     - gated and meets a rule
#   pass     - gated, meets no rule
#   waived   - would fail, but an active waiver covers it
#   ignored  - triage status says it cannot fail (not_affected, resolved, ...)
#   filtered - outside the gate: category, scope, or not new since the baseline
OUTCOMES = ("fail", "pass", "waived", "ignored", "filtered")

FindingKey = Tuple[str, str]
#: The note of a finding set aside by new-only (outputs count them).
NOT_NEW_NOTE = "not new since the baseline"


@dataclass(frozen=True)
class FindingVerdict:
    finding: Finding
    outcome: str
    gate_severity: str
    gate_score: Optional[float]
    reasons: Tuple[str, ...] = ()  # why it fails (kept for waived findings: why it would fail)
    waiver: Optional[Waiver] = None  # the active waiver, for outcome "waived"
    note: str = ""  # why it was ignored/filtered, or that its waiver expired


@dataclass(frozen=True)
class GateResult:
    verdicts: Tuple[FindingVerdict, ...]
    failing: Tuple[FindingVerdict, ...]  # worst first
    expired_waivers: Tuple[Waiver, ...]
    unused_waivers: Tuple[Waiver, ...]  # active waivers that covered no failing finding
    counts_by_category: Mapping[str, int] = field(default_factory=dict)
    counts_by_severity: Mapping[str, int] = field(default_factory=dict)  # affected findings only

    @property
    def passed(self) -> bool:
        return not self.failing

    def with_outcome(self, outcome: str) -> Tuple[FindingVerdict, ...]:
        return tuple(verdict for verdict in self.verdicts if verdict.outcome == outcome)

    @property
    def waived(self) -> Tuple[FindingVerdict, ...]:
        return self.with_outcome("waived")

    @property
    def ignored(self) -> Tuple[FindingVerdict, ...]:
        return self.with_outcome("ignored")


def gate_score(finding: Finding, cvss_version: str) -> Optional[float]:
    """The score that sets the severity band under the policy's `cvss_version`."""
    v3, v4 = finding.cvss_v3, finding.cvss_v4
    if cvss_version == "4":
        return v4 if v4 is not None else v3
    if cvss_version == "any":
        scores = [score for score in (v3, v4) if score is not None]
        return max(scores) if scores else None
    return v3 if v3 is not None else v4


def gate_severity(finding: Finding, cvss_version: str) -> Tuple[str, Optional[float]]:
    score = gate_score(finding, cvss_version)
    if score is not None:
        return severity_from_score(score), score
    # Only a v2 score (or the report's word): use the report's severity.
    return finding.severity, finding.cvss


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else 0


def evaluate(
    findings: Iterable[Finding],
    policy: GatePolicy,
    *,
    today: date,
    new_ids: Optional[Set[FindingKey]] = None,
    kev: Iterable[str] = frozenset(),
    epss: Mapping[str, float] = {},
) -> GateResult:
    """Evaluate the gate. `kev`/`epss` enrich the report's own `kev`/`epss` values.

    `new_ids` holds the (package, cve_id) pairs new since the baseline; it is
    required when `policy.new_only` is set.
    """
    if policy.new_only and new_ids is None:
        raise PolicyError("policy: new-only: set, but no baseline to compare with (give baseline)")
    kev_ids = frozenset(cve.upper() for cve in kev)
    active = [waiver for waiver in policy.waivers if not waiver.expired(today)]
    expired = tuple(waiver for waiver in policy.waivers if waiver.expired(today))
    used: Set[int] = set()
    verdicts = []
    for finding in findings:
        verdict = _judge(finding, policy, new_ids, kev_ids, epss, active, expired)
        if verdict.waiver is not None:
            used.add(id(verdict.waiver))
        verdicts.append(verdict)
    failing = sorted((v for v in verdicts if v.outcome == "fail"), key=_worst_first)
    return GateResult(
        verdicts=tuple(verdicts),
        failing=tuple(failing),
        expired_waivers=expired,
        unused_waivers=tuple(waiver for waiver in active if id(waiver) not in used),
        counts_by_category=_count((v.finding.category for v in verdicts), CATEGORIES),
        counts_by_severity=_count(
            (v.gate_severity for v in verdicts if v.finding.category in AFFECTED_CATEGORIES),
            tuple(reversed(SEVERITIES)),
        ),
    )


def baseline_new_ids(current: Iterable[Finding], baseline: Iterable[Finding]) -> Set[FindingKey]:
    """(package, cve_id) pairs affected now and not affected in the baseline report.

    Pairs are compared without versions: a version bump that still carries a
    CVE is not a new finding. Fixed/whitelisted entries of the baseline do not
    count as "known", so a regression shows as new.
    """
    known = {finding.key for finding in baseline if finding.category in AFFECTED_CATEGORIES}
    return {finding.key for finding in current if finding.category in AFFECTED_CATEGORIES} - known


def _judge(
    finding: Finding,
    policy: GatePolicy,
    new_ids: Optional[Set[FindingKey]],
    kev_ids: frozenset,
    epss: Mapping[str, float],
    active: Sequence[Waiver],
    expired: Sequence[Waiver],
) -> FindingVerdict:
    severity, score = gate_severity(finding, policy.cvss_version)

    def verdict(outcome: str, **extra: object) -> FindingVerdict:
        return FindingVerdict(finding, outcome, severity, score, **extra)  # type: ignore[arg-type]

    if finding.vuln_status in NEVER_FAIL_STATUSES:
        return verdict("ignored", note=f"status {finding.vuln_status}")
    if finding.category not in AFFECTED_CATEGORIES:
        return verdict("ignored", note=f"category {finding.category}")
    if finding.category not in policy.categories:
        return verdict("filtered", note=f"category {finding.category} not gated")
    if finding.scope not in policy.scope:
        return verdict("filtered", note=f"scope {finding.scope} not gated")
    if policy.new_only and new_ids is not None and finding.key not in new_ids:
        return verdict("filtered", note=NOT_NEW_NOTE)

    reasons = _reasons(finding, policy, severity, score, kev_ids, epss)
    if not reasons:
        return verdict("pass")
    waiver = next((w for w in active if w.matches(finding.package, finding.version, finding.cve_id)), None)
    if waiver is not None:
        return verdict("waived", reasons=reasons, waiver=waiver, note=f"waived: {waiver.reason}")
    lapsed = next((w for w in expired if w.matches(finding.package, finding.version, finding.cve_id)), None)
    note = f"waiver expired {lapsed.expires.isoformat()}" if lapsed is not None else ""
    return verdict("fail", reasons=reasons, note=note)


def _reasons(
    finding: Finding,
    policy: GatePolicy,
    severity: str,
    score: Optional[float],
    kev_ids: frozenset,
    epss: Mapping[str, float],
) -> Tuple[str, ...]:
    reasons = []
    if policy.fail_on != "none" and severity != "unknown" and severity_rank(severity) >= severity_rank(policy.fail_on):
        reasons.append(f"severity {severity} >= {policy.fail_on}")
    if policy.fail_on_cvss is not None and score is not None and score >= policy.fail_on_cvss:
        reasons.append(f"CVSS {score:g} >= {policy.fail_on_cvss:g}")
    if policy.fail_on_kev and (finding.kev or finding.cve_id in kev_ids):
        reasons.append("in CISA KEV")
    probability = epss.get(finding.cve_id, finding.epss)
    if policy.fail_on_epss is not None and probability is not None and probability >= policy.fail_on_epss:
        reasons.append(f"EPSS {probability:g} >= {policy.fail_on_epss:g}")
    return tuple(reasons)


def _worst_first(verdict: FindingVerdict) -> Tuple[int, float, Tuple[object, ...], str]:
    score = verdict.gate_score if verdict.gate_score is not None else -1.0
    return (-severity_rank(verdict.gate_severity), -score, _id_order(verdict.finding.cve_id), verdict.finding.package)


def _id_order(cve_id: str) -> Tuple[object, ...]:
    # Numeric parts compare as numbers: CVE-2024-9999 before CVE-2024-10000.
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"[-_]", cve_id))


def _count(values: Iterable[str], keys: Sequence[str]) -> Dict[str, int]:
    counts = {key: 0 for key in keys}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts

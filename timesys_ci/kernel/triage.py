"""Kernel triage: set aside the kernel CVEs whose affected files the build did not compile.

Pure: a report (the local service's contract or the real service's thinner shape), the
evidence, and `program_files(cve_ids) -> {cve: [path, ...]}` (the Linux kernel CNA's
`programFiles`, as `VulnStore.program_files` serves them) in; a `TriageResult` out.

Rules, per affected kernel finding:
* no file data for the CVE: kept (`no_file_data`);
* the evidence is for another kernel series than the report's: kept (`other_kernel`);
* any of its files compiled: kept (`compiled`); any the evidence cannot decide: kept (`unknown`);
* none of its files compiled: set aside as `not_affected` / `code_not_present`, with the evidence.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Literal, Mapping, Optional, Sequence

from timesys_ci.gate.evaluate import NEVER_FAIL_STATUSES
from timesys_ci.kernel.evidence import EvidenceInfo, EvidenceSet, FileVerdict
from timesys_ci.kernel.paths import kernel_path, major_minor
from timesys_ci.outputs.outcome import KernelTriage, SetAsideCve
from timesys_ci.report import AFFECTED_CATEGORIES, Finding, parse_report

ProgramFiles = Callable[[Iterable[str]], Mapping[str, Sequence[str]]]
Outcome = Literal["set_aside", "compiled", "unknown", "no_file_data", "other_kernel"]
OUTCOMES: tuple[Outcome, ...] = ("set_aside", "compiled", "unknown", "no_file_data", "other_kernel")
JUSTIFICATION = "code_not_present"
STATUS = "not_affected"
MAX_NOTE = 480  # cves set-status notes are short free text


@dataclass(frozen=True)
class KernelCveDecision:
    package: str
    version: str
    cve_id: str
    outcome: Outcome
    files: tuple[FileVerdict, ...]
    reason: str
    evidence: tuple[EvidenceInfo, ...] = ()  # the evidence that applied to this finding

    @property
    def set_aside(self) -> bool:
        return self.outcome == "set_aside"

    def note(self) -> str:
        """One line for the dashboard (the `cves set-status` note)."""
        sources = "; ".join(f"{info.kind} ({info.strength}) {info.origin}" for info in self.evidence)
        text = f"timesys-ci kernel triage: {self.reason}" + (f" [evidence: {sources}]" if sources else "")
        return text if len(text) <= MAX_NOTE else text[:MAX_NOTE - 3] + "..."

    def to_json(self) -> dict[str, Any]:
        return {"package": self.package, "version": self.version, "cve_id": self.cve_id, "outcome": self.outcome,
                "reason": self.reason, "files": [verdict.to_json() for verdict in self.files],
                "evidence": [info.kind for info in self.evidence]}


@dataclass(frozen=True)
class TriageResult:
    report: dict[str, Any]  # the report with the set-aside findings marked not_affected
    decisions: tuple[KernelCveDecision, ...]
    evidence: tuple[EvidenceInfo, ...]
    already_resolved: int  # kernel findings already fixed, whitelisted or triaged before

    @property
    def set_aside(self) -> tuple[KernelCveDecision, ...]:
        return tuple(decision for decision in self.decisions if decision.set_aside)

    @property
    def kept(self) -> tuple[KernelCveDecision, ...]:
        return tuple(decision for decision in self.decisions if not decision.set_aside)

    def counts(self) -> dict[str, int]:
        counts = {"kernel_findings": len(self.decisions) + self.already_resolved,
                  "triaged": len(self.decisions), "already_resolved": self.already_resolved}
        counts.update({outcome: 0 for outcome in OUTCOMES})
        for decision in self.decisions:
            counts[decision.outcome] += 1
        return counts

    def summary(self, file_data: str, *, applied: Optional[int] = None) -> KernelTriage:
        """What the outputs show (`GateOutcome.kernel_triage`)."""
        evidence = [info.describe() for info in self.evidence]
        evidence += [f"{info.kind}: {note}" for info in self.evidence for note in info.notes]
        return KernelTriage(self.counts(), tuple(evidence), file_data,
                            tuple(SetAsideCve(d.package, d.version, d.cve_id, d.reason) for d in self.set_aside),
                            applied)

    def to_json(self) -> dict[str, Any]:
        return {"schema": "timesys-ci/kernel-triage", "version": 1, "counts": self.counts(),
                "evidence": [info.to_json() for info in self.evidence],
                "decisions": [decision.to_json() for decision in self.decisions]}


def _applicable(evidence: EvidenceSet, version: str) -> EvidenceSet:
    """The sources built from the same kernel series (major.minor) as the finding's version."""
    wanted = major_minor(version)
    if wanted is None:
        return evidence
    return EvidenceSet(tuple(source for source in evidence.sources
                             if major_minor(source.info.kernel_version) in (None, wanted)))


def _decide(finding: Finding, files: Optional[Sequence[str]], evidence: EvidenceSet) -> KernelCveDecision:
    def decision(outcome: Outcome, reason: str, verdicts: tuple[FileVerdict, ...] = (),
                 used: EvidenceSet = evidence) -> KernelCveDecision:
        return KernelCveDecision(finding.package, finding.version, finding.cve_id, outcome, verdicts, reason,
                                 used.infos)

    paths = [path for path in (kernel_path(str(name)) for name in files or ()) if path]
    if not paths:
        return decision("no_file_data", "the kernel CNA names no affected files", used=EvidenceSet())
    applicable = _applicable(evidence, finding.version)
    if evidence and not applicable:
        versions = ", ".join(sorted({str(info.kernel_version) for info in evidence.infos}))
        return decision("other_kernel", f"the evidence is for kernel {versions}, the finding for {finding.version}",
                        used=EvidenceSet())
    verdicts = tuple(applicable.verdict(path) for path in paths)
    compiled = [v for v in verdicts if v.state == "compiled"]
    if compiled:
        return decision("compiled", f"{compiled[0].path} is compiled ({compiled[0].reason})", verdicts, applicable)
    unknown = [v for v in verdicts if v.state == "unknown"]
    if unknown:
        return decision("unknown", f"{unknown[0].path}: {unknown[0].reason}", verdicts, applicable)
    names = ", ".join(v.path for v in verdicts)
    return decision("set_aside", f"not compiled: {names} ({verdicts[0].reason})", verdicts, applicable)


def _raw_entries(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The report's entries in the order `parse_report` reads them."""
    return [entry for entries in (report.get("cves") or {}).values() if entries is not None for entry in entries]


def triage_report(report: Mapping[str, Any], evidence: EvidenceSet, program_files: ProgramFiles, *,
                  source: str = "report") -> TriageResult:
    """Triage the report's kernel findings; the input is not modified."""
    parsed = parse_report(report, source=source)
    triaged = copy.deepcopy(dict(report))
    entries = _raw_entries(triaged)
    kernel = [(finding, entry) for finding, entry in zip(parsed.findings, entries) if finding.scope == "kernel"]
    open_findings = [(finding, entry) for finding, entry in kernel if finding.category in AFFECTED_CATEGORIES
                     and finding.vuln_status not in NEVER_FAIL_STATUSES]
    files = program_files(sorted({finding.cve_id for finding, _ in open_findings})) if open_findings else {}
    decisions = []
    for finding, entry in open_findings:
        decision = _decide(finding, files.get(finding.cve_id), evidence)
        decisions.append(decision)
        entry["kernel_triage"] = {"outcome": decision.outcome, "reason": decision.reason,
                                  "files": [verdict.to_json() for verdict in decision.files]}
        if decision.set_aside:
            entry.update({"status": "Not Affected", "category": "whitelisted", "vuln_status": STATUS,
                          "justification": JUSTIFICATION})
    result = TriageResult(triaged, tuple(decisions), evidence.infos, len(kernel) - len(open_findings))
    if "counts" in triaged and result.set_aside:
        aside = {id(entry) for (_, entry), decision in zip(open_findings, decisions) if decision.set_aside}
        _recount(triaged, parsed.findings, entries, aside)
    triaged["kernel_triage"] = {key: value for key, value in result.to_json().items() if key != "decisions"}
    return result


def _recount(report: dict[str, Any], findings: Sequence[Finding], entries: list[dict[str, Any]],
             set_aside: set[int]) -> None:
    """The report's `counts` as they are after triage (entries of the thin shape lack the fields: use the parsed)."""
    rows = [{"category": "whitelisted" if id(entry) in set_aside else finding.category, "scope": finding.scope,
             "severity": finding.severity} for finding, entry in zip(findings, entries)]
    # Imported here: the scanner pulls in the matcher (packageurl, a service extra), which the CLI must not need.
    from timesys_ci.vulndb.scan import count_entries

    report["counts"] = count_entries({"all": rows})

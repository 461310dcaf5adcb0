"""Kernel triage on the real Linux kernel CNA records: what is set aside, what stays, and why."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Iterable

import pytest

from .kernel_support import FIXTURES, config_text, make_build_dir, make_source_tree, write
from timesys_ci.gate.evaluate import evaluate
from timesys_ci.gate.policy import load_policy
from timesys_ci.kernel import EvidenceSet, KernelInputs, load_evidence, triage_report
from timesys_ci.report import parse_report

GATE_FIXTURES = Path(__file__).parent / "fixtures" / "gate"
BFQ, MAC, NO_FILES = "CVE-2025-21631", "CVE-2025-21772", "CVE-2024-1086"


def cna_program_files() -> dict[str, list[str]]:
    """The mapping `VulnStore.program_files` gives, read here straight from the two real CNA records."""
    found = {}
    for cve in (BFQ, MAC):
        record = json.loads((FIXTURES / f"{cve}.json").read_text())
        found[cve] = sorted({path for affected in record["containers"]["cna"]["affected"]
                             for path in affected.get("programFiles", [])})
    return found


class ProgramFiles:
    """The callable, recording what it was asked."""

    def __init__(self, mapping: dict[str, list[str]]) -> None:
        self.mapping = mapping
        self.asked: list[list[str]] = []

    def __call__(self, cve_ids: Iterable[str]) -> dict[str, list[str]]:
        ids = list(cve_ids)
        self.asked.append(ids)
        return {cve: self.mapping[cve] for cve in ids if cve in self.mapping}


def kernel_entry(cve: str, version: str = "6.6.21", *, cvss: float = 7.8, **extra: object) -> dict:
    entry = {"cve_id": cve, "version": version, "cvss": cvss, "vector": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
             "cvss_version": "3.1", "severity": "high", "status": "Unfixed", "category": "unfixed",
             "vuln_status": None, "justification": None, "fixedby": [], "fixed_version": None, "kev": False,
             "epss": None, "scope": "kernel"}
    entry.update(extra)
    return entry


def contract_report(version: str = "6.6.21") -> dict:
    report = json.loads((GATE_FIXTURES / "report-contract.json").read_text())
    report["cves"]["linux-yocto"] = [kernel_entry(NO_FILES, version), kernel_entry(BFQ, version),
                                     kernel_entry(MAC, version, cvss=5.5, severity="medium"),
                                     kernel_entry("CVE-2023-0001", version, status="Fixed", category="fixed")]
    return report


@pytest.fixture
def evidence(tmp_path: Path) -> EvidenceSet:
    source = make_source_tree(tmp_path / "kernel-source")
    return load_evidence(KernelInputs(build_dir=make_build_dir(tmp_path / "build", source_dir=source))).evidence


def decisions_by_cve(result) -> dict[str, str]:
    return {decision.cve_id: decision.outcome for decision in result.decisions}


def test_real_cna_records_mac_partitions_set_aside_bfq_kept(evidence: EvidenceSet) -> None:
    report = contract_report()
    before = copy.deepcopy(report)
    files = ProgramFiles(cna_program_files())
    result = triage_report(report, evidence, files)
    assert report == before  # pure: the input is not modified
    assert files.asked == [sorted([NO_FILES, BFQ, MAC])]  # one call, open kernel findings only
    assert decisions_by_cve(result) == {NO_FILES: "no_file_data", BFQ: "compiled", MAC: "set_aside"}
    counts = result.counts()
    assert (counts["kernel_findings"], counts["triaged"], counts["already_resolved"], counts["set_aside"]) == (4, 3, 1, 1)
    mac = next(d for d in result.decisions if d.cve_id == MAC)
    assert mac.files[0].path == "block/partitions/mac.c" and mac.files[0].state == "not_compiled"
    assert "block/partitions/mac.c" in mac.note() and "kbuild-cmd (strong)" in mac.note()
    # The triaged report: set-aside entries are not_affected/code_not_present, with the evidence.
    entries = {entry["cve_id"]: entry for entry in result.report["cves"]["linux-yocto"]}
    assert (entries[MAC]["vuln_status"], entries[MAC]["justification"], entries[MAC]["category"]) == (
        "not_affected", "code_not_present", "whitelisted")
    assert entries[MAC]["kernel_triage"]["files"][0]["state"] == "not_compiled"
    assert entries[BFQ]["vuln_status"] is None and entries[BFQ]["kernel_triage"]["outcome"] == "compiled"
    assert result.report["kernel_triage"]["counts"] == counts
    parsed = parse_report(result.report)
    whitelisted = [f for f in parsed.findings if f.category == "whitelisted"]
    assert MAC in {f.cve_id for f in whitelisted} and result.report["counts"]["whitelisted"] == len(whitelisted)
    assert result.report["counts"]["kernel"]["unfixed"] == 2  # recounted: NO_FILES and BFQ
    # The gate then counts only what is left.
    gate = evaluate(parsed.findings, load_policy(None, None, {"fail_on": "medium", "scope": "kernel"}),
                    today=__import__("datetime").date(2026, 1, 1))
    assert {v.finding.cve_id for v in gate.failing} == {NO_FILES, BFQ}
    assert {v.finding.cve_id for v in gate.ignored} >= {MAC}


def test_thin_real_service_report(evidence: EvidenceSet) -> None:
    report = json.loads((GATE_FIXTURES / "report-thin.json").read_text())
    report["cves"]["linux-yocto"] += [{"cve_id": MAC, "version": "6.6.21", "cvss": 5.5, "status": "Unfixed",
                                       "fixedby": []},
                                      {"cve_id": BFQ, "version": "6.6.21", "cvss": 7.8, "status": "Unfixed",
                                       "fixedby": []}]
    result = triage_report(report, evidence, ProgramFiles(cna_program_files()))
    assert decisions_by_cve(result) == {NO_FILES: "no_file_data", MAC: "set_aside", BFQ: "compiled"}
    mac = next(f for f in parse_report(result.report).findings if f.cve_id == MAC)
    assert (mac.category, mac.vuln_status, mac.justification) == ("whitelisted", "not_affected", "code_not_present")


def test_headers_are_compiled_only_when_a_unit_depends_on_them(evidence: EvidenceSet) -> None:
    files = {"CVE-1": ["block/bfq-iosched.h"], "CVE-2": ["include/uapi/linux/io_uring.h"],
             "CVE-3": ["block/partitions/mac.c", "block/partitions/check.h"],  # the header is used: kept
             "CVE-4": ["block/partitions/mac.c", "Documentation/block/mac.rst"]}  # undecidable file: kept
    report = {"cves": {"linux-yocto": [kernel_entry(cve) for cve in files]}}
    result = triage_report(report, evidence, ProgramFiles(files))
    assert decisions_by_cve(result) == {"CVE-1": "compiled", "CVE-2": "set_aside", "CVE-3": "compiled",
                                        "CVE-4": "unknown"}


def test_with_only_config_evidence_headers_are_never_set_aside(tmp_path: Path) -> None:
    source = make_source_tree(tmp_path / "src")
    config = write(tmp_path / "linux.config", config_text())
    evidence = load_evidence(KernelInputs(source_dir=source, config=config)).evidence
    files = {MAC: ["block/partitions/mac.c"], "CVE-2": ["include/uapi/linux/io_uring.h"],
             "CVE-3": ["drivers/foo/foo_tables.c"], BFQ: ["block/bfq-iosched.c"]}
    report = {"cves": {"linux-yocto": [kernel_entry(cve) for cve in files]}}
    result = triage_report(report, evidence, ProgramFiles(files))
    assert decisions_by_cve(result) == {MAC: "set_aside", "CVE-2": "unknown", "CVE-3": "unknown", BFQ: "compiled"}


@pytest.mark.parametrize("version, outcome", [("6.6.21", "set_aside"), ("6.6.79", "set_aside"),
                                               ("6.6.21+gitAUTOINC+4a4ff5e6a1_b8d5a8a2bb", "set_aside"),
                                               ("6.1.125", "other_kernel"), ("5.15.170", "other_kernel"),
                                               ("", "set_aside")])
def test_evidence_from_another_kernel_series_does_not_apply(evidence: EvidenceSet, version: str,
                                                            outcome: str) -> None:
    report = {"cves": {"linux-yocto": [kernel_entry(MAC, version)]}}
    result = triage_report(report, evidence, ProgramFiles(cna_program_files()))
    assert result.decisions[0].outcome == outcome


def test_only_open_kernel_findings_are_triaged(evidence: EvidenceSet) -> None:
    report = {"cves": {
        "linux-yocto": [kernel_entry(MAC, vuln_status="not_affected"), kernel_entry(BFQ, category="whitelisted",
                                                                                   status="Whitelisted")],
        "busybox": [dict(kernel_entry(MAC), scope="userspace")],  # a userspace package naming the same CVE
        "kernel-module-foo": [kernel_entry(MAC, category="unapplied", status="Unfixed, Patch Available")],
    }}
    files = ProgramFiles(cna_program_files())
    result = triage_report(report, evidence, files)
    assert [(d.package, d.outcome) for d in result.decisions] == [("kernel-module-foo", "set_aside")]
    assert result.already_resolved == 2
    assert result.report["cves"]["busybox"][0]["vuln_status"] is None


def test_no_kernel_findings_asks_nothing(evidence: EvidenceSet) -> None:
    files = ProgramFiles({})
    result = triage_report({"cves": {"busybox": [dict(kernel_entry(MAC), scope="userspace")]}}, evidence, files)
    assert files.asked == [] and result.decisions == () and result.counts()["kernel_findings"] == 0


def test_without_evidence_nothing_is_set_aside() -> None:
    result = triage_report({"cves": {"linux-yocto": [kernel_entry(MAC)]}}, EvidenceSet(),
                           ProgramFiles(cna_program_files()))
    assert result.decisions[0].outcome == "unknown"


def test_program_files_with_unsafe_paths_are_ignored(evidence: EvidenceSet) -> None:
    files = {MAC: ["/etc/passwd", "../../outside.c", ""], BFQ: ["block//partitions/./mac.c"]}
    result = triage_report({"cves": {"linux-yocto": [kernel_entry(MAC), kernel_entry(BFQ)]}}, evidence,
                           ProgramFiles(files))
    assert decisions_by_cve(result) == {MAC: "no_file_data", BFQ: "set_aside"}


def test_result_json_round_trips(evidence: EvidenceSet) -> None:
    result = triage_report(contract_report(), evidence, ProgramFiles(cna_program_files()))
    document = json.loads(json.dumps(result.to_json()))
    assert document["schema"] == "timesys-ci/kernel-triage" and document["version"] == 1
    assert document["evidence"][0]["kind"] == "kbuild-cmd"
    assert {d["cve_id"]: d["outcome"] for d in document["decisions"]}[MAC] == "set_aside"


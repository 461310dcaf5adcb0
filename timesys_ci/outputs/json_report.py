"""The gate result as versioned JSON (`timesys-ci/gate-result`, version 1).

The schema ships as `timesys_ci/data/gate-result.schema.json`. Version 1
promises: keys are only added, never renamed or removed, within a version.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Optional

from timesys_ci.gate.evaluate import FindingVerdict
from timesys_ci.gate.policy import Waiver
from timesys_ci.outputs.outcome import GateOutcome, tool_version

SCHEMA_ID = "timesys-ci/gate-result"
SCHEMA_VERSION = 1
SCHEMA_RESOURCE = "data/gate-result.schema.json"  # inside the timesys_ci package


def gate_result_document(outcome: GateOutcome) -> Dict[str, Any]:
    result = outcome.result
    summary = outcome.summary
    return {
        "schema": SCHEMA_ID,
        "version": SCHEMA_VERSION,
        "tool": {"name": "timesys-ci", "version": tool_version()},
        "gate": {
            "result": outcome.gate,
            "passed": outcome.passed,
            "failing": len(result.failing),
            "waived": len(result.waived),
            "policy": outcome.policy.model_dump(mode="json", exclude={"waivers"}),
        },
        "report": {
            "manifest_token": summary.manifest_token,
            "manifest_name": summary.manifest_name,
            "report_token": summary.report_token,
            "report_url": summary.report_url,
            "date": summary.date,
            "manifest_path": outcome.manifest_path,
        },
        "sbom": outcome.scanned.as_dict(),
        "baseline": None if outcome.baseline is None else {**outcome.baseline.as_dict(),
                                                           "set_aside": len(outcome.set_aside)},
        "counts": {
            "by_category": dict(result.counts_by_category),
            "by_severity": dict(result.counts_by_severity),
        },
        "findings": [_finding(verdict) for verdict in _worst_first(outcome)],
        "expired_waivers": [_waiver(waiver) for waiver in result.expired_waivers],
        "unused_waivers": [_waiver(waiver) for waiver in result.unused_waivers],
        "warnings": list(outcome.warnings),
        "notes": list(outcome.notes),
        "kernel_triage": None if outcome.kernel_triage is None else outcome.kernel_triage.as_dict(),
    }


def render_json(outcome: GateOutcome, *, compact: bool = False) -> str:
    """The document, indented; `compact` (-f/--no-format): on one line."""
    document = gate_result_document(outcome)
    if compact:
        return json.dumps(document, separators=(",", ":")) + "\n"
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


def load_schema() -> Dict[str, Any]:
    """The JSON Schema of the document, from the installed package."""
    from importlib.resources import files

    return json.loads(files("timesys_ci").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8"))


def _worst_first(outcome: GateOutcome) -> "list[FindingVerdict]":
    failing = list(outcome.result.failing)
    return failing + [verdict for verdict in outcome.result.verdicts if verdict.outcome != "fail"]


def _finding(verdict: FindingVerdict) -> Dict[str, Any]:
    f = verdict.finding
    return {
        "package": f.package,
        "version": f.version,
        "cve_id": f.cve_id,
        "category": f.category,
        "scope": f.scope,
        "severity": f.severity,
        "gate_severity": verdict.gate_severity,
        "gate_score": verdict.gate_score,
        "cvss": f.cvss,
        "vector": f.vector,
        "cvss_version": f.cvss_version,
        "cvss_v4": f.cvss_v4,
        "vector_v4": f.vector_v4,
        "status": f.status,
        "vuln_status": f.vuln_status,
        "fixed_version": f.fixed_version,
        "fixedby": list(f.fixedby),
        "kev": f.kev,
        "epss": f.epss,
        "outcome": verdict.outcome,
        "reasons": list(verdict.reasons),
        "note": verdict.note,
        "waiver": _waiver(verdict.waiver),
    }


def _waiver(waiver: Optional[Waiver]) -> Optional[Dict[str, Any]]:
    return None if waiver is None else waiver.model_dump(mode="json")

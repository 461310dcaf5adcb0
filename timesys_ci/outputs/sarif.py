"""SARIF 2.1.0 for GitHub code scanning.

* One rule per CVE (`id` = the CVE id), with `properties.security-severity`
  (the score as a string, which GitHub maps to its severity levels) and tags.
* One result per affected finding the gate looked at (failing, passing,
  waived, filtered). Triage-ignored and fixed/whitelisted findings are left
  out: they are not problems to show. Kernel CVEs that kernel triage set aside
  (none of their files compiled) are shown, suppressed with the reason, so
  code scanning records why they closed.
* `level`: "error" when the finding fails the gate; otherwise "warning" for
  high/critical and "note" for the rest. Waived findings carry an accepted
  external suppression with the waiver's reason.
* Location: the manifest path, relative to the repository root when it lies
  inside it, at line 1 (a manifest has no better line for a package).
* `partialFingerprints["timesysCiFinding/v1"]`: SHA-256 of package + CVE id,
  deliberately WITHOUT the version: bumping a package that still carries the
  CVE keeps the same alert open instead of closing it and opening a new one;
  upgrading past the fix closes it.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path, PurePosixPath
from typing import Any, Dict, List, Optional, Union

from timesys_ci.gate.evaluate import FindingVerdict
from timesys_ci.outputs.outcome import (
    TOOL_INFORMATION_URI,
    TOOL_NAME,
    GateOutcome,
    fix_text,
    nvd_url,
    tool_version,
    verdict_detail,
)

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "timesysCiFinding/v1"
_SHOWN = ("fail", "pass", "waived", "filtered")


def finding_fingerprint(package: str, cve_id: str) -> str:
    return hashlib.sha256(f"{package}\0{cve_id}".encode("utf-8")).hexdigest()


def manifest_uri(manifest_path: Optional[Union[str, Path]], repo_root: Optional[Union[str, Path]] = None) -> str:
    """URI of the manifest for `artifactLocation`: repo-relative when possible.

    `repo_root` defaults to $GITHUB_WORKSPACE, then the current directory.
    A manifest outside the repository gets an absolute file URI.
    """
    if not manifest_path:
        return "manifest"
    root = Path(repo_root or os.environ.get("GITHUB_WORKSPACE") or Path.cwd()).resolve()
    path = Path(manifest_path)
    absolute = (path if path.is_absolute() else Path.cwd() / path).resolve()
    try:
        return PurePosixPath(absolute.relative_to(root)).as_posix()
    except ValueError:
        return absolute.as_uri()


def sarif_document(outcome: GateOutcome, *, repo_root: Optional[Union[str, Path]] = None) -> Dict[str, Any]:
    set_aside = {(cve.package, cve.cve_id): cve.reason
                 for cve in (outcome.kernel_triage.set_aside if outcome.kernel_triage else ())}
    shown = [v for v in _ordered(outcome) if v.outcome in _SHOWN or v.finding.key in set_aside]
    rules: List[Dict[str, Any]] = []
    rule_index: Dict[str, int] = {}
    for verdict in shown:
        if verdict.finding.cve_id not in rule_index:
            rule_index[verdict.finding.cve_id] = len(rules)
            rules.append(_rule(verdict))
    uri = manifest_uri(outcome.manifest_path, repo_root)
    run: Dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": tool_version(),
                "informationUri": TOOL_INFORMATION_URI,
                "rules": rules,
            }
        },
        # GitHub keeps one analysis per category: one per manifest name.
        "automationDetails": {"id": f"{TOOL_NAME}/{outcome.title}/"},
        "results": [_result(v, rule_index[v.finding.cve_id], uri, set_aside.get(v.finding.key)) for v in shown],
    }
    properties = {key: value for key, value in (
        ("manifestToken", outcome.summary.manifest_token),
        ("reportToken", outcome.summary.report_token),
        ("reportUrl", outcome.summary.report_url),
        ("gate", outcome.gate),
        ("packagesScanned", outcome.scanned.coverage.scanned if outcome.scanned.coverage else None),
    ) if value}
    if outcome.kernel_triage is not None:
        properties["kernelTriage"] = {"setAside": len(set_aside), "counts": dict(outcome.kernel_triage.counts)}
    run["properties"] = properties
    return {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(outcome: GateOutcome, *, repo_root: Optional[Union[str, Path]] = None) -> str:
    return json.dumps(sarif_document(outcome, repo_root=repo_root), indent=2) + "\n"


def _ordered(outcome: GateOutcome) -> List[FindingVerdict]:
    failing = list(outcome.result.failing)
    return failing + [v for v in outcome.result.verdicts if v.outcome != "fail"]


def _rule(verdict: FindingVerdict) -> Dict[str, Any]:
    f = verdict.finding
    cve = f.cve_id
    score = verdict.gate_score if verdict.gate_score is not None else f.cvss
    properties: Dict[str, Any] = {"tags": ["security", "vulnerability", f.scope]}
    if score is not None:
        properties["security-severity"] = f"{score:.1f}"
    description = f"{cve} ({verdict.gate_severity} severity" + (f", CVSS {score:.1f})" if score is not None else ")")
    return {
        "id": cve,
        "name": cve.replace("-", ""),
        "shortDescription": {"text": description},
        "fullDescription": {"text": f"{description}. See {nvd_url(cve)} for details."},
        "helpUri": nvd_url(cve),
        "help": {
            "text": f"{cve}: see {nvd_url(cve)}. Upgrade or patch the affected package, or record a waiver.",
            "markdown": f"[{cve}]({nvd_url(cve)}): upgrade or patch the affected package, or record a waiver.",
        },
        "properties": properties,
    }


def _result(verdict: FindingVerdict, index: int, uri: str, set_aside: Optional[str] = None) -> Dict[str, Any]:
    """`set_aside`: the kernel triage reason when kernel triage set the finding aside."""
    f = verdict.finding
    message = f"{f.package} {f.version} is affected by {f.cve_id} ({verdict.gate_severity}); {fix_text(f)}."
    detail = verdict_detail(verdict)
    if set_aside is not None:
        message = (f"{f.cve_id} in {f.package} {f.version} was set aside by kernel triage as not_affected "
                   f"(code_not_present): {set_aside}.")
    elif detail:
        message += f" Gate: {verdict.outcome} ({detail})."
    result: Dict[str, Any] = {
        "ruleId": f.cve_id,
        "ruleIndex": index,
        "level": _level(verdict),
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 1}},
                "logicalLocations": [{"name": f.package, "fullyQualifiedName": f"{f.package}@{f.version}", "kind": "module"}],
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: finding_fingerprint(f.package, f.cve_id)},
        "properties": {
            "package": f.package,
            "version": f.version,
            "category": f.category,
            "scope": f.scope,
            "gate": verdict.outcome,
        },
    }
    if verdict.outcome == "waived" and verdict.waiver is not None:
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": verdict_detail(verdict)}
        ]
    if set_aside is not None:
        result["level"] = "note"
        result["properties"]["gate"] = "set_aside"
        result["suppressions"] = [{"kind": "external", "status": "accepted",
                                   "justification": f"kernel triage, code_not_present: {set_aside}"}]
    return result


def _level(verdict: FindingVerdict) -> str:
    if verdict.outcome == "fail":
        return "error"
    return "warning" if verdict.gate_severity in ("high", "critical") else "note"

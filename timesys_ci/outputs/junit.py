"""JUnit XML: one test suite per report, one test case per finding.

Failing findings get `<failure>`; waived, ignored and filtered ones
`<skipped>` with the reason; a report without findings gets one passing case
so CI dashboards show the gate ran.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from timesys_ci.outputs.outcome import GateOutcome, fix_text, nvd_url, score_text, verdict_detail


def render_junit(outcome: GateOutcome) -> str:
    verdicts = outcome.result.verdicts
    failures = sum(1 for v in verdicts if v.outcome == "fail")
    skipped = sum(1 for v in verdicts if v.outcome in ("waived", "ignored", "filtered"))
    suite_name = f"timesys-ci: {outcome.title}"
    root = ET.Element("testsuites", name="timesys-ci", tests=str(max(len(verdicts), 1)),
                      failures=str(failures), errors="0", skipped=str(skipped))
    suite = ET.SubElement(root, "testsuite", name=suite_name, tests=str(max(len(verdicts), 1)),
                          failures=str(failures), errors="0", skipped=str(skipped))
    if outcome.summary.date:
        suite.set("timestamp", outcome.summary.date.rstrip("Z"))
    properties = ET.SubElement(suite, "properties")
    for name, value in (("manifest_token", outcome.summary.manifest_token),
                        ("report_token", outcome.summary.report_token),
                        ("report_url", outcome.summary.report_url),
                        ("fail_on", outcome.policy.fail_on),
                        ("packages_scanned", outcome.scanned.describe()),
                        ("baseline", outcome.baseline.describe() if outcome.baseline else None),
                        ("gate", outcome.gate)):
        if value:
            ET.SubElement(properties, "property", name=name, value=value)
    if not verdicts:
        ET.SubElement(suite, "testcase", classname=outcome.title, name="no vulnerabilities reported")
    for verdict in verdicts:
        f = verdict.finding
        case = ET.SubElement(suite, "testcase", classname=f.package, name=f"{f.cve_id} ({f.package} {f.version})")
        detail = verdict_detail(verdict)
        if verdict.outcome == "fail":
            failure = ET.SubElement(case, "failure", message=detail, type="vulnerability")
            failure.text = (
                f"{f.cve_id} in {f.package} {f.version}: {verdict.gate_severity} (score {score_text(verdict)}), "
                f"{f.category}, {f.scope}; {fix_text(f)}\n{nvd_url(f.cve_id)}"
            )
        elif verdict.outcome != "pass":
            ET.SubElement(case, "skipped", message=f"{verdict.outcome}: {detail}")
    ET.indent(root)  # readable for humans opening the file
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

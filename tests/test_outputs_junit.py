from __future__ import annotations

import xml.etree.ElementTree as ET

from .gate_helpers import contract_outcome
from timesys_ci.gate.evaluate import evaluate
from timesys_ci.gate.policy import GatePolicy
from timesys_ci.outputs import GateOutcome
from timesys_ci.outputs.junit import render_junit
from timesys_ci.report import parse_report
from .gate_helpers import TODAY


def test_a_case_per_finding() -> None:
    root = ET.fromstring(render_junit(contract_outcome()))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "timesys-ci: core-image-minimal"
    cases = suite.findall("testcase")
    assert len(cases) == 10 == int(suite.get("tests"))
    failed = [case for case in cases if case.find("failure") is not None]
    skipped = [case for case in cases if case.find("skipped") is not None]
    assert len(failed) == 4 == int(suite.get("failures"))
    assert len(skipped) == int(suite.get("skipped")) == 4  # waived 1, ignored 2, filtered 1
    busybox = next(case for case in cases if case.get("name").startswith("CVE-2022-48174"))
    assert busybox.get("classname") == "busybox"
    assert busybox.find("failure").get("message") == "severity critical >= high"
    waived = next(case for case in cases if case.get("name").startswith("CVE-2023-29491"))
    assert waived.find("skipped").get("message").startswith("waived: waived until 2027-01-31")
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["gate"] == "fail" and props["report_token"] == "RPT-2026-11-27-0002"


def test_no_findings_gives_one_passing_case() -> None:
    report = parse_report({"manifest_name": "clean-image", "cves": {}})
    outcome = GateOutcome(report.summary, evaluate(report.findings, GatePolicy(), today=TODAY), GatePolicy())
    suite = ET.fromstring(render_junit(outcome)).find("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 1 and list(cases[0]) == [] and suite.get("failures") == "0"

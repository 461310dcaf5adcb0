"""Shared helpers for the gate and output tests."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from timesys_ci.report import Finding

FIXTURES = Path(__file__).parent / "fixtures" / "gate"
TODAY = date(2026, 11, 27)


def finding(cve_id: str = "CVE-2024-0001", **fields: Any) -> Finding:
    """A finding with harmless defaults; override what the test is about."""
    values: dict = dict(
        package="openssl", version="3.2.3", cve_id=cve_id, category="unfixed", severity="medium",
        cvss=5.0, cvss_version="3.1", scope="userspace",
    )
    values.update(fields)
    return Finding(**values)


def contract_outcome(policy: Any = None, manifest_path: Any = "images/core-image-minimal.vigiles.json") -> Any:
    """The contract fixture report, evaluated: 4 failing, 1 waived, expired and unused waivers."""
    from timesys_ci.gate.evaluate import evaluate
    from timesys_ci.gate.policy import GatePolicy, Waiver
    from timesys_ci.outputs import GateOutcome
    from timesys_ci.report import load_report

    report = load_report(FIXTURES / "report-contract.json", base_url="https://vigiles.example.test")
    if policy is None:
        policy = GatePolicy(
            categories=("unfixed", "upgradable"),
            waivers=(
                Waiver(id="CVE-2023-29491", package="ncurses", reason="tic is not shipped", expires=date(2027, 1, 31)),
                Waiver(id="CVE-2022-37434", reason="inflateGetHeader unused", expires=date(2026, 6, 30)),
                Waiver(id="CVE-2099-0001", reason="old entry", expires=date(2027, 6, 30)),
            ),
        )
    return GateOutcome(report.summary, evaluate(report.findings, policy, today=TODAY), policy, manifest_path)

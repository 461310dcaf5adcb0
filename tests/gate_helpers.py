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

"""CVSS qualitative severity bands: the one place that turns a score into none/low/medium/high/critical."""
from __future__ import annotations

from typing import Optional


def is_cvss_v2(version: Optional[str]) -> bool:
    return bool(version) and str(version).strip().startswith("2")


def severity_for(score: Optional[float], version: Optional[str] = None) -> Optional[str]:
    """v3/v4 bands: none 0.0, low 0.1-3.9, medium 4.0-6.9, high 7.0-8.9, critical 9.0-10.0.

    v2 has no critical band (7.0-10.0 is high). None when there is no score.
    """
    if score is None:
        return None
    if score == 0:
        return "none"
    if score < 4.0:
        return "low"
    if score < 7.0:
        return "medium"
    if score < 9.0 or is_cvss_v2(version):
        return "high"
    return "critical"

"""The normalised vulnerability record the matcher and storage work on.

Independent of the feed it came from: :mod:`timesys_ci.vulndb.nvd` builds
these from NVD CVE API 2.0 JSON; ``to_json``/``from_json`` give a stable
plain-JSON form for storage.
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional

from timesys_ci.cvss import severity_for
from timesys_ci.vulndb.cpe import Cpe, parse_cpe

@dataclass(frozen=True)
class CvssScore:
    version: str
    score: float
    vector: str
    severity: Optional[str] = None


@dataclass(frozen=True)
class Reference:
    url: str
    tags: List[str] = field(default_factory=list)


@dataclass
class CpeMatch:
    """One ``cpeMatch`` criterion: a CPE pattern plus optional version bounds."""

    vulnerable: bool
    criteria: str
    version_start_including: Optional[str] = None
    version_start_excluding: Optional[str] = None
    version_end_including: Optional[str] = None
    version_end_excluding: Optional[str] = None

    @functools.cached_property
    def cpe(self) -> Cpe:
        # Parsed once per criterion: matching reads it for every probe.
        return parse_cpe(self.criteria)

    @property
    def is_platform(self) -> bool:
        """Hardware (``h``) criteria describe where software runs, not what is affected."""
        return self.cpe.part == "h"


@dataclass
class Node:
    operator: str = "OR"
    negate: bool = False
    matches: List[CpeMatch] = field(default_factory=list)


@dataclass
class Configuration:
    operator: str = "OR"
    negate: bool = False
    nodes: List[Node] = field(default_factory=list)


@dataclass
class VulnRecord:
    id: str
    description: str = ""
    published: Optional[str] = None
    last_modified: Optional[str] = None
    vuln_status: Optional[str] = None
    assigner: Optional[str] = None
    cvss_v2: Optional[CvssScore] = None
    cvss_v3: Optional[CvssScore] = None
    cvss_v4: Optional[CvssScore] = None
    cwes: List[str] = field(default_factory=list)
    references: List[Reference] = field(default_factory=list)
    kev: bool = False
    configurations: List[Configuration] = field(default_factory=list)

    @property
    def headline_cvss(self) -> Optional[CvssScore]:
        """The score a report shows: v3.x, else v4, else v2."""
        return self.cvss_v3 or self.cvss_v4 or self.cvss_v2

    @property
    def severity(self) -> Optional[str]:
        headline = self.headline_cvss
        return severity_for(headline.score) if headline else None

    def to_json(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "VulnRecord":
        values = dict(data)
        for key in ("cvss_v2", "cvss_v3", "cvss_v4"):
            if values.get(key) is not None:
                values[key] = CvssScore(**values[key])
        values["references"] = [Reference(**ref) for ref in values.get("references", [])]
        values["configurations"] = [
            Configuration(
                operator=config.get("operator", "OR"),
                negate=config.get("negate", False),
                nodes=[
                    Node(
                        operator=node.get("operator", "OR"),
                        negate=node.get("negate", False),
                        matches=[CpeMatch(**match) for match in node.get("matches", [])],
                    )
                    for node in config.get("nodes", [])
                ],
            )
            for config in values.get("configurations", [])
        ]
        return cls(**values)

"""Format-independent SBOM model shared by every reader and the scanner."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set


@dataclass
class Package:
    """One component as the vulnerability matcher sees it."""

    name: str
    version: str = "unset"
    cve_product: List[str] = field(default_factory=list)  # "vendor:product" or "product" tokens
    cve_version: Optional[str] = None
    cpe_ids: List[str] = field(default_factory=list)  # CPE 2.3 formatted strings or 2.2 URIs
    purl: Optional[str] = None
    patched_cves: Dict[str, List[str]] = field(default_factory=dict)  # CVE id -> patch names
    ignored_cves: List[str] = field(default_factory=list)
    component_type: List[str] = field(default_factory=list)
    license: Optional[str] = None
    key: Optional[str] = None  # the key the manifest stored it under, when it differs from name

    @property
    def match_version(self) -> str:
        """The version CVE ranges are checked against: cve_version, else version."""
        return self.cve_version or self.version


@dataclass(frozen=True)
class VulnerabilityStatement:
    """A VEX-like statement from the manifest (CycloneDX analysis states)."""

    id: str
    state: str  # resolved | resolved_with_pedigree | not_affected | exploitable | in_triage | …
    package: Optional[str] = None  # None: applies to every package
    justification: Optional[str] = None
    patches: tuple = ()


@dataclass
class Sbom:
    format: str
    manifest_name: Optional[str] = None
    distro: Optional[str] = None
    machine: Optional[str] = None
    packages: List[Package] = field(default_factory=list)
    whitelist: Set[str] = field(default_factory=set)
    vulnerabilities: List[VulnerabilityStatement] = field(default_factory=list)
    source: Optional[str] = None
    manifest_version: Optional[str] = None

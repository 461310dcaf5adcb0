"""The one SBOM model: every reader builds it, the scanner matches it, every export writes it.

A `Package` carries what the matcher needs (names, versions, CPEs, purl, the CVEs
the build patched or ignores) and what the SBOM exports describe (supplier,
checksums, download location, homepage, summary, licence). Readers leave a field
None or empty when the document does not say; `is_placeholder` is the one rule for
"says nothing" ("", UNKNOWN, NOASSERTION, ...). The properties at the end of
`Package` are the export view of a package: they never change what is matched.
(Which CPEs an export writes is `service/exports/components.py`'s: it builds them with
`vulndb.cpe`, which the model stays below.)
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Dict, List, Optional, Set, Tuple

if TYPE_CHECKING:
    from timesys_ci.sbom.licenses import DeclaredLicense

# Format ids of the documents the readers take (`Sbom.format`, the service's stored `sbom_format`).
VIGILES = "vigiles"
CYCLONEDX_JSON = "cyclonedx-json"
CYCLONEDX_XML = "cyclonedx-xml"
SPDX_JSON = "spdx-json"
SPDX_TAG = "spdx-tag"
SPDX3_JSONLD = "spdx3-jsonld"
SPDX_RDF = "spdx-rdf"  # recognised, not read
FORMAT_IDS = (VIGILES, CYCLONEDX_JSON, CYCLONEDX_XML, SPDX_JSON, SPDX_TAG, SPDX3_JSONLD, SPDX_RDF)

#: Values that say nothing: an SBOM field holding one of them (any case) is treated as absent.
PLACEHOLDERS = frozenset({"", "unknown", "none", "noassertion", "unset"})
_HEX = re.compile(r"^[0-9a-f]+$")
_CPE_SPLIT = re.compile(r"(?<!\\):")


def is_placeholder(value: Optional[str]) -> bool:
    return value is None or value.strip().lower() in PLACEHOLDERS


def known(value: Optional[str]) -> Optional[str]:
    """`value` stripped, or None when it is a placeholder."""
    return None if is_placeholder(value) else value.strip()  # type: ignore[union-attr]


def checksum(algorithm: Optional[str], digest: Optional[str]) -> Optional[Tuple[str, str]]:
    """(algorithm upper-case without dashes, lower-case hex digest): `SHA-256`, `sha256` and `SHA256` are one; None
    when either is missing or the digest is not hex."""
    name = (algorithm or "").strip().upper().replace("-", "").replace("_", "")
    value = (digest or "").strip().lower()
    return (name, value) if name and value and _HEX.match(value) else None


def cpe_vendor_product(cpe: str) -> Optional[Tuple[str, str]]:
    """(vendor, product) of a CPE 2.3 string or 2.2 URI; vendor "" when the CPE leaves it open."""
    if cpe.startswith("cpe:2.3:"):
        parts = _CPE_SPLIT.split(cpe[len("cpe:2.3:"):])
    elif cpe.startswith("cpe:/"):
        parts = cpe[len("cpe:/"):].split(":")
    else:
        return None
    if len(parts) < 3 or parts[2] in ("", "*", "-"):
        return None
    vendor = "" if parts[1] in ("", "*", "-") else parts[1]
    return vendor.replace("\\", ""), parts[2].replace("\\", "")


def cpe_products(name: str, cpe_ids: List[str]) -> List[str]:
    """``vendor:product`` (or ``product``) tokens of the CPEs; the package name when there are none."""
    tokens: Dict[str, None] = {}
    for cpe in cpe_ids:
        named = cpe_vendor_product(cpe)
        if named:
            tokens[f"{named[0]}:{named[1]}" if named[0] else named[1]] = None
    return list(tokens) or [name]


@dataclass
class Package:
    """One component of the SBOM."""

    name: str
    version: str = "unset"
    cve_product: List[str] = field(default_factory=list)  # "vendor:product" or "product" tokens
    cve_version: Optional[str] = None
    cpe_ids: List[str] = field(default_factory=list)  # CPE 2.3 formatted strings or 2.2 URIs
    purl: Optional[str] = None
    patched_cves: Dict[str, List[str]] = field(default_factory=dict)  # CVE id -> patch names
    ignored_cves: List[str] = field(default_factory=list)
    component_type: List[str] = field(default_factory=list)
    license: Optional[str] = None  # as the document wrote it; `declared_license` is its SPDX form
    key: Optional[str] = None  # the key the manifest stored it under, when it differs from name
    supplier: Optional[str] = None  # "Organization: OpenEmbedded ()", or a bare name
    download_location: Optional[str] = None
    checksums: Tuple[Tuple[str, str], ...] = ()  # see `checksum`
    homepage: Optional[str] = None
    summary: Optional[str] = None

    @property
    def match_version(self) -> str:
        """The version CVE ranges are checked against: cve_version, else version."""
        return self.cve_version or self.version

    # -- the export view ---------------------------------------------------------------------

    @property
    def stated_version(self) -> str:
        """The version an SBOM states for the package ("" when the document gave none)."""
        return known(self.version) or ""

    @property
    def ref(self) -> str:
        """`name@version`: the package's identity in the exports (CycloneDX bom-ref, report rows)."""
        return f"{self.name}@{self.stated_version}" if self.stated_version else self.name

    @property
    def package_url(self) -> str:
        """The purl in canonical form; `pkg:generic/NAME@VERSION` when there is none or it does not parse."""
        from timesys_ci.sbom.purl import canonical_purl, generic_purl

        return canonical_purl(self.purl) or generic_purl(self.name, self.stated_version)

    @property
    def declared_license(self) -> Optional["DeclaredLicense"]:
        """The licence as an SPDX expression, or None when the document asserts none."""
        from timesys_ci.sbom.licenses import declared_license

        return declared_license(self.license)

    @property
    def supplier_name(self) -> str:
        """The supplier without SPDX's `Organization:`/`Person:` prefix and `(email)` suffix."""
        text = self.supplier or ""
        match = re.match(r"^\s*(?:Organization|Person)\s*:\s*(.*?)\s*(?:\([^)]*\))?\s*$", text)
        return (match.group(1) if match else text).strip()


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
    distro_version: Optional[str] = None
    image: Optional[str] = None
    created: Optional[str] = None  # when the document says it was made (ISO 8601 as written)

    @property
    def title(self) -> str:
        """What the document describes: its name, else the image, else "sbom"."""
        return (known(self.manifest_name) or known(self.image) or "sbom").strip()

    def cve_statements(self) -> List[VulnerabilityStatement]:
        """Everything the SBOM says about CVEs other than patches, as statements: whitelisted CVEs (every package),
        each package's ignored CVEs (not affected) and the document's own statements, in that order."""
        statements = [VulnerabilityStatement(cve, "not_affected") for cve in sorted(self.whitelist)]
        statements += [VulnerabilityStatement(cve, "not_affected", package.name)
                       for package in self.packages for cve in package.ignored_cves]
        return statements + list(self.vulnerabilities)

    def fingerprint(self) -> str:
        """A digest of everything the SBOM says (not where it was read from): equal content, equal digest."""
        content = asdict(self)
        content.pop("source")
        content["whitelist"] = sorted(self.whitelist)
        text = json.dumps(content, sort_keys=True, default=str, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

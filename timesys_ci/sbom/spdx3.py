"""Reader for SPDX 3.0 JSON-LD documents (Yocto walnascar's create-spdx output).

``software_Package`` elements become packages (CPEs and purls from
``externalIdentifier``, ``software_packageUrl``); source packages and
entries with nothing to match on are skipped, and a recipe's binary
packages sharing one CPE fold into one package. VEX assessment
relationships become statements: fixed → resolved, not affected →
not_affected, tied to the packages they point ``to``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from timesys_ci.sbom.errors import SbomError
from timesys_ci.sbom.fields import Fields, loose_objects, loose_text
from timesys_ci.sbom.model import SPDX3_JSONLD, Package, Sbom, VulnerabilityStatement, is_placeholder
from timesys_ci.sbom.packages import make_package, merge_duplicates

_LICENSE_RELATIONSHIPS = ("hasConcludedLicense", "hasDeclaredLicense")  # the first one known wins
_CPE_TYPES = {"cpe22", "cpe23"}
_VEX_STATES = {
    "security_VexFixedVulnAssessmentRelationship": "resolved",
    "security_VexNotAffectedVulnAssessmentRelationship": "not_affected",
    "security_VexAffectedVulnAssessmentRelationship": "exploitable",
    "security_VexUnderInvestigationVulnAssessmentRelationship": "in_triage",
}


def _identifiers(element: Fields) -> Dict[str, List[str]]:
    """externalIdentifierType -> identifiers."""
    found: Dict[str, List[str]] = {}
    for index, raw in enumerate(element.objects("externalIdentifier")):
        identifier = element.at("externalIdentifier", index, raw)
        kind, value = identifier.text("externalIdentifierType"), identifier.text("identifier")
        if kind and value:
            found.setdefault(kind, []).append(value)
    return found


class _Graph:
    """What a package's description points at elsewhere in the graph: licences and suppliers."""

    def __init__(self, graph: List[Mapping[str, Any]]) -> None:
        by_id = {element.get("spdxId"): element for element in graph if isinstance(element.get("spdxId"), str)}
        self.licenses: Dict[str, Dict[str, str]] = {}  # package spdxId -> relationship type -> expression
        for element in graph:
            kind = element.get("relationshipType")
            if element.get("type") != "Relationship" or kind not in _LICENSE_RELATIONSHIPS:
                continue
            targets = element.get("to")
            for target in targets if isinstance(targets, list) else [targets]:
                expression = loose_text(by_id.get(target), "simplelicensing_licenseExpression")
                source = element.get("from")
                if expression and isinstance(source, str):
                    self.licenses.setdefault(source, {}).setdefault(kind, expression)
        self.names = {spdx_id: loose_text(element, "name") for spdx_id, element in by_id.items()}

    def license(self, spdx_id: Optional[str]) -> Optional[str]:
        found = self.licenses.get(spdx_id or "", {})
        return next((found[kind] for kind in _LICENSE_RELATIONSHIPS if not is_placeholder(found.get(kind))), None)

    def supplier(self, element: Mapping[str, Any]) -> Optional[str]:
        agent = element.get("suppliedBy")
        return self.names.get(agent) if isinstance(agent, str) else None


def _package(element: Fields, graph: _Graph) -> Optional[Package]:
    if element.text("software_primaryPurpose") == "source":
        return None
    name = element.text("name")
    if not name:
        raise SbomError(f"{element.path[:-1]} has no 'name'", element.source)
    identifiers = _identifiers(element)
    cpes = [cpe for kind in sorted(_CPE_TYPES) for cpe in identifiers.get(kind, [])]
    purl = element.text("software_packageUrl") or next(iter(identifiers.get("packageUrl", [])), None)
    version = element.text("software_packageVersion")
    if is_placeholder(version) and not cpes and not purl:
        return None
    raw = element.data
    return make_package(
        name=name, version=version, cpe_ids=cpes, purl=purl, license=graph.license(element.text("spdxId")),
        supplier=graph.supplier(raw),
        download_location=loose_text(raw, "software_downloadLocation"),
        checksums=[(loose_text(item, "algorithm"), loose_text(item, "hashValue")) for item in loose_objects(raw, "verifiedUsing")],
        homepage=loose_text(raw, "software_homePage"),
        summary=loose_text(raw, "summary") or loose_text(raw, "description"),
    )


def _vulnerability_id(element: Fields) -> str:
    cves = _identifiers(element).get("cve")
    if cves:
        return cves[0].upper()
    return (element.text("name") or (element.text("spdxId") or "").rsplit("/", 1)[-1]).upper()


def _targets(element: Fields) -> List[str]:
    value = element.data.get("to")
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise element.fail("to", "a string or a list of strings") if "to" in element.data else SbomError(
        f"{element.path[:-1]} has no 'to'", element.source
    )


def read_spdx3(document: Any, source: Optional[str] = None) -> Sbom:
    """Build an :class:`Sbom` from a decoded SPDX 3 JSON-LD document."""
    if not isinstance(document, dict):
        raise SbomError("SPDX 3 document must be a JSON object", source)
    top = Fields(document, "", source)
    graph = [(top.at("@graph", index, raw), raw) for index, raw in enumerate(top.objects("@graph"))]
    by_type: Dict[str, List[Fields]] = {}
    for element, raw in graph:
        by_type.setdefault(str(raw.get("type", "")), []).append(element)

    names: Dict[str, str] = {}  # spdxId -> package name
    found: List[Package] = []
    described = _Graph([raw for _, raw in graph])
    for element in by_type.get("software_Package", []):
        package = _package(element, described)
        if package is not None:
            found.append(package)
            names[element.text("spdxId") or package.name] = package.name
    packages, aliases = merge_duplicates(found)

    vulnerabilities = {element.text("spdxId"): _vulnerability_id(element) for element in by_type.get("security_Vulnerability", [])}
    statements: List[VulnerabilityStatement] = []
    for kind, state in _VEX_STATES.items():
        for element in by_type.get(kind, []):
            source_id = element.text("from") or ""
            vuln_id = vulnerabilities.get(source_id) or source_id.rsplit("/", 1)[-1].upper()
            justification = element.text("security_justificationType") or element.text("security_impactStatement")
            for target in _targets(element):
                if target in names:  # VEX about a skipped source entry has no package to apply to
                    name = aliases.get(names[target], names[target])
                    statements.append(VulnerabilityStatement(vuln_id, state, name, justification))
    documents = by_type.get("SpdxDocument", [])
    creation = by_type.get("CreationInfo", [])
    document_creation = next((info for info in creation if documents and info.data.get("@id") == documents[0].data.get("creationInfo")),
                             creation[0] if creation else None)
    return Sbom(
        format=SPDX3_JSONLD,
        manifest_name=documents[0].text("name") if documents else None,
        packages=packages,
        vulnerabilities=list(dict.fromkeys(statements)),
        source=source,
        manifest_version=creation[0].text("specVersion") if creation else None,
        created=loose_text(document_creation.data, "created") if document_creation else None,
    )

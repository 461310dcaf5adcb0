"""Reader for SPDX 3.0 JSON-LD documents (Yocto walnascar's create-spdx output).

``software_Package`` elements become packages (CPEs and purls from
``externalIdentifier``, ``software_packageUrl``); source packages and
entries with nothing to match on are skipped, and a recipe's binary
packages sharing one CPE fold into one package. VEX assessment
relationships become statements: fixed → resolved, not affected →
not_affected, tied to the packages they point ``to``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from timesys_ci.sbom.errors import SbomError
from timesys_ci.sbom.fields import Fields
from timesys_ci.sbom.model import Package, Sbom, VulnerabilityStatement
from timesys_ci.sbom.packages import is_placeholder, make_package, merge_duplicates

FORMAT_ID = "spdx3-jsonld"
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


def _package(element: Fields) -> Optional[Package]:
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
    return make_package(name=name, version=version, cpe_ids=cpes, purl=purl)


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
    for element in by_type.get("software_Package", []):
        package = _package(element)
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
    return Sbom(
        format=FORMAT_ID,
        manifest_name=documents[0].text("name") if documents else None,
        packages=packages,
        vulnerabilities=list(dict.fromkeys(statements)),
        source=source,
        manifest_version=creation[0].text("specVersion") if creation else None,
    )

"""Readers for SPDX 2.2/2.3 documents, JSON and tag-value.

A package's product is named by its ``cpe23Type``/``cpe22Type`` external
references and its ``purl``; Yocto's create-spdx writes the CVEs a recipe
patches into ``sourceInfo`` as ``CVEs fixed: CVE-… CVE-…``, which become
``patched_cves``. Entries with no version and no CPE or purl (Yocto's
download entries, a container image) identify nothing and are skipped;
the same product listed twice (a recipe and its binary package) is one
package. Relationships matter for one thing: a package the document
DESCRIBES that CONTAINS the document's other packages and names no CPE or
purl is the SBOM's subject (an image), not one of its packages.
SPDX 2 has no place for VEX: what this tool's SPDX exports say about CVEs
other than patches (not affected, ...) they write as annotations whose
comment starts with ``timesys-ci VEX:`` (`vex_comment`), read back here as
statements. The tag-value reader turns the text into the JSON shape first,
so both share one reader.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from timesys_ci.sbom.errors import SbomError
from timesys_ci.sbom.fields import Fields, loose_objects, loose_text
from timesys_ci.sbom.model import SPDX_JSON, SPDX_TAG, Package, Sbom, VulnerabilityStatement, is_placeholder, known
from timesys_ci.sbom.packages import make_package, merge_duplicates

VEX_PREFIX = "timesys-ci VEX: "
_VEX_COMMENT = re.compile(r"^timesys-ci VEX: (\S+) ([^()]+?)(?: \((.*)\))?$", re.DOTALL)
_CPE_TYPES = {"cpe23type", "cpe22type"}
_FIXED_CVES = re.compile(r"CVEs fixed:\s*((?:CVE-\d+-\d+[\s,]*)+)", re.IGNORECASE)
_CVE_ID = re.compile(r"CVE-\d+-\d+", re.IGNORECASE)


def _reference_type(value: str) -> str:
    # Yocto writes the full vocabulary URL (http://spdx.org/rdf/references/cpe23Type).
    return value.rstrip("/").rsplit("/", 1)[-1].lower()


def patched_from_source_info(text: Optional[str]) -> Dict[str, List[str]]:
    """CVE ids listed after ``CVEs fixed:`` (Yocto create-spdx), each with no patch names."""
    patched: Dict[str, List[str]] = {}
    for listed in _FIXED_CVES.finditer(text or ""):
        patched.update({cve.upper(): [] for cve in _CVE_ID.findall(listed.group(1))})
    return patched


def vex_comment(statement: VulnerabilityStatement) -> str:
    """The annotation comment that carries a statement: `timesys-ci VEX: CVE-2023-1234 not_affected (reason)`."""
    reason = f" ({statement.justification})" if statement.justification else ""
    return f"{VEX_PREFIX}{statement.id} {statement.state}{reason}"


def _vex_statements(annotated: Fields, package: Optional[str]) -> List[VulnerabilityStatement]:
    statements = []
    for annotation in loose_objects(annotated.data, "annotations"):
        found = _VEX_COMMENT.match((loose_text(annotation, "comment") or "").strip())
        if found:
            vuln_id, state, reason = found.groups()
            statements.append(VulnerabilityStatement(vuln_id.upper(), state.strip(), package, reason or None))
    return statements


def _package(fields: Fields) -> Optional[Package]:
    name = fields.text("name")
    if not name:
        raise SbomError(f"{fields.path[:-1]} has no 'name'", fields.source)
    cpes: List[str] = []
    purl: Optional[str] = None
    for index, raw in enumerate(fields.objects("externalRefs")):
        reference = fields.at("externalRefs", index, raw)
        kind = _reference_type(reference.text("referenceType") or "")
        locator = reference.text("referenceLocator")
        if not locator:
            continue
        if kind in _CPE_TYPES:
            cpes.append(locator)
        elif kind == "purl" and purl is None:
            purl = locator
    version = fields.text("versionInfo")
    if is_placeholder(version) and not cpes and not purl:
        return None
    declared = fields.text("licenseConcluded")
    return make_package(
        name=name,
        version=version,
        cpe_ids=cpes,
        purl=purl,
        patched_cves=patched_from_source_info(fields.text("sourceInfo")),
        license=fields.text("licenseDeclared") if is_placeholder(declared) else declared,
        supplier=loose_text(fields.data, "supplier"),
        download_location=loose_text(fields.data, "downloadLocation"),
        checksums=[(loose_text(item, "algorithm"), loose_text(item, "checksumValue"))
                   for item in loose_objects(fields.data, "checksums")],
        homepage=loose_text(fields.data, "homepage"),
        summary=loose_text(fields.data, "summary") or loose_text(fields.data, "description"),
    )


def read_spdx(document: Any, source: Optional[str] = None, format_id: str = SPDX_JSON) -> Sbom:
    """Build an :class:`Sbom` from a decoded SPDX 2 JSON document (or the tag-value reader's equivalent)."""
    if not isinstance(document, dict):
        raise SbomError("SPDX document must be a JSON object", source)
    top = Fields(document, "", source)
    found: List[Package] = []
    statements = _vex_statements(top, None)
    subjects = _subjects(top)
    subject_version: Optional[str] = None
    for index, raw in enumerate(top.objects("packages")):
        fields = top.at("packages", index, raw)
        package = _package(fields)
        if package is not None and raw.get("SPDXID") in subjects and not package.cpe_ids and not package.purl:
            subject_version = subject_version or known(package.version)
        elif package is not None:  # VEX about an entry that identifies nothing has no package to apply to
            found.append(package)
            statements += _vex_statements(fields, package.name)
    packages, aliases = merge_duplicates(found)
    return Sbom(
        format=format_id,
        manifest_name=top.text("name"),
        packages=packages,
        vulnerabilities=[VulnerabilityStatement(stmt.id, stmt.state, aliases.get(stmt.package, stmt.package),
                                                stmt.justification) if stmt.package in aliases else stmt
                         for stmt in statements],
        source=source,
        manifest_version=top.text("spdxVersion"),
        distro_version=subject_version,
        created=loose_text(top.data.get("creationInfo"), "created"),
    )


def _subjects(top: Fields) -> set:
    """SPDX ids of the packages the document describes that contain other packages of the document."""
    relationships = loose_objects(top.data, "relationships")
    document_id = loose_text(top.data, "SPDXID") or "SPDXRef-DOCUMENT"
    described = set(top.words("documentDescribes")) | {
        item.get("relatedSpdxElement") for item in relationships
        if item.get("relationshipType") == "DESCRIBES" and item.get("spdxElementId") == document_id}
    local = {item.get("SPDXID") for item in loose_objects(top.data, "packages")}
    containers = {item.get("spdxElementId") for item in relationships
                  if item.get("relationshipType") == "CONTAINS" and item.get("relatedSpdxElement") in local}
    return described & containers


# -- tag-value ---------------------------------------------------------------------------------

_TAG_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9]*)\s*:\s?(.*)$")
_PACKAGE_TAGS = {
    "PackageVersion": "versionInfo",
    "PackageSourceInfo": "sourceInfo",
    "PackageLicenseConcluded": "licenseConcluded",
    "PackageLicenseDeclared": "licenseDeclared",
    "PackageSupplier": "supplier",
    "PackageDownloadLocation": "downloadLocation",
    "PackageHomePage": "homepage",
    "PackageSummary": "summary",
    "PackageDescription": "description",
}
# Tags that open a section other than a package: what follows no longer describes the package.
_SECTION_TAGS = {"FileName", "SnippetSPDXID", "LicenseID"}
_ANNOTATION_TAGS = {"SPDXREF": "element", "AnnotationComment": "comment", "AnnotationDate": "date",
                    "AnnotationType": "type"}


def _tag_values(text: str, source: Optional[str]) -> List[tuple]:
    """(line number, tag, value) for each tag, with ``<text>…</text>`` values joined across lines."""
    values = []
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        match = _TAG_LINE.match(line.strip())
        if not match:
            continue
        tag, value, start = match.group(1), match.group(2).strip(), number
        if value.startswith("<text>"):
            collected = [value[len("<text>"):]]
            while "</text>" not in collected[-1]:
                if number >= len(lines):
                    raise SbomError(f"line {start}: {tag} <text> is never closed with </text>", source)
                collected.append(lines[number])
                number += 1
            value = "\n".join(collected).split("</text>", 1)[0].strip()
        values.append((start, tag, value))
    return values


def spdx_tag_document(text: str, source: Optional[str] = None) -> Dict[str, Any]:
    """The SPDX 2 JSON shape (name, spdxVersion, packages, annotations) of a tag-value document."""
    document: Dict[str, Any] = {"packages": []}
    package: Optional[Dict[str, Any]] = None
    annotations: List[Dict[str, str]] = []  # each with the SPDXREF it annotates
    annotation: Optional[Dict[str, str]] = None
    for line, tag, value in _tag_values(text, source):
        if tag == "Annotator":  # opens an annotation section: it ends the package
            annotation, package = {}, None
            annotations.append(annotation)
            continue
        if tag in _ANNOTATION_TAGS:
            if annotation is not None:
                annotation[_ANNOTATION_TAGS[tag]] = value
            continue
        annotation = None
        if tag == "SPDXVersion":
            document["spdxVersion"] = value
        elif tag == "DocumentName":
            document["name"] = value
        elif tag == "Created":
            document["creationInfo"] = {"created": value}
        elif tag == "SPDXID" and package is None and "SPDXID" not in document:
            document["SPDXID"] = value
        elif tag == "PackageName":
            package = {"name": value, "externalRefs": []}
            document["packages"].append(package)
        elif tag == "Relationship":  # a section of its own: it ends the package
            package = None
            if len(value.split()) == 3:
                element, kind, related = value.split()
                document.setdefault("relationships", []).append(
                    {"spdxElementId": element, "relationshipType": kind, "relatedSpdxElement": related})
        elif tag in _SECTION_TAGS:
            package = None
        elif package is None:
            continue
        elif tag == "SPDXID":
            package["SPDXID"] = value
        elif tag in _PACKAGE_TAGS:
            package[_PACKAGE_TAGS[tag]] = value
        elif tag == "PackageChecksum":  # "SHA256: 52b5..."
            algorithm, _, digest = value.partition(":")
            package.setdefault("checksums", []).append({"algorithm": algorithm.strip(), "checksumValue": digest.strip()})
        elif tag == "ExternalRef":
            parts = value.split(None, 2)
            if len(parts) != 3:
                raise SbomError(f"line {line}: ExternalRef must be 'CATEGORY TYPE LOCATOR', got {value!r}", source)
            package["externalRefs"].append(
                {"referenceCategory": parts[0], "referenceType": parts[1], "referenceLocator": parts[2]}
            )
    if "spdxVersion" not in document:
        raise SbomError("SPDX tag-value document has no SPDXVersion line", source)
    by_id = {package.get("SPDXID"): package for package in document["packages"]}
    for item in annotations:
        annotated = by_id.get(item.get("element")) if item.get("element") != document.get("SPDXID") else document
        if annotated is not None:
            annotated.setdefault("annotations", []).append({"comment": item.get("comment", "")})
    return document


def read_spdx_tag(text: str, source: Optional[str] = None) -> Sbom:
    """Build an :class:`Sbom` from SPDX 2 tag-value text."""
    return read_spdx(spdx_tag_document(text, source), source, SPDX_TAG)

"""Readers for SPDX 2.2/2.3 documents, JSON and tag-value.

A package's product is named by its ``cpe23Type``/``cpe22Type`` external
references and its ``purl``; Yocto's create-spdx writes the CVEs a recipe
patches into ``sourceInfo`` as ``CVEs fixed: CVE-… CVE-…``, which become
``patched_cves``. Entries with no version and no CPE or purl (Yocto's
download entries, a container image) identify nothing and are skipped;
the same product listed twice (a recipe and its binary package) is one
package. ``relationships`` are not needed for matching and are ignored.
The tag-value reader turns the text into the JSON shape first, so both
share one reader.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from timesys_ci.sbom.errors import SbomError
from timesys_ci.sbom.fields import Fields, loose_objects, loose_text
from timesys_ci.sbom.model import SPDX_JSON, SPDX_TAG, Package, Sbom, is_placeholder
from timesys_ci.sbom.packages import make_package, merge_duplicates

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
    found = [
        package
        for index, raw in enumerate(top.objects("packages"))
        for package in [_package(top.at("packages", index, raw))]
        if package is not None
    ]
    packages, _ = merge_duplicates(found)
    return Sbom(
        format=format_id,
        manifest_name=top.text("name"),
        packages=packages,
        source=source,
        manifest_version=top.text("spdxVersion"),
        created=loose_text(top.data.get("creationInfo"), "created"),
    )


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
_SECTION_TAGS = {"FileName", "SnippetSPDXID", "LicenseID", "Relationship", "Annotator"}


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
    """The SPDX 2 JSON shape (name, spdxVersion, packages) of a tag-value document."""
    document: Dict[str, Any] = {"packages": []}
    package: Optional[Dict[str, Any]] = None
    for line, tag, value in _tag_values(text, source):
        if tag == "SPDXVersion":
            document["spdxVersion"] = value
        elif tag == "DocumentName":
            document["name"] = value
        elif tag == "Created":
            document["creationInfo"] = {"created": value}
        elif tag == "PackageName":
            package = {"name": value, "externalRefs": []}
            document["packages"].append(package)
        elif tag in _SECTION_TAGS:
            package = None
        elif package is None:
            continue
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
    return document


def read_spdx_tag(text: str, source: Optional[str] = None) -> Sbom:
    """Build an :class:`Sbom` from SPDX 2 tag-value text."""
    return read_spdx(spdx_tag_document(text, source), source, SPDX_TAG)

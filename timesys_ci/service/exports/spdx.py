"""SPDX 2.2 / 2.3 documents of an uploaded SBOM: JSON, tag-value, and the tag-value "lite" profile.

The document describes one root package (the image) which CONTAINS every
SBOM package. Concluded licences are NOASSERTION (nobody concluded
anything); declared licences come from the SBOM's licence of each package.
The CVEs the build patched are written the way Yocto's create-spdx writes
them (`sourceInfo`: "CVEs fixed: ..."), which the SPDX reader takes back.
"""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from timesys.core.choices import DEFAULT_SPDX_VERSION, SPDX_VERSIONS
from timesys.core.version import TOOL_NAME, tool_version
from timesys_ci.sbom.model import Package, Sbom
from timesys_ci.sbom.spdx import vex_comment

from .components import cpe_names, packages_named, sbom_packages
from .errors import ExportError

NOASSERTION = "NOASSERTION"
JSON_MEDIA_TYPE = "application/spdx+json"
TAG_MEDIA_TYPE = "text/spdx; charset=utf-8"

_ALGORITHMS = {
    "2.2": {"SHA1", "SHA224", "SHA256", "SHA384", "SHA512", "MD2", "MD4", "MD5", "MD6"},
    "2.3": {"SHA1", "SHA224", "SHA256", "SHA384", "SHA512", "MD2", "MD4", "MD5", "MD6", "SHA3256", "SHA3384", "SHA3512"},
}
_SPDX_ALGORITHM_NAME = {"SHA3256": "SHA3-256", "SHA3384": "SHA3-384", "SHA3512": "SHA3-512"}
_NAMESPACE_ROOT = "https://spdx.org/spdxdocs/"
_NAMESPACE_UUID = uuid.uuid5(uuid.NAMESPACE_OID, "timesys-ci.spdx.namespace")
_DOCUMENT_ID = "SPDXRef-DOCUMENT"
_ROOT_ID = "SPDXRef-Image"


def check_version(version: Optional[str]) -> str:
    chosen = version or DEFAULT_SPDX_VERSION
    if chosen not in SPDX_VERSIONS:
        raise ExportError(f"unsupported sbom_version {version!r} for SPDX: expected one of {', '.join(SPDX_VERSIONS)}")
    return chosen


@dataclass(frozen=True)
class _Package:
    spdx_id: str
    package: Package
    checksums: tuple[tuple[str, str], ...]


def _namespace(sbom: Sbom, timestamp: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", sbom.title) or "sbom"
    return f"{_NAMESPACE_ROOT}{name}-{uuid.uuid5(_NAMESPACE_UUID, sbom.fingerprint() + timestamp)}"


def _packages(sbom: Sbom, version: str) -> list[_Package]:
    packages: list[_Package] = []
    used: set[str] = set()
    for package in sbom_packages(sbom):
        base = "SPDXRef-Package-" + (re.sub(r"[^A-Za-z0-9.-]+", "-", f"{package.name}-{package.stated_version}").strip("-") or "unnamed")
        spdx_id, number = base, 2
        while spdx_id in used:  # names that differ only in punctuation map to the same id
            spdx_id, number = f"{base}-{number}", number + 1
        used.add(spdx_id)
        checksums = tuple(pair for pair in package.checksums if pair[0] in _ALGORITHMS[version])
        packages.append(_Package(spdx_id, package, checksums))
    return packages


def _supplier(package: Package) -> str:
    supplier = package.supplier or ""
    if re.match(r"^(Organization|Person)\s*:", supplier):
        return supplier
    return f"Organization: {supplier}" if supplier else NOASSERTION


def _purl_category(version: str) -> str:
    return "PACKAGE-MANAGER" if version == "2.2" else "PACKAGE_MANAGER"


def _extracted_licenses(packages: Sequence[_Package]) -> list[dict[str, str]]:
    """Every `LicenseRef-` the packages use, declared once with the licence name the build wrote."""
    seen: dict[str, str] = {}
    for package in packages:
        declared = package.package.declared_license
        if declared:
            for ref, name in declared.references.items():
                seen.setdefault(ref, name)
    return [
        {"licenseId": ref, "name": name, "extractedText": f"The build declared the licence as: {name}"}
        for ref, name in seen.items()
    ]


def spdx_json(sbom: Sbom, version: str, timestamp: str) -> bytes:
    version = check_version(version)
    packages = _packages(sbom, version)
    image = sbom.title
    root: dict[str, Any] = {
        "name": image,
        "SPDXID": _ROOT_ID,
        "versionInfo": (sbom.distro_version or "").strip() or None,
        "supplier": NOASSERTION,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": False,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": NOASSERTION,
        "copyrightText": NOASSERTION,
    }
    if version == "2.3":
        root["primaryPackagePurpose"] = "OPERATING-SYSTEM"
    document: dict[str, Any] = {
        "spdxVersion": f"SPDX-{version}",
        "dataLicense": "CC0-1.0",
        "SPDXID": _DOCUMENT_ID,
        "name": image,
        "documentNamespace": _namespace(sbom, timestamp),
        "creationInfo": {"created": timestamp, "creators": [f"Tool: {TOOL_NAME}-{tool_version()}"]},
        "documentDescribes": [_ROOT_ID],
        "packages": [{key: value for key, value in root.items() if value is not None}],
        "relationships": [{"spdxElementId": _DOCUMENT_ID, "relationshipType": "DESCRIBES", "relatedSpdxElement": _ROOT_ID}],
    }
    annotations = _vex_annotations(sbom, packages, timestamp)
    if annotations.get(_DOCUMENT_ID):
        document["annotations"] = annotations[_DOCUMENT_ID]
    for package in packages:
        item = _package_json(package, version)
        if annotations.get(package.spdx_id):
            item["annotations"] = annotations[package.spdx_id]
        document["packages"].append(item)
        document["relationships"].append(
            {"spdxElementId": _ROOT_ID, "relationshipType": "CONTAINS", "relatedSpdxElement": package.spdx_id}
        )
    extracted = _extracted_licenses(packages)
    if extracted:
        document["hasExtractedLicensingInfos"] = extracted
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def _vex_annotations(sbom: Sbom, packages: Sequence[_Package], timestamp: str) -> dict[str, list[dict[str, str]]]:
    """SPDX id -> the annotations carrying the SBOM's statements about CVEs (`Sbom.cve_statements`): the document's
    for statements about every package, each package's for its own. A statement about a package the document does
    not list is left out rather than widened to every package."""
    spdx_ids = {package.package.ref: package.spdx_id for package in packages}  # refs are unique in the document
    ids_of = {name: [spdx_ids[package.ref] for package in named]
              for name, named in packages_named([entry.package for entry in packages]).items()}
    annotations: dict[str, list[dict[str, str]]] = {}
    for statement in sbom.cve_statements():
        for spdx_id in ids_of.get(statement.package, []) if statement.package is not None else [_DOCUMENT_ID]:
            comment = vex_comment(statement)
            listed = annotations.setdefault(spdx_id, [])
            if all(item["comment"] != comment for item in listed):
                listed.append({"annotationDate": timestamp, "annotationType": "REVIEW",
                               "annotator": f"Tool: {TOOL_NAME}-{tool_version()}", "comment": comment})
    return annotations


def _package_json(entry: _Package, version: str) -> dict[str, Any]:
    package = entry.package
    item: dict[str, Any] = {"name": package.name, "SPDXID": entry.spdx_id}
    if package.stated_version:
        item["versionInfo"] = package.stated_version
    item["supplier"] = _supplier(package)
    item["downloadLocation"] = package.download_location or NOASSERTION
    item["filesAnalyzed"] = False
    if package.homepage:
        item["homepage"] = package.homepage
    if entry.checksums:
        item["checksums"] = [
            {"algorithm": _SPDX_ALGORITHM_NAME.get(algorithm, algorithm), "checksumValue": digest}
            for algorithm, digest in entry.checksums
        ]
    if package.patched_cves:
        item["sourceInfo"] = "CVEs fixed: " + " ".join(sorted(package.patched_cves))
    declared = package.declared_license
    item["licenseConcluded"] = NOASSERTION
    item["licenseDeclared"] = declared.expression if declared else NOASSERTION
    item["copyrightText"] = NOASSERTION
    if package.summary:
        item["summary"] = package.summary
    references = [
        {"referenceCategory": "SECURITY", "referenceType": "cpe23Type", "referenceLocator": cpe}
        for cpe in cpe_names(package)
        if cpe.startswith("cpe:2.3:")
    ]
    references.extend(
        {"referenceCategory": "SECURITY", "referenceType": "cpe22Type", "referenceLocator": cpe}
        for cpe in cpe_names(package)
        if cpe.startswith("cpe:/")
    )
    references.append({"referenceCategory": _purl_category(version), "referenceType": "purl",
                       "referenceLocator": package.package_url})
    if references:
        item["externalRefs"] = references
    if version == "2.3":
        item["primaryPackagePurpose"] = "LIBRARY"
    return item


def spdx_tag_value(sbom: Sbom, version: str, timestamp: str, *, lite: bool = False) -> bytes:
    """Tag-value text; `lite` keeps only the fields of the SPDX Lite profile."""
    document = json.loads(spdx_json(sbom, version, timestamp))
    lines = [
        f"SPDXVersion: {document['spdxVersion']}",
        f"DataLicense: {document['dataLicense']}",
        f"SPDXID: {document['SPDXID']}",
        f"DocumentName: {_single_line(document['name'])}",
        f"DocumentNamespace: {document['documentNamespace']}",
    ]
    lines.extend(f"Creator: {creator}" for creator in document["creationInfo"]["creators"])
    lines.append(f"Created: {document['creationInfo']['created']}")
    for package in document["packages"]:
        lines.append("")
        lines.append(f"PackageName: {_single_line(package['name'])}")
        lines.append(f"SPDXID: {package['SPDXID']}")
        if "versionInfo" in package:
            lines.append(f"PackageVersion: {_single_line(package['versionInfo'])}")
        lines.append(f"PackageSupplier: {_single_line(package['supplier'])}")
        lines.append(f"PackageDownloadLocation: {package['downloadLocation']}")
        lines.append(f"FilesAnalyzed: {'true' if package['filesAnalyzed'] else 'false'}")
        if not lite:
            lines.extend(f"PackageChecksum: {item['algorithm']}: {item['checksumValue']}" for item in package.get("checksums", []))
        if "homepage" in package:
            lines.append(f"PackageHomePage: {package['homepage']}")
        if "sourceInfo" in package and not lite:
            lines.append(f"PackageSourceInfo: <text>{_text_block(package['sourceInfo'])}</text>")
        lines.append(f"PackageLicenseConcluded: {package['licenseConcluded']}")
        lines.append(f"PackageLicenseDeclared: {package['licenseDeclared']}")
        lines.append(f"PackageCopyrightText: {package['copyrightText']}")
        if not lite:
            if "summary" in package:
                lines.append(f"PackageSummary: <text>{_text_block(package['summary'])}</text>")
            if "primaryPackagePurpose" in package:
                lines.append(f"PrimaryPackagePurpose: {package['primaryPackagePurpose']}")
            lines.extend(
                f"ExternalRef: {ref['referenceCategory']} {ref['referenceType']} {ref['referenceLocator']}"
                for ref in package.get("externalRefs", [])
            )
    lines.append("")
    lines.extend(
        f"Relationship: {item['spdxElementId']} {item['relationshipType']} {item['relatedSpdxElement']}"
        for item in document["relationships"]
    )
    annotated = [(document["SPDXID"], item) for item in document.get("annotations", [])]
    annotated += [(package["SPDXID"], item) for package in document["packages"] for item in package.get("annotations", [])]
    for spdx_id, item in annotated if not lite else []:
        lines.append("")
        lines.append(f"Annotator: {item['annotator']}")
        lines.append(f"AnnotationDate: {item['annotationDate']}")
        lines.append(f"AnnotationType: {item['annotationType']}")
        lines.append(f"SPDXREF: {spdx_id}")
        lines.append(f"AnnotationComment: <text>{_text_block(item['comment'])}</text>")
    for extracted in document.get("hasExtractedLicensingInfos", []):
        lines.append("")
        lines.append(f"LicenseID: {extracted['licenseId']}")
        lines.append(f"ExtractedText: <text>{_text_block(extracted['extractedText'])}</text>")
        lines.append(f"LicenseName: {_single_line(extracted['name'])}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _single_line(value: str) -> str:
    return " ".join(str(value).split())


def _text_block(value: str) -> str:
    return str(value).replace("</text>", "< /text>")  # the only sequence that would end the block early

"""SPDX 2.2 / 2.3 documents of a manifest: JSON, tag-value, and the tag-value "lite" profile.

The document describes one root package (the image) which CONTAINS every
manifest package. Concluded licences are NOASSERTION (nobody concluded
anything); declared licences come from the manifest `license`.
"""
from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

from .components import Component, manifest_components
from .errors import ExportError
from .tool import TOOL_NAME, tool_version

VERSIONS = ("2.2", "2.3")
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
    chosen = version or "2.3"
    if chosen not in VERSIONS:
        raise ExportError(f"unsupported sbom_version {version!r} for SPDX: expected one of {', '.join(VERSIONS)}")
    return chosen


@dataclass(frozen=True)
class _Package:
    spdx_id: str
    component: Component
    checksums: tuple[tuple[str, str], ...]


def _image_name(manifest: Mapping[str, Any]) -> str:
    return str(manifest.get("manifest_name") or manifest.get("image") or "sbom").strip()


def _namespace(manifest: Mapping[str, Any], timestamp: str) -> str:
    seed = json.dumps(manifest, sort_keys=True, default=str) + timestamp
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", _image_name(manifest)) or "sbom"
    return f"{_NAMESPACE_ROOT}{name}-{uuid.uuid5(_NAMESPACE_UUID, seed)}"


def _packages(manifest: Mapping[str, Any], version: str) -> list[_Package]:
    packages: list[_Package] = []
    used: set[str] = set()
    for component in manifest_components(manifest):
        base = "SPDXRef-Package-" + (re.sub(r"[^A-Za-z0-9.-]+", "-", f"{component.name}-{component.version}").strip("-") or "unnamed")
        spdx_id, number = base, 2
        while spdx_id in used:  # names that differ only in punctuation map to the same id
            spdx_id, number = f"{base}-{number}", number + 1
        used.add(spdx_id)
        checksums = tuple(pair for pair in component.checksums if pair[0] in _ALGORITHMS[version])
        packages.append(_Package(spdx_id, component, checksums))
    return packages


def _supplier(component: Component) -> str:
    if re.match(r"^(Organization|Person)\s*:", component.supplier):
        return component.supplier
    return f"Organization: {component.supplier}" if component.supplier else NOASSERTION


def _purl_category(version: str) -> str:
    return "PACKAGE-MANAGER" if version == "2.2" else "PACKAGE_MANAGER"


def _extracted_licenses(packages: Sequence[_Package]) -> list[dict[str, str]]:
    """Every `LicenseRef-` the packages use, declared once with the licence name the build wrote."""
    seen: dict[str, str] = {}
    for package in packages:
        if package.component.license:
            for ref, name in package.component.license.references.items():
                seen.setdefault(ref, name)
    return [
        {"licenseId": ref, "name": name, "extractedText": f"The build declared the licence as: {name}"}
        for ref, name in seen.items()
    ]


def spdx_json(manifest: Mapping[str, Any], version: str, timestamp: str) -> bytes:
    version = check_version(version)
    packages = _packages(manifest, version)
    image = _image_name(manifest)
    root: dict[str, Any] = {
        "name": image,
        "SPDXID": _ROOT_ID,
        "versionInfo": str(manifest.get("distro_version") or "") or None,
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
        "documentNamespace": _namespace(manifest, timestamp),
        "creationInfo": {"created": timestamp, "creators": [f"Tool: {TOOL_NAME}-{tool_version()}"]},
        "documentDescribes": [_ROOT_ID],
        "packages": [{key: value for key, value in root.items() if value is not None}],
        "relationships": [{"spdxElementId": _DOCUMENT_ID, "relationshipType": "DESCRIBES", "relatedSpdxElement": _ROOT_ID}],
    }
    for package in packages:
        document["packages"].append(_package_json(package, version))
        document["relationships"].append(
            {"spdxElementId": _ROOT_ID, "relationshipType": "CONTAINS", "relatedSpdxElement": package.spdx_id}
        )
    extracted = _extracted_licenses(packages)
    if extracted:
        document["hasExtractedLicensingInfos"] = extracted
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def _package_json(package: _Package, version: str) -> dict[str, Any]:
    component = package.component
    item: dict[str, Any] = {"name": component.name, "SPDXID": package.spdx_id}
    if component.version:
        item["versionInfo"] = component.version
    item["supplier"] = _supplier(component)
    item["downloadLocation"] = component.download_location or NOASSERTION
    item["filesAnalyzed"] = False
    if component.homepage:
        item["homepage"] = component.homepage
    if package.checksums:
        item["checksums"] = [
            {"algorithm": _SPDX_ALGORITHM_NAME.get(algorithm, algorithm), "checksumValue": digest}
            for algorithm, digest in package.checksums
        ]
    item["licenseConcluded"] = NOASSERTION
    item["licenseDeclared"] = component.license_expression or NOASSERTION
    item["copyrightText"] = NOASSERTION
    if component.summary:
        item["summary"] = component.summary
    references = [
        {"referenceCategory": "SECURITY", "referenceType": "cpe23Type", "referenceLocator": cpe}
        for cpe in component.cpes
        if cpe.startswith("cpe:2.3:")
    ]
    references.extend(
        {"referenceCategory": "SECURITY", "referenceType": "cpe22Type", "referenceLocator": cpe}
        for cpe in component.cpes
        if cpe.startswith("cpe:/")
    )
    if component.purl:
        references.append({"referenceCategory": _purl_category(version), "referenceType": "purl", "referenceLocator": component.purl})
    if references:
        item["externalRefs"] = references
    if version == "2.3":
        item["primaryPackagePurpose"] = "LIBRARY"
    return item


def spdx_tag_value(manifest: Mapping[str, Any], version: str, timestamp: str, *, lite: bool = False) -> bytes:
    """Tag-value text; `lite` keeps only the fields of the SPDX Lite profile."""
    document = json.loads(spdx_json(manifest, version, timestamp))
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

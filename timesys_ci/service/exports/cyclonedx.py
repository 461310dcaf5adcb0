"""CycloneDX documents: the VEX exports of a report and the SBOM conversion of a manifest.

The document is built once as the JSON object model; `cyclonedx_xml` turns the
same object into XML, so both encodings always carry the same content.
Spec versions 1.4 to 1.7 differ here only in the `metadata.tools` form and in
the rating methods they know (CVSSv4 arrived in 1.5).
"""
from __future__ import annotations

import json
import uuid
from typing import Any, Iterable, Mapping, Optional, Sequence

from timesys_ci.report import Finding, ReportSummary, severity_from_score

from .components import Component, ComponentIndex, manifest_components
from .cyclonedx_xml import bom_to_xml
from .errors import ExportError
from .licenses import DeclaredLicense
from .tool import TOOL_NAME, tool_version

VERSIONS = ("1.4", "1.5", "1.6", "1.7")
FILE_FORMATS = ("json", "xml")

_SERIAL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_OID, "timesys-ci.cyclonedx.serial")
_STATES = ("resolved", "resolved_with_pedigree", "exploitable", "in_triage", "false_positive", "not_affected")
_STATE_ALIASES = {
    "affected": "exploitable",
    "fixed": "resolved",
    "under_investigation": "in_triage",
    "whitelisted": "not_affected",
}
_JUSTIFICATIONS = (
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
)
_CATEGORY_STATE = {
    "unfixed": "exploitable",
    "unapplied": "exploitable",
    "upgradable": "exploitable",
    "fixed": "resolved",
    "whitelisted": "not_affected",
}
_HASH_ALGORITHMS = {"MD5": "MD5", "SHA1": "SHA-1", "SHA256": "SHA-256", "SHA384": "SHA-384", "SHA512": "SHA-512"}


def check_options(file_format: Optional[str], version: Optional[str], *, option_names: tuple[str, str]) -> tuple[str, str]:
    """Validated (file format, spec version); None means json / 1.6."""
    chosen_format = (file_format or "json").lower()
    chosen_version = version or "1.6"
    if chosen_format not in FILE_FORMATS:
        raise ExportError(f"unsupported {option_names[0]} {file_format!r}: expected one of {', '.join(FILE_FORMATS)}")
    if chosen_version not in VERSIONS:
        raise ExportError(f"unsupported {option_names[1]} {version!r}: expected one of {', '.join(VERSIONS)}")
    return chosen_format, chosen_version


def media_type(file_format: str, version: str) -> str:
    return f"application/vnd.cyclonedx+{file_format}; version={version}"


def serialize(bom: Mapping[str, Any], file_format: str, version: str) -> bytes:
    if file_format == "xml":
        return bom_to_xml(bom, version)
    return json.dumps(bom, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def serial_number(seed: str) -> str:
    """A stable `urn:uuid:` for the document identified by `seed`."""
    return f"urn:uuid:{uuid.uuid5(_SERIAL_NAMESPACE, seed)}"


def vex_bom(
    info: ReportSummary,
    rows: Sequence[Finding],
    manifest: Mapping[str, Any],
    version: str,
    *,
    with_components: bool,
) -> dict[str, Any]:
    """The `cyclonedx-vex` (vulnerabilities only) or `cyclonedx-sbom-vex` (plus components) document."""
    kind = "sbom-vex" if with_components else "vex"
    token = info.report_token or info.manifest_token or info.date
    if not token:
        raise ExportError("report: field 'report_token' is missing (needed for the CycloneDX serial number)")
    index = ComponentIndex(manifest_components(manifest) if with_components else [])
    refs = [index.resolve(row.package, row.version).ref for row in rows]
    bom = _document(version, serial_number(f"report:{token}:{kind}"), info.date, manifest)
    if with_components:
        bom["components"] = [component_json(component, version) for component in index.components]
    bom["vulnerabilities"] = [_vulnerability(row, ref, version) for row, ref in zip(rows, refs)]
    return bom


def sbom_bom(manifest: Mapping[str, Any], version: str, timestamp: str) -> dict[str, Any]:
    """The manifest as a CycloneDX SBOM (components only)."""
    components = manifest_components(manifest)
    seed = json.dumps(manifest, sort_keys=True, default=str) + timestamp
    bom = _document(version, serial_number(f"manifest:{seed}"), timestamp, manifest)
    bom["components"] = [component_json(component, version) for component in components]
    return bom


def component_json(component: Component, version: str) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "library", "bom-ref": component.ref}
    if component.supplier_name:
        item["supplier"] = {"name": component.supplier_name}
    item["name"] = component.name
    if component.version:
        item["version"] = component.version
    if component.summary:
        item["description"] = component.summary
    hashes = [
        {"alg": _HASH_ALGORITHMS[algorithm], "content": digest}
        for algorithm, digest in component.checksums
        if algorithm in _HASH_ALGORITHMS
    ]
    if hashes:
        item["hashes"] = hashes
    licenses = _licenses(component.license, version)
    if licenses:
        item["licenses"] = licenses
    if component.cpe:
        item["cpe"] = component.cpe
    if component.purl:
        item["purl"] = component.purl
    references = []
    if component.download_location:
        references.append({"url": component.download_location, "type": "distribution"})
    if component.homepage:
        references.append({"url": component.homepage, "type": "website"})
    if references:
        item["externalReferences"] = references
    return item


def _licenses(declared: Optional[DeclaredLicense], version: str) -> list[dict[str, Any]]:
    """The CycloneDX licence choice: `license.id` only for an SPDX-list id, `license.name` for a single licence
    that is not on the list, `expression` for a compound expression; 1.6 added `acknowledgement`."""
    if declared is None:
        return []
    acknowledgement = {} if version in ("1.4", "1.5") else {"acknowledgement": "declared"}
    if declared.license_id:
        return [{"license": {"id": declared.license_id, **acknowledgement}}]
    if declared.single_reference:
        return [{"license": {"name": declared.single_reference, **acknowledgement}}]
    return [{"expression": declared.expression, **acknowledgement}]


def _document(version: str, serial: str, timestamp: Optional[str], manifest: Mapping[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if timestamp:
        metadata["timestamp"] = timestamp
    metadata["tools"] = _tools(version)
    image = str(manifest.get("manifest_name") or "").strip() if isinstance(manifest, Mapping) else ""
    if image:
        subject: dict[str, Any] = {"type": "operating-system", "bom-ref": f"image:{image}", "name": image}
        distro_version = str(manifest.get("distro_version") or "").strip()
        if distro_version:
            subject["version"] = distro_version
        metadata["component"] = subject
    return {
        "$schema": f"http://cyclonedx.org/schema/bom-{version}.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": version,
        "serialNumber": serial,
        "version": 1,
        "metadata": metadata,
    }


def _tools(version: str) -> Any:
    if version == "1.4":  # the array form, deprecated from 1.5 on
        return [{"vendor": TOOL_NAME, "name": TOOL_NAME, "version": tool_version()}]
    return {"components": [{"type": "application", "name": TOOL_NAME, "version": tool_version()}]}


def _vulnerability(row: Finding, ref: str, version: str) -> dict[str, Any]:
    item: dict[str, Any] = {"bom-ref": f"vuln:{row.cve_id}:{ref}", "id": row.cve_id, "source": _source(row.cve_id)}
    ratings = list(_ratings(row, version))
    if ratings:
        item["ratings"] = ratings
    if row.fixed_version and row.category not in ("fixed", "whitelisted"):
        item["recommendation"] = f"Upgrade {row.package} to {row.fixed_version} or later."
    item["analysis"] = _analysis(row)
    item["affects"] = [{"ref": ref}]
    properties = []
    if row.kev:
        properties.append({"name": "timesys-ci:cisa-kev", "value": "true"})
    if row.epss is not None:
        properties.append({"name": "timesys-ci:epss", "value": f"{row.epss:g}"})
    if row.status:
        properties.append({"name": "timesys-ci:status", "value": row.status})
    if properties:
        item["properties"] = properties
    return item


def _source(vuln_id: str) -> dict[str, str]:
    upper = vuln_id.upper()
    if upper.startswith("CVE-"):
        return {"name": "NVD", "url": f"https://nvd.nist.gov/vuln/detail/{vuln_id}"}
    if upper.startswith("GHSA-"):
        return {"name": "GitHub", "url": f"https://github.com/advisories/{vuln_id}"}
    return {"name": "OSV", "url": f"https://osv.dev/vulnerability/{vuln_id}"}


def _ratings(row: Finding, version: str) -> Iterable[dict[str, Any]]:
    if row.cvss is not None or row.vector:
        # The finding's severity belongs to its v3 score when there is one; a v2 score gets its own band.
        severity = row.severity if row.cvss_v3 is not None else severity_from_score(row.cvss, row.cvss_version)
        yield _rating(row.cvss, severity, _method(row.cvss_version), row.vector)
    if row.cvss_v4 is not None or row.vector_v4:
        method = "other" if version == "1.4" else "CVSSv4"
        yield _rating(row.cvss_v4, severity_from_score(row.cvss_v4), method, row.vector_v4)


def _rating(score: Optional[float], severity: str, method: str, vector: Optional[str]) -> dict[str, Any]:
    rating: dict[str, Any] = {"source": {"name": "NVD"}}
    if score is not None:
        rating["score"] = score
    rating["severity"] = severity
    rating["method"] = method
    if vector:
        rating["vector"] = vector
    return rating


def _method(cvss_version: Optional[str]) -> str:
    return {"3.1": "CVSSv31", "3.0": "CVSSv3", "3": "CVSSv3", "2.0": "CVSSv2", "2": "CVSSv2"}.get(cvss_version or "", "other")


def _analysis(row: Finding) -> dict[str, Any]:
    triage = (row.vuln_status or "").replace(" ", "_").replace("-", "_")
    triage = _STATE_ALIASES.get(triage, triage)
    state = triage if triage in _STATES else _CATEGORY_STATE.get(row.category, "exploitable")
    analysis: dict[str, Any] = {"state": state}
    notes = [f"Vigiles status: {row.status}."] if row.status else []
    justification = (row.justification or "").lower().replace(" ", "_")
    if justification in _JUSTIFICATIONS:
        analysis["justification"] = justification
    elif row.justification:
        notes.append(f"Justification: {row.justification}.")
    if row.category in ("unapplied", "upgradable") and state == "exploitable":
        analysis["response"] = ["update"]
    if row.fixedby:
        notes.append("Fixed by: " + ", ".join(row.fixedby) + ".")
    if notes:
        analysis["detail"] = " ".join(notes)
    return analysis

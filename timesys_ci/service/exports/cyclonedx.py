"""CycloneDX documents: the VEX exports of a report and the SBOM conversion of an uploaded SBOM.

The document is built once as the JSON object model; `cyclonedx_xml` turns the
same object into XML, so both encodings always carry the same content.
Spec versions 1.4 to 1.7 differ here only in the `metadata.tools` form and in
the rating methods they know (CVSSv4 arrived in 1.5).

What the build says about CVEs travels with the SBOM: the patches it applied as each
component's `pedigree.patches` (with the CVEs each `resolves`), the CVEs it ignores and
its VEX statements as `vulnerabilities` with their analysis state.
"""
from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional, Sequence
from urllib.parse import quote

from timesys.core.choices import CYCLONEDX_FORMATS, CYCLONEDX_VERSIONS, DEFAULT_CYCLONEDX_FORMAT
from timesys.core.version import TOOL_NAME, tool_version
from timesys_ci.report import AFFECTED_CATEGORIES, Finding, ReportSummary, severity_from_score
from timesys_ci.sbom.model import Package, Sbom

from .components import ComponentIndex, first_cpe, packages_named, sbom_packages
from .cyclonedx_xml import bom_to_xml
from .errors import ExportError

if TYPE_CHECKING:
    from timesys_ci.sbom.licenses import DeclaredLicense

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


def check_options(file_format: Optional[str], version: Optional[str], *, default_version: str,
                  option_names: tuple[str, str]) -> tuple[str, str]:
    """Validated (file format, spec version); None means json / `default_version`."""
    chosen_format = (file_format or DEFAULT_CYCLONEDX_FORMAT).lower()
    chosen_version = version or default_version
    if chosen_format not in CYCLONEDX_FORMATS:
        raise ExportError(f"unsupported {option_names[0]} {file_format!r}: expected one of {', '.join(CYCLONEDX_FORMATS)}")
    if chosen_version not in CYCLONEDX_VERSIONS:
        raise ExportError(f"unsupported {option_names[1]} {version!r}: expected one of {', '.join(CYCLONEDX_VERSIONS)}")
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
    sbom: Optional[Sbom],
    version: str,
    *,
    with_components: bool,
) -> dict[str, Any]:
    """The `cyclonedx-vex` (vulnerabilities only) or `cyclonedx-sbom-vex` (plus components) document."""
    kind = "sbom-vex" if with_components else "vex"
    token = info.report_token or info.manifest_token or info.date
    if not token:
        raise ExportError("report: field 'report_token' is missing (needed for the CycloneDX serial number)")
    index = ComponentIndex(sbom_packages(sbom) if with_components else [])
    refs = [index.resolve(row.package, row.version).ref for row in rows]
    bom = _document(version, serial_number(f"report:{token}:{kind}"), info.date, sbom)
    if with_components:
        bom["components"] = [component_json(package, version) for package in index.packages]
    bom["vulnerabilities"] = [_vulnerability(row, ref, version) for row, ref in zip(rows, refs)]
    return bom


def sbom_bom(sbom: Sbom, version: str, timestamp: str) -> dict[str, Any]:
    """The SBOM as a CycloneDX BOM: its components, and its statements about CVEs as `vulnerabilities`."""
    packages = sbom_packages(sbom)
    bom = _document(version, serial_number(f"manifest:{sbom.fingerprint()}{timestamp}"), timestamp, sbom)
    bom["components"] = [component_json(package, version) for package in packages]
    statements = _statements(sbom, packages)
    if statements:
        bom["vulnerabilities"] = statements
    return bom


def component_json(package: Package, version: str) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "library", "bom-ref": package.ref}
    if package.supplier_name:
        item["supplier"] = {"name": package.supplier_name}
    item["name"] = package.name
    if package.stated_version:
        item["version"] = package.stated_version
    if package.summary:
        item["description"] = package.summary
    hashes = [
        {"alg": _HASH_ALGORITHMS[algorithm], "content": digest}
        for algorithm, digest in package.checksums
        if algorithm in _HASH_ALGORITHMS
    ]
    if hashes:
        item["hashes"] = hashes
    licenses = _licenses(package.declared_license, version)
    if licenses:
        item["licenses"] = licenses
    cpe = first_cpe(package)
    if cpe:
        item["cpe"] = cpe
    item["purl"] = package.package_url
    if package.patched_cves:
        item["pedigree"] = {"patches": _patches(package)}
    references = []
    if package.download_location:
        references.append({"url": package.download_location, "type": "distribution"})
    if package.homepage:
        references.append({"url": package.homepage, "type": "website"})
    if references:
        item["externalReferences"] = references
    return item


def _patches(package: Package) -> list[dict[str, Any]]:
    """One patch per patch file with the CVEs it resolves; CVEs the build marks patched without naming the file
    share one patch. Build systems carry CVE patches backported from the upstream fix, hence `backport`."""
    by_file: dict[str, list[str]] = {}
    for cve, files in sorted(package.patched_cves.items()):
        for name in files or [""]:
            by_file.setdefault(name, []).append(cve)
    patches = []
    for name, cves in by_file.items():
        patch: dict[str, Any] = {"type": "backport"}
        if name:
            patch["diff"] = {"url": quote(name, safe="/:@!$&'()*+,;=-._~")}
        patch["resolves"] = [{"type": "security", "id": cve} for cve in cves]
        patches.append(patch)
    return patches


def _statements(sbom: Sbom, packages: Sequence[Package]) -> list[dict[str, Any]]:
    """What the SBOM says about CVEs (`Sbom.cve_statements`) as vulnerabilities: one entry per CVE, analysis and
    scope, affecting every package it names (as the scanner applies it: by name or manifest key). A statement about
    a package the export does not list is left out rather than widened to every package."""
    named = packages_named(packages)
    grouped: dict[tuple[str, str, Optional[str], tuple[str, ...], bool], list[str]] = {}
    for statement in sbom.cve_statements():
        about = named.get(statement.package, []) if statement.package is not None else []
        if statement.package is not None and not about:
            continue
        key = (statement.id, statement.state, statement.justification, tuple(statement.patches), not about)
        targets = grouped.setdefault(key, [])
        targets += [package.ref for package in about if package.ref not in targets]
    entries = []
    for number, ((vuln_id, state, justification, patches, everywhere), targets) in enumerate(grouped.items(), 1):
        item: dict[str, Any] = {"bom-ref": f"vex:{number}:{vuln_id}", "id": vuln_id, "source": _source(vuln_id)}
        item["analysis"] = _stated_analysis(state, justification, patches)
        if not everywhere:
            item["affects"] = [{"ref": ref} for ref in targets]
        entries.append(item)
    return entries


def _stated_analysis(state: str, justification: Optional[str], patches: tuple[str, ...]) -> dict[str, Any]:
    """A statement's analysis. Only a CycloneDX state is taken as one: the scanner reads nothing else, so mapping
    "fixed" to resolved here would make the converted SBOM suppress what the upload reported."""
    known = state if state in _STATES else None
    notes = [] if known else [f"Stated as: {state}."]
    return _analysis_object(known or "in_triage", justification, notes, patches)


def _state(text: Optional[str]) -> Optional[str]:
    """The CycloneDX analysis state a triage or statement names (`Not Affected`, `fixed`, ...), or None."""
    spelled = (text or "").lower().replace(" ", "_").replace("-", "_")
    state = _STATE_ALIASES.get(spelled, spelled)
    return state if state in _STATES else None


def _analysis_object(state: str, justification: Optional[str], notes: list[str], fixed_by: Sequence[str],
                     response: Sequence[str] = ()) -> dict[str, Any]:
    """An `analysis`: a justification CycloneDX does not list, and the fixes, go into `detail` with `notes`."""
    analysis: dict[str, Any] = {"state": state}
    code = (justification or "").lower().replace(" ", "_")
    if code in _JUSTIFICATIONS:
        analysis["justification"] = code
    elif justification:
        notes = [*notes, f"Justification: {justification}."]
    if response:
        analysis["response"] = list(response)
    if fixed_by:
        notes = [*notes, "Fixed by: " + ", ".join(fixed_by) + "."]
    if notes:
        analysis["detail"] = " ".join(notes)
    return analysis


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


def _document(version: str, serial: str, timestamp: Optional[str], sbom: Optional[Sbom]) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    if timestamp:
        metadata["timestamp"] = timestamp
    metadata["tools"] = _tools(version)
    image = (sbom.manifest_name or "").strip() if sbom is not None else ""
    if image:
        subject: dict[str, Any] = {"type": "operating-system", "bom-ref": f"image:{image}", "name": image}
        distro_version = (sbom.distro_version or "").strip()  # type: ignore[union-attr]
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
    if row.fixed_version and row.category in AFFECTED_CATEGORIES:
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
    state = _state(row.vuln_status) or _CATEGORY_STATE.get(row.category, "exploitable")
    notes = [f"Vigiles status: {row.status}."] if row.status else []
    update = row.category in ("unapplied", "upgradable") and state == "exploitable"
    return _analysis_object(state, row.justification, notes, row.fixedby, ["update"] if update else ())

"""Readers for CycloneDX 1.4–1.6 BOMs, JSON and XML.

Every component (nested ``components`` included, the BOM's own subject
``metadata.component`` excluded) becomes a package named by its ``cpe``
and ``purl``. ``vulnerabilities`` become statements tied, through
``affects[].ref``, to the component with that ``bom-ref``; the scanner
treats resolved states as fixed and not_affected/false_positive as
suppressed. The XML reader turns the document into the JSON shape first,
so both share one reader. XML is parsed without DTDs (`safe_xml`); nesting
is walked without recursion and bounded by MAX_NESTING.
"""
from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import unquote

from timesys_ci.sbom.errors import SbomError
from timesys_ci.sbom.fields import Fields, loose_objects, loose_text
from timesys_ci.sbom.model import CYCLONEDX_JSON, CYCLONEDX_XML, Package, Sbom, VulnerabilityStatement
from timesys_ci.sbom.packages import make_package, merge_duplicates
from timesys_ci.sbom.safe_xml import parse_xml

_BOM_LINK = "urn:cdx:"
MAX_NESTING = 64  # levels of nested components; real BOMs use a handful


def _license(component: Mapping[str, Any]) -> Optional[str]:
    entries = component.get("licenses")
    if not isinstance(entries, list):
        return None
    names = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        if isinstance(entry.get("expression"), str):
            names.append(entry["expression"])
        elif isinstance(entry.get("license"), dict):
            chosen = entry["license"].get("id") or entry["license"].get("name")
            if isinstance(chosen, str):
                names.append(chosen)
    if len(names) > 1:  # several entries all apply: their conjunction, each kept whole
        names = [f"({name})" if " " in name.strip() else name for name in names]
    return " AND ".join(names) or None


def _reference(raw: Mapping[str, Any], kind: str) -> Optional[str]:
    return next((loose_text(item, "url") for item in loose_objects(raw, "externalReferences") if item.get("type") == kind), None)


def _patched_cves(raw: Mapping[str, Any]) -> Dict[str, List[str]]:
    """CVE id -> patch names from `pedigree.patches` (a patch's `resolves` issues; its name: the diff's URL)."""
    patched: Dict[str, List[str]] = {}
    for patch in loose_objects(raw.get("pedigree"), "patches"):
        url = loose_text(patch.get("diff"), "url")
        name = unquote(url.rstrip("/").rsplit("/", 1)[-1]) if url else None
        for issue in loose_objects(patch, "resolves"):
            issue_id = loose_text(issue, "id")
            if issue_id and issue_id.strip():
                names = patched.setdefault(issue_id.strip().upper(), [])
                if name and name not in names:
                    names.append(name)
    return patched


def _component_package(component: Fields, raw: Mapping[str, Any], refs: Dict[str, str]) -> Package:
    name = component.text("name")
    if not name:
        raise SbomError(f"{component.path[:-1]} has no 'name'", component.source)
    ref = component.text("bom-ref")
    if ref:
        refs[ref] = name
    cpe = component.text("cpe")
    return make_package(
        name=name,
        version=component.text("version"),
        cpe_ids=[cpe] if cpe else [],
        purl=component.text("purl"),
        patched_cves=_patched_cves(raw),
        component_type=component.text("type"),
        license=_license(raw),
        supplier=loose_text(raw.get("supplier"), "name"),
        download_location=_reference(raw, "distribution"),
        checksums=[(loose_text(item, "alg"), loose_text(item, "content")) for item in loose_objects(raw, "hashes")],
        homepage=_reference(raw, "website"),
        summary=loose_text(raw, "description"),
    )


def _too_deep(path: str, source: Optional[str]) -> SbomError:
    shown = path if len(path) <= 80 else f"{path[:80]}..."
    return SbomError(f"components nested more than {MAX_NESTING} deep (at {shown})", source)


def _components(top: Fields, refs: Dict[str, str], out: List[Package]) -> None:
    """Every component, depth first in document order, without recursion (nesting is bounded)."""
    pending = [(top, iter(enumerate(top.objects("components"))))]
    while pending:
        parent, children = pending[-1]
        step = next(children, None)
        if step is None:
            pending.pop()
            continue
        index, raw = step
        component = parent.at("components", index, raw)
        out.append(_component_package(component, raw, refs))
        nested = component.objects("components")
        if nested:
            if len(pending) >= MAX_NESTING:
                raise _too_deep(component.path, top.source)
            pending.append((component, iter(enumerate(nested))))


def _target(ref: str, refs: Mapping[str, str]) -> str:
    # A BOM-Link (urn:cdx:serial/version#bom-ref) points at a component of this or another BOM.
    if ref.startswith(_BOM_LINK) and "#" in ref:
        ref = ref.split("#", 1)[1]
    return refs.get(ref, ref)


def _statements(fields: Fields, refs: Mapping[str, str]) -> List[VulnerabilityStatement]:
    statements: List[VulnerabilityStatement] = []
    for index, raw in enumerate(fields.objects("vulnerabilities")):
        entry = fields.at("vulnerabilities", index, raw)
        vuln_id = entry.text("id")
        if not vuln_id:
            raise SbomError(f"vulnerabilities[{index}] has no 'id'", fields.source)
        analysis = Fields(entry.object("analysis"), f"{entry.path}analysis.", fields.source)
        state = (analysis.text("state") or "in_triage").lower()
        justification = analysis.text("justification")
        targets: List[Optional[str]] = [
            _target(ref, refs)
            for position, affected in enumerate(entry.objects("affects"))
            for ref in [entry.at("affects", position, affected).text("ref")]
            if ref
        ]
        statements += [
            VulnerabilityStatement(id=vuln_id.strip().upper(), state=state, package=target, justification=justification)
            for target in (targets or [None])
        ]
    return statements


def read_cyclonedx(document: Any, source: Optional[str] = None, format_id: str = CYCLONEDX_JSON) -> Sbom:
    """Build an :class:`Sbom` from a decoded CycloneDX JSON BOM (or the XML reader's equivalent)."""
    if not isinstance(document, dict):
        raise SbomError("CycloneDX BOM must be a JSON object", source)
    top = Fields(document, "", source)
    refs: Dict[str, str] = {}
    found: List[Package] = []
    _components(top, refs, found)
    packages, aliases = merge_duplicates(found)
    statements = [
        VulnerabilityStatement(stmt.id, stmt.state, aliases.get(stmt.package, stmt.package), stmt.justification)
        if stmt.package in aliases else stmt
        for stmt in _statements(top, refs)
    ]
    metadata = Fields(top.object("metadata"), "metadata.", source)
    subject = Fields(metadata.object("component"), "metadata.component.", source)
    return Sbom(
        format=format_id,
        manifest_name=subject.text("name") or None,
        packages=packages,
        vulnerabilities=statements,
        source=source,
        manifest_version=top.text("specVersion"),
        distro_version=subject.text("version") or None,
        created=metadata.text("timestamp"),
    )


# -- XML ---------------------------------------------------------------------------------------

def _child_text(element: ElementTree.Element, ns: str, tag: str) -> Optional[str]:
    child = element.find(f"{ns}{tag}")
    return child.text.strip() if child is not None and child.text else None


def _xml_component(element: ElementTree.Element, ns: str) -> Dict[str, Any]:
    """One component's fields in the JSON shape, without its nested components."""
    fields: Dict[str, Any] = {
        key: value
        for key, value in (
            ("name", _child_text(element, ns, "name")),
            ("version", _child_text(element, ns, "version")),
            ("cpe", _child_text(element, ns, "cpe")),
            ("purl", _child_text(element, ns, "purl")),
            ("bom-ref", element.get("bom-ref")),
            ("type", element.get("type")),
        )
        if value
    }
    licenses = [
        {"license": {"id": text}}
        for text in (node.text for node in element.iterfind(f"{ns}licenses/{ns}license/*") if node.tag in (f"{ns}id", f"{ns}name"))
        if text
    ] + [{"expression": node.text} for node in element.iterfind(f"{ns}licenses/{ns}expression") if node.text]
    if licenses:
        fields["licenses"] = licenses
    supplier = _child_text(element, ns, f"supplier/{ns}name")
    if supplier:
        fields["supplier"] = {"name": supplier}
    description = _child_text(element, ns, "description")
    if description:
        fields["description"] = description
    fields["hashes"] = [{"alg": node.get("alg"), "content": (node.text or "").strip()}
                        for node in element.iterfind(f"{ns}hashes/{ns}hash")]
    fields["externalReferences"] = [{"type": node.get("type"), "url": _child_text(node, ns, "url")}
                                    for node in element.iterfind(f"{ns}externalReferences/{ns}reference")]
    fields["pedigree"] = {"patches": [
        {"diff": {"url": _child_text(patch, ns, f"diff/{ns}url")},
         "resolves": [{"id": _child_text(issue, ns, "id")} for issue in patch.iterfind(f"{ns}resolves/{ns}issue")]}
        for patch in element.iterfind(f"{ns}pedigree/{ns}patches/{ns}patch")
    ]}
    return fields


def _xml_components(elements: List[ElementTree.Element], ns: str, source: Optional[str]) -> List[Dict[str, Any]]:
    """Components (with their nested ones) in the JSON shape, without recursion (nesting is bounded)."""
    result: List[Dict[str, Any]] = []
    pending = [(elements, result, 1)]
    while pending:
        children, into, depth = pending.pop()
        for child in children:
            fields = _xml_component(child, ns)
            into.append(fields)
            nested = child.find(f"{ns}components")
            if nested is not None:
                if depth >= MAX_NESTING:
                    raise _too_deep(f"component {fields.get('name', '?')!r}", source)
                fields["components"] = []
                pending.append((nested.findall(f"{ns}component"), fields["components"], depth + 1))
    return result


def _xml_vulnerability(element: ElementTree.Element, ns: str) -> Dict[str, Any]:
    analysis = element.find(f"{ns}analysis")
    return {
        "id": _child_text(element, ns, "id"),
        "analysis": {
            "state": _child_text(analysis, ns, "state"),
            "justification": _child_text(analysis, ns, "justification"),
        } if analysis is not None else None,
        "affects": [{"ref": ref.text.strip()} for ref in element.iterfind(f"{ns}affects/{ns}target/{ns}ref") if ref.text],
    }


def _parse_xml(text: str, source: Optional[str]) -> Tuple[ElementTree.Element, str]:
    root = parse_xml(text, source)
    namespace, _, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
    if local != "bom":
        raise SbomError(f"CycloneDX XML root element must be <bom>, got <{local}>", source)
    return root, f"{{{namespace}}}" if namespace else ""


def read_cyclonedx_xml(text: str, source: Optional[str] = None) -> Sbom:
    """Build an :class:`Sbom` from CycloneDX XML text, in whatever schema namespace it declares."""
    root, ns = _parse_xml(text, source)
    document: Dict[str, Any] = {
        "components": _xml_components(list(root.iterfind(f"{ns}components/{ns}component")), ns, source),
        "vulnerabilities": [_xml_vulnerability(child, ns) for child in root.iterfind(f"{ns}vulnerabilities/{ns}vulnerability")],
    }
    metadata: Dict[str, Any] = {}
    subject = root.find(f"{ns}metadata/{ns}component")
    if subject is not None:
        metadata["component"] = _xml_component(subject, ns)
    timestamp = _child_text(root, ns, f"metadata/{ns}timestamp")
    if timestamp:
        metadata["timestamp"] = timestamp
    document["metadata"] = metadata
    if ns.startswith("{http://cyclonedx.org/schema/bom/"):
        document["specVersion"] = ns[len("{http://cyclonedx.org/schema/bom/"):-1]
    return read_cyclonedx(document, source, CYCLONEDX_XML)

"""The XML encoding of the CycloneDX object model built in `cyclonedx`.

Handles exactly the subset that module produces. The XML schema fixes the
order of child elements (JSON does not), so each object type lists its
children in schema order. Text from uploads may hold characters XML 1.0
cannot carry at all (C0 controls, U+FFFE, U+FFFF, lone surrogates); they
become U+FFFD, so the document is always well-formed.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping
from xml.etree import ElementTree as ET

# Everything outside XML 1.0's Char production.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_COMPONENT_ORDER = ("supplier", "name", "version", "description", "hashes", "licenses", "cpe", "purl", "pedigree",
                    "externalReferences")
_VULNERABILITY_ORDER = ("id", "source", "ratings", "recommendation", "analysis", "affects", "properties")


def namespace(version: str) -> str:
    return f"http://cyclonedx.org/schema/bom/{version}"


def bom_to_xml(bom: Mapping[str, Any], version: str) -> bytes:
    root = ET.Element("bom", {"xmlns": namespace(version), "serialNumber": bom["serialNumber"], "version": str(bom["version"])})
    _metadata(ET.SubElement(root, "metadata"), bom["metadata"])
    if "components" in bom:
        container = ET.SubElement(root, "components")
        for component in bom["components"]:
            _component(container, component)
    if "vulnerabilities" in bom:
        container = ET.SubElement(root, "vulnerabilities")
        for vulnerability in bom["vulnerabilities"]:
            _vulnerability(container, vulnerability)
    _make_xml_safe(root)
    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


def _make_xml_safe(root: ET.Element) -> None:
    """Replace, in every text and attribute value, the characters XML 1.0 cannot represent."""
    for element in root.iter():
        if element.text and _NOT_XML_CHAR.search(element.text):
            element.text = _NOT_XML_CHAR.sub("\ufffd", element.text)
        for name, value in element.attrib.items():
            if _NOT_XML_CHAR.search(value):
                element.set(name, _NOT_XML_CHAR.sub("\ufffd", value))


def _text(parent: ET.Element, tag: str, value: object) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = _plain(value)
    return element


def _plain(value: object) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _metadata(parent: ET.Element, metadata: Mapping[str, Any]) -> None:
    if "timestamp" in metadata:
        _text(parent, "timestamp", metadata["timestamp"])
    tools = ET.SubElement(parent, "tools")
    if isinstance(metadata["tools"], list):  # 1.4 form
        for tool in metadata["tools"]:
            element = ET.SubElement(tools, "tool")
            for key in ("vendor", "name", "version"):
                if key in tool:
                    _text(element, key, tool[key])
    else:
        container = ET.SubElement(tools, "components")
        for tool in metadata["tools"]["components"]:
            _component(container, tool)
    if "component" in metadata:
        _component(parent, metadata["component"])


def _component(parent: ET.Element, component: Mapping[str, Any]) -> None:
    attributes = {"type": component["type"]}
    if "bom-ref" in component:
        attributes["bom-ref"] = component["bom-ref"]
    element = ET.SubElement(parent, "component", attributes)
    _children(element, component, _COMPONENT_ORDER, _COMPONENT_WRITERS)


def _children(
    element: ET.Element,
    obj: Mapping[str, Any],
    order: tuple[str, ...],
    writers: Mapping[str, Callable[[ET.Element, Any], None]],
) -> None:
    for key in order:
        if key in obj:
            writer = writers.get(key)
            if writer is None:
                _text(element, key, obj[key])
            else:
                writer(element, obj[key])


def _supplier(parent: ET.Element, supplier: Mapping[str, Any]) -> None:
    _text(ET.SubElement(parent, "supplier"), "name", supplier["name"])


def _hashes(parent: ET.Element, hashes: list[Mapping[str, str]]) -> None:
    container = ET.SubElement(parent, "hashes")
    for item in hashes:
        ET.SubElement(container, "hash", alg=item["alg"]).text = item["content"]


def _licenses(parent: ET.Element, licenses: list[Mapping[str, Any]]) -> None:
    container = ET.SubElement(parent, "licenses")
    for item in licenses:
        if "expression" in item:
            element = _text(container, "expression", item["expression"])
        else:  # {"license": {"id" or "name": ...}}: the id or name is a child element
            element = ET.SubElement(container, "license")
            key = "id" if "id" in item["license"] else "name"
            _text(element, key, item["license"][key])
        acknowledgement = item.get("acknowledgement") or item.get("license", {}).get("acknowledgement")
        if acknowledgement:
            element.set("acknowledgement", acknowledgement)


def _external_references(parent: ET.Element, references: list[Mapping[str, str]]) -> None:
    container = ET.SubElement(parent, "externalReferences")
    for item in references:
        _text(ET.SubElement(container, "reference", type=item["type"]), "url", item["url"])


def _pedigree(parent: ET.Element, pedigree: Mapping[str, Any]) -> None:
    patches = ET.SubElement(ET.SubElement(parent, "pedigree"), "patches")
    for patch in pedigree["patches"]:
        element = ET.SubElement(patches, "patch", type=patch["type"])
        if "diff" in patch:
            _text(ET.SubElement(element, "diff"), "url", patch["diff"]["url"])
        resolves = ET.SubElement(element, "resolves")
        for issue in patch["resolves"]:
            _text(ET.SubElement(resolves, "issue", type=issue["type"]), "id", issue["id"])


_COMPONENT_WRITERS: dict[str, Callable[[ET.Element, Any], None]] = {
    "supplier": _supplier,
    "hashes": _hashes,
    "licenses": _licenses,
    "pedigree": _pedigree,
    "externalReferences": _external_references,
}


def _vulnerability(parent: ET.Element, vulnerability: Mapping[str, Any]) -> None:
    element = ET.SubElement(parent, "vulnerability", {"bom-ref": vulnerability["bom-ref"]})
    _children(element, vulnerability, _VULNERABILITY_ORDER, _VULNERABILITY_WRITERS)


def _source(parent: ET.Element, source: Mapping[str, str], tag: str = "source") -> None:
    element = ET.SubElement(parent, tag)
    for key in ("name", "url"):
        if key in source:
            _text(element, key, source[key])


def _ratings(parent: ET.Element, ratings: list[Mapping[str, Any]]) -> None:
    container = ET.SubElement(parent, "ratings")
    for rating in ratings:
        element = ET.SubElement(container, "rating")
        if "source" in rating:
            _source(element, rating["source"])
        for key in ("score", "severity", "method", "vector"):
            if key in rating:
                _text(element, key, rating[key])


def _analysis(parent: ET.Element, analysis: Mapping[str, Any]) -> None:
    element = ET.SubElement(parent, "analysis")
    _text(element, "state", analysis["state"])
    if "justification" in analysis:
        _text(element, "justification", analysis["justification"])
    if "response" in analysis:
        responses = ET.SubElement(element, "responses")
        for response in analysis["response"]:
            _text(responses, "response", response)
    if "detail" in analysis:
        _text(element, "detail", analysis["detail"])


def _affects(parent: ET.Element, affects: list[Mapping[str, str]]) -> None:
    container = ET.SubElement(parent, "affects")
    for target in affects:
        _text(ET.SubElement(container, "target"), "ref", target["ref"])


def _properties(parent: ET.Element, properties: list[Mapping[str, str]]) -> None:
    container = ET.SubElement(parent, "properties")
    for item in properties:
        ET.SubElement(container, "property", name=item["name"]).text = item["value"]


_VULNERABILITY_WRITERS: dict[str, Callable[[ET.Element, Any], None]] = {
    "source": _source,
    "ratings": _ratings,
    "analysis": _analysis,
    "affects": _affects,
    "properties": _properties,
}



"""Tell SBOM formats apart and dispatch to the registered reader.

Detection looks at the document's structure, never at the file name.
Readers are registered per format id; further formats (SPDX RDF) plug in
with :func:`register_format` without touching the dispatch.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Dict, Optional, Tuple

from timesys_ci.sbom.cyclonedx import read_cyclonedx, read_cyclonedx_xml
from timesys_ci.sbom.errors import SbomError
from timesys_ci.sbom.model import Sbom
from timesys_ci.sbom.spdx import read_spdx, read_spdx_tag
from timesys_ci.sbom.spdx3 import read_spdx3
from timesys_ci.sbom.vigiles_manifest import read_vigiles_manifest

VIGILES = "vigiles"
CYCLONEDX_JSON = "cyclonedx-json"
CYCLONEDX_XML = "cyclonedx-xml"
SPDX_JSON = "spdx-json"
SPDX3_JSONLD = "spdx3-jsonld"
SPDX_TAG = "spdx-tag"
SPDX_RDF = "spdx-rdf"

# content is the decoded JSON for JSON formats and the raw text otherwise.
Reader = Callable[[Any, Optional[str]], Sbom]
_READERS: Dict[str, Reader] = {}

_VIGILES_TOP_KEYS = {"manifest_version", "manifest_name", "distro", "distro_version", "machine", "image"}
_SPDX_TAG_LINE = re.compile(r"^\s*SPDXVersion\s*:", re.MULTILINE)
_XML_HEAD = 8192


def register_format(format_id: str, reader: Reader) -> None:
    """Install (or replace) the reader for ``format_id``."""
    _READERS[format_id] = reader


def _decode_json(text: str, source: Optional[str]) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SbomError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", source) from None


def _json_format(document: Any, source: Optional[str]) -> str:
    if not isinstance(document, dict):
        raise SbomError(f"unrecognised SBOM: top-level JSON is {type(document).__name__}, not an object", source)
    if str(document.get("bomFormat", "")).lower() == "cyclonedx" or "cyclonedx" in str(document.get("$schema", "")):
        return CYCLONEDX_JSON
    if "spdxVersion" in document:
        return SPDX_JSON
    if "spdx.org/rdf/3" in json.dumps(document.get("@context", "")):
        return SPDX3_JSONLD
    if "packages" in document or _VIGILES_TOP_KEYS & document.keys():
        return VIGILES
    raise SbomError(
        "unrecognised SBOM: JSON object is not a Vigiles manifest, CycloneDX or SPDX document", source
    )


def _xml_format(text: str, source: Optional[str]) -> str:
    head = text[:_XML_HEAD]
    if "cyclonedx.org/schema/bom" in head:
        return CYCLONEDX_XML
    if "spdx.org/rdf/terms" in head:
        return SPDX_RDF
    raise SbomError("unrecognised SBOM: XML document is neither CycloneDX nor SPDX RDF", source)


def _sniff(text: str, source: Optional[str]) -> Tuple[str, Any]:
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise SbomError("empty file", source)
    if stripped[0] in "{[":
        document = _decode_json(stripped, source)
        return _json_format(document, source), document
    if stripped[0] == "<":
        return _xml_format(stripped, source), stripped
    if _SPDX_TAG_LINE.search(stripped[:_XML_HEAD]):
        return SPDX_TAG, stripped
    raise SbomError("unrecognised SBOM: not JSON, XML or SPDX tag-value", source)


def detect_format(text: str, source: Optional[str] = None) -> str:
    """The format id of an SBOM document (raises :class:`SbomError` if unknown)."""
    return _sniff(text, source)[0]


def is_readable(format_id: str) -> bool:
    """Whether documents of this format can be read (not only recognised)."""
    return format_id in _READERS


def load_sbom(text: str, source: Optional[str] = None) -> Sbom:
    """Detect the format of ``text`` and read it with the registered reader."""
    format_id, content = _sniff(text, source)
    reader = _READERS.get(format_id)
    if reader is None:
        raise SbomError(f"{format_id} documents are recognised but cannot be read yet", source)
    return reader(content, source)


register_format(VIGILES, read_vigiles_manifest)
register_format(CYCLONEDX_JSON, read_cyclonedx)
register_format(CYCLONEDX_XML, read_cyclonedx_xml)
register_format(SPDX_JSON, read_spdx)
register_format(SPDX_TAG, read_spdx_tag)
register_format(SPDX3_JSONLD, read_spdx3)

"""Tell SBOM formats apart and dispatch to the registered reader.

Detection looks at the document's structure, never at the file name: the
decoded JSON object, the XML root element's namespace (however long the
prolog), an SPDX tag-value `SPDXVersion:` line anywhere. Readers are
registered per format id; further formats (SPDX RDF) plug in with
:func:`register_format` without touching the dispatch.

Hostile documents get a one-line :class:`SbomError`, never another
exception: JSON nested deeper than the parser recurses, numbers beyond
Python's integer-conversion limit, strings holding lone surrogates (not
Unicode text, so nothing downstream could encode them), XML with a DTD.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Dict, Optional, Tuple

from timesys_ci.sbom.cyclonedx import read_cyclonedx, read_cyclonedx_xml
from timesys_ci.sbom.errors import SbomError
from timesys_ci.sbom.model import (CYCLONEDX_JSON, CYCLONEDX_XML, SPDX3_JSONLD, SPDX_JSON, SPDX_RDF, SPDX_TAG,
                                   VIGILES, Sbom)
from timesys_ci.sbom.safe_xml import root_element
from timesys_ci.sbom.spdx import read_spdx, read_spdx_tag
from timesys_ci.sbom.spdx3 import read_spdx3
from timesys_ci.sbom.vigiles_manifest import read_vigiles_manifest

# content is the decoded JSON for JSON formats and the raw text otherwise.
Reader = Callable[[Any, Optional[str]], Sbom]
_READERS: Dict[str, Reader] = {}

_VIGILES_TOP_KEYS = {"manifest_version", "manifest_name", "distro", "distro_version", "machine", "image"}
_SPDX_TAG_LINE = re.compile(r"^[ \t]*SPDXVersion[ \t]*:", re.MULTILINE)  # no \s*: it would backtrack over blank lines
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_CYCLONEDX_NS = "http://cyclonedx.org/schema/bom/"
_SPDX_RDF_NS = "http://spdx.org/rdf/terms"


def register_format(format_id: str, reader: Reader) -> None:
    """Install (or replace) the reader for ``format_id``."""
    _READERS[format_id] = reader


def _decode_json(text: str, source: Optional[str]) -> Any:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SbomError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", source) from None
    except RecursionError:
        raise SbomError("invalid JSON: nested too deeply", source) from None
    except ValueError as exc:  # e.g. an integer beyond the 4300-digit conversion limit
        raise SbomError(f"invalid JSON: {str(exc).split(';')[0]}", source) from None
    if _SURROGATE_ESCAPE.search(text) and _holds_lone_surrogate(document):
        raise SbomError("invalid JSON: a string holds a lone surrogate escape (\\uD800-\\uDFFF), which is not "
                        "Unicode text", source)
    return document


def _holds_lone_surrogate(document: Any) -> bool:
    """Whether any key or string holds an unpaired surrogate (a pair decodes to one character)."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if _LONE_SURROGATE.search(value):
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _mentions_spdx3(context: Any) -> bool:
    """An SPDX 3 JSON-LD `@context` (a URL, or a list of them and inline objects)."""
    entries = context if isinstance(context, list) else [context]
    return any(isinstance(entry, str) and "spdx.org/rdf/3" in entry for entry in entries)


def _json_format(document: Any, source: Optional[str]) -> str:
    if not isinstance(document, dict):
        raise SbomError(f"unrecognised SBOM: top-level JSON is {type(document).__name__}, not an object", source)
    if str(document.get("bomFormat", "")).lower() == "cyclonedx" or "cyclonedx" in str(document.get("$schema", "")):
        return CYCLONEDX_JSON
    if "spdxVersion" in document:
        return SPDX_JSON
    if _mentions_spdx3(document.get("@context")):
        return SPDX3_JSONLD
    if "packages" in document or _VIGILES_TOP_KEYS & document.keys():
        return VIGILES
    raise SbomError(
        "unrecognised SBOM: JSON object is not a Vigiles manifest, CycloneDX or SPDX document", source
    )


def _xml_format(text: str, source: Optional[str]) -> str:
    namespace, local, declared = root_element(text, source)
    if namespace.startswith(_CYCLONEDX_NS):  # the reader says so if the root is not <bom>
        return CYCLONEDX_XML
    if local == "RDF" and any(uri.startswith(_SPDX_RDF_NS) for uri in declared.values()):
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
    if _SPDX_TAG_LINE.search(stripped):
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

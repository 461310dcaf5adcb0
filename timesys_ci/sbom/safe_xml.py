"""Untrusted XML, read safely: no DTD (hence no entity declarations), a forced encoding, bounded input.

Entity amplification ("billion laughs", or one entity just under expat's 100x
limit) and external entities all need a document type declaration, so a
document that has one is refused before parsing; SBOM formats never use one.
The check is complete because the parser is told the text is UTF-8: a
declared encoding cannot smuggle in a `<!DOCTYPE` spelled in other bytes.
The C parser stays in use (defusedxml would swap in the pure-Python one),
and the tree builder refuses a doctype too, as a second line.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from typing import Dict, Optional, Tuple

from timesys_ci.sbom.errors import SbomError

_CHUNK = 1 << 16
# The prolog before the root element: white space, the XML declaration, processing instructions, comments.
_PROLOG = re.compile(r"\A(?:[ \t\r\n]+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
_START_TAG = re.compile(r"<([^\s/>!?]+)([^>]*)>")
_NS_DECLARATION = re.compile(r"""xmlns(?::([^\s=]+))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def refuse_dtd(text: str, source: Optional[str]) -> None:
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise SbomError("XML with a DTD or entity declarations is not accepted (<!DOCTYPE found)", source)


def root_element(text: str, source: Optional[str]) -> Tuple[str, str, Dict[str, str]]:
    """(namespace, local name, namespaces declared on it) of the root element, from its start tag alone.

    Whatever the length of the prolog, only the prolog and the root's start
    tag are read; the namespace is the one the tag really binds, not a URL
    that merely appears near the top of the file.
    """
    refuse_dtd(text, source)
    prolog = _PROLOG.match(text)
    tag = _START_TAG.match(text, prolog.end() if prolog else 0)
    if tag is None:
        raise SbomError("invalid XML: no root element after the prolog", source)
    declared = {prefix or "": first or second for prefix, first, second in _NS_DECLARATION.findall(tag.group(2))}
    prefix, _, local = tag.group(1).rpartition(":")
    return declared.get(prefix, ""), local, declared


class _NoDoctype(ElementTree.TreeBuilder):
    def doctype(self, name: str, pubid: Optional[str], system: Optional[str]) -> None:
        raise SbomError("XML with a DTD is not accepted")


def parse_xml(text: str, source: Optional[str]) -> ElementTree.Element:
    """The element tree of `text`; a one-line SbomError for a DTD or malformed XML."""
    refuse_dtd(text, source)
    parser = ElementTree.XMLParser(target=_NoDoctype(), encoding="utf-8")
    data = text.encode("utf-8")
    try:
        for start in range(0, len(data), _CHUNK):  # fed in chunks: an error stops the parse at once
            parser.feed(data[start:start + _CHUNK])
        return parser.close()  # type: ignore[no-any-return]
    except ElementTree.ParseError as exc:
        line, column = exc.position
        raise SbomError(f"invalid XML at line {line} column {column + 1}", source) from None
    except SbomError as exc:
        raise SbomError(exc.problem, source) from None

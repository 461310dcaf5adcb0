"""Fixtures and the independent validators shared by the tests of the report/SBOM exports.

CycloneDX documents are checked with cyclonedx-python-lib's validators (the official JSON schemas and XSDs it
ships), SPDX 2 documents with spdx-tools (its JSON and tag-value parsers, then its full document validation, which
checks licence expressions against the SPDX licence list and every `LicenseRef-` against the declared ones), and
the licence expressions CycloneDX carries with license-expression. None of them fetches anything.
"""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Optional, Union

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx.validation.xml import XmlValidator
from license_expression import ExpressionError, get_spdx_licensing
from spdx_tools.spdx.parser.error import SPDXParsingError
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.parser.tagvalue.parser import Parser as TagValueParser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from timesys_ci.sbom.model import Sbom
from timesys_ci.sbom.vigiles_manifest import read_vigiles_manifest

FIXTURES = Path(__file__).parent / "fixtures" / "exports"


def load_report() -> dict[str, Any]:
    return copy.deepcopy(_load("report.json"))


def load_manifest() -> dict[str, Any]:
    return copy.deepcopy(_load("manifest.json"))


def manifest_sbom(document: Optional[dict[str, Any]] = None) -> Sbom:
    """The exports' fixture manifest (or `document`) read the way the service reads an upload."""
    return read_vigiles_manifest(load_manifest() if document is None else document, "manifest.json")


@lru_cache(maxsize=None)
def _load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _cyclonedx_validator(file_format: str, version: str) -> Union[JsonStrictValidator, XmlValidator]:
    schema = SchemaVersion.from_version(version)
    return JsonStrictValidator(schema) if file_format == "json" else XmlValidator(schema)


def cyclonedx_errors(data: Union[bytes, str], file_format: str, version: str) -> list[str]:
    """What the official CycloneDX `version` schema says is wrong with the document (first five), [] when valid."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    errors = _cyclonedx_validator(file_format, version).validate_str(text, all_errors=True)
    return [str(error)[:300] for error in list(errors or ())[:5]]


def spdx_errors(data: Union[bytes, str], version: str) -> list[str]:
    """What spdx-tools says is wrong with an SPDX 2.x JSON or tag-value document, [] when valid."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        if text.lstrip().startswith("{"):
            document = JsonLikeDictParser().parse(json.loads(text))
        else:
            document = TagValueParser().parse(text)
    except SPDXParsingError as error:
        return [f"parse: {message}" for message in error.get_messages()]
    return [message.validation_message for message in validate_full_spdx_document(document, f"SPDX-{version}")]


def cyclonedx_licence_entries(bom: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for component in bom.get("components", []):
        yield from component.get("licenses", [])


_spdx_licensing = lru_cache(maxsize=1)(get_spdx_licensing)


def spdx_expression_errors(expression: str) -> list[str]:
    """Problems license-expression finds in an SPDX expression; `LicenseRef-` ids are user-defined, so allowed."""
    licensing = _spdx_licensing()
    try:
        parsed = licensing.parse(expression, validate=False, strict=True)
    except (ExpressionError, IndexError, AssertionError) as error:  # the last two: the parser's own malformed-input failures
        return [f"{type(error).__name__}: {error}"]
    return [f"unknown licence id {key!r}" for key in licensing.unknown_license_keys(parsed) if not key.startswith("LicenseRef-")]

"""Fixtures and helpers shared by the tests/test_exports_*.py files."""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "exports"
SCHEMAS = FIXTURES / "cyclonedx-schema"


def load_report() -> dict[str, Any]:
    return copy.deepcopy(_load("report.json"))


def load_manifest() -> dict[str, Any]:
    return copy.deepcopy(_load("manifest.json"))


@lru_cache(maxsize=None)
def _load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def cyclonedx_validator(version: str) -> Any:
    """A jsonschema validator for the official CycloneDX JSON schema; every $ref resolves locally."""
    from jsonschema import Draft7Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    resources = []
    for path in SCHEMAS.glob("*.schema.json"):
        contents = json.loads(path.read_text(encoding="utf-8"))
        # The bom schemas refer to their siblings relative to http://cyclonedx.org/schema/.
        resources.append((f"http://cyclonedx.org/schema/{path.name}", Resource.from_contents(contents, default_specification=DRAFT7)))
    registry = Registry().with_resources(resources)
    schema = json.loads((SCHEMAS / f"bom-{version}.SNAPSHOT.schema.json").read_text(encoding="utf-8"))
    return Draft7Validator(schema, registry=registry)


@lru_cache(maxsize=None)
def cyclonedx_xml_schema(version: str) -> Any:
    """The official CycloneDX XML schema (XSD) of `version`, loaded from the fixtures (no network)."""
    import xmlschema

    return xmlschema.XMLSchema(str(SCHEMAS / f"bom-{version}.SNAPSHOT.xsd"))

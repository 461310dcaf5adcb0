"""Typed access to a decoded document's fields, with errors naming the field path."""
from __future__ import annotations

from typing import Any, List, Mapping, Optional

from timesys_ci.sbom.errors import SbomError


class Fields:
    """Typed field access that reports the offending path in errors."""

    def __init__(self, data: Mapping[str, Any], path: str, source: Optional[str]) -> None:
        self.data, self.path, self.source = data, path, source

    def fail(self, key: str, expected: str) -> SbomError:
        found = type(self.data[key]).__name__
        return SbomError(f"{self.path}{key} must be {expected}, got {found}", self.source)

    def text(self, key: str, default: Optional[str] = None) -> Optional[str]:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(key, "a string")
        return str(value)

    def words(self, key: str) -> List[str]:
        """A space-separated string or a list of strings, as a list."""
        value = self.data.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            return value.split()
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return [word for item in value for word in item.split()]
        raise self.fail(key, "a string or a list of strings")

    def objects(self, key: str) -> List[Mapping[str, Any]]:
        """A list of objects (absent or null: empty); any other shape is an error naming the field."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(key, "a list")
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise SbomError(f"{self.path}{key}[{index}] must be an object, got {type(item).__name__}", self.source)
        return value

    def object(self, key: str) -> Mapping[str, Any]:
        """An object (absent or null: empty)."""
        value = self.data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "an object")
        return value

    def at(self, key: str, index: int, item: Mapping[str, Any]) -> "Fields":
        """Field access for ``item``, the ``index``-th element of this object's list ``key``."""
        return Fields(item, f"{self.path}{key}[{index}].", self.source)


# Descriptive fields (supplier, homepage, hashes, ...): nothing is matched on them, so a value of another shape
# counts as absent instead of refusing the document.

def loose_text(data: object, key: str) -> Optional[str]:
    """`data[key]` when `data` is an object and the value a string, else None."""
    value = data.get(key) if isinstance(data, Mapping) else None
    return value if isinstance(value, str) else None


def loose_objects(data: object, key: str) -> List[Mapping[str, Any]]:
    """The objects in the list `data[key]`; [] for any other shape."""
    value = data.get(key) if isinstance(data, Mapping) else None
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []

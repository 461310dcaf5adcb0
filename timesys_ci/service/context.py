"""What a handler receives: the caller, the decoded params and the path fields."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Optional

from timesys_ci.booleans import parse_bool
from timesys_ci.service.errors import bad_request
from timesys_ci.service.storage import Storage



@dataclass
class FileResult:
    """A raw-bytes answer (downloads)."""

    content: bytes
    mimetype: str
    filename: str


@dataclass
class Context:
    storage: Storage
    email: str
    is_admin: bool
    params: Mapping[str, Sequence[str]]
    path_args: Mapping[str, str]

    def arg(self, name: str) -> str:
        return self.path_args[name]

    def one(self, name: str, default: Optional[str] = None) -> Optional[str]:
        values = self.params.get(name)
        if not values:
            return default
        if len(values) > 1:
            raise bad_request(f"parameter '{name}' was given {len(values)} times; expected once")
        return values[0]

    def first(self, *names: str) -> Optional[str]:
        """The first of several accepted names (e.g. group_token and its LinuxLink name product_token)."""
        for name in names:
            value = self.one(name)
            if value:
                return value
        return None

    def required(self, name: str) -> str:
        value = self.one(name)
        if not value:
            raise bad_request(f"parameter '{name}' is required")
        return value

    def many(self, name: str) -> list[str]:
        return [value for value in self.params.get(name, []) if value != ""]

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.one(name)
        if value is None:
            return default
        parsed = parse_bool(value, also_false=("none", ""))  # "None": what a client signs for a None value
        if parsed is not None:
            return parsed
        raise bad_request(f"parameter '{name}' must be True or False, not {value!r}")

    def choice(self, name: str, choices: Sequence[str], default: Optional[str] = None) -> Optional[str]:
        value = self.one(name, default)
        if value is not None and value not in choices:
            raise bad_request(f"parameter '{name}' must be one of {', '.join(choices)}, not {value!r}")
        return value

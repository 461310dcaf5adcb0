"""CPE names: CPE 2.3 formatted strings and CPE 2.2 URIs.

Both forms become one :class:`Cpe` whose attributes hold *unescaped*
values in lower case, with ``*`` for ANY and ``-`` for NA. Comparison
helpers understand ANY/NA and the ``*``/``?`` wildcards that CPE 2.3
allows inside a value (``openssl*``).
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import List, Optional, Union
from urllib.parse import unquote

from timesys_ci.vulndb.errors import VulnDataError

ANY = "*"
NA = "-"
FIELDS = (
    "part", "vendor", "product", "version", "update", "edition",
    "language", "sw_edition", "target_sw", "target_hw", "other",
)
_URI_FIELDS = FIELDS[:7]
MAX_CPE_LENGTH = 1024  # NVD's longest are under 200 characters


class CpeError(VulnDataError):
    """A string is not a CPE 2.3 formatted string or CPE 2.2 URI."""


@dataclass(frozen=True)
class Cpe:
    part: str = ANY
    vendor: str = ANY
    product: str = ANY
    version: str = ANY
    update: str = ANY
    edition: str = ANY
    language: str = ANY
    sw_edition: str = ANY
    target_sw: str = ANY
    target_hw: str = ANY
    other: str = ANY

    @property
    def vendor_or_none(self) -> Optional[str]:
        """The vendor, or None when the CPE leaves it open (ANY/NA/empty)."""
        return None if self.vendor in (ANY, NA, "") else self.vendor

    def to_fs(self) -> str:
        """The CPE 2.3 formatted string (re-escaped)."""
        return "cpe:2.3:" + ":".join(_escape(getattr(self, name)) for name in FIELDS)

    def matches(self, other: "Cpe") -> bool:
        """Whether every attribute of ``self`` (the pattern) admits ``other``'s."""
        return all(value_matches(getattr(self, name), getattr(other, name)) for name in FIELDS)


def _escape(value: str) -> str:
    if value in (ANY, NA):
        return value
    return re.sub(r"([^A-Za-z0-9_.\-*?])", r"\\\1", value)


def _split_fs(text: str) -> List[str]:
    """Split a CPE 2.3 formatted string on unescaped colons, keeping escapes."""
    parts: List[str] = []
    current: List[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        current.append("\\")
    parts.append("".join(current))
    return parts


def _unescape_fs(value: str) -> str:
    # Keep "\*" / "\?" escaped so they stay literal for value_matches.
    return re.sub(r"\\([^*?])", r"\1", value)


def parse_cpe(text: str) -> Cpe:
    """Parse ``cpe:2.3:…`` or ``cpe:/…`` into a :class:`Cpe`; raise :class:`CpeError`.

    Results are cached, failures included (an SBOM's bad CPE is probed again
    for every identifier and record); names longer than MAX_CPE_LENGTH are
    refused before any work and never enter the cache.
    """
    if len(text) > MAX_CPE_LENGTH:
        raise CpeError(f"CPE name of {len(text)} characters is longer than {MAX_CPE_LENGTH} ({text[:40]!r}...)")
    parsed = _parse_cached(text)
    if isinstance(parsed, str):
        raise CpeError(parsed)  # a new exception each time: a cached one would grow its traceback
    return parsed


@functools.lru_cache(maxsize=65536)
def _parse_cached(text: str) -> Union[Cpe, str]:
    try:
        return _parse(text)
    except CpeError as exc:
        return str(exc)


def _parse(text: str) -> Cpe:
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered.startswith("cpe:2.3:"):
        values = [_unescape_fs(part) for part in _split_fs(stripped)[2:]]
        if not 1 <= len(values) <= len(FIELDS):
            raise CpeError(f"CPE 2.3 name {text!r} has {len(values)} attributes, expected 11")
        values = [value or ANY for value in values]
        names = FIELDS
    elif lowered.startswith("cpe:/"):
        raw = stripped[5:].split(":")
        if len(raw) > len(_URI_FIELDS):
            raise CpeError(f"CPE 2.2 URI {text!r} has {len(raw)} components, expected at most 7")
        values = [unquote(part) if part else ANY for part in raw]
        names = _URI_FIELDS
    else:
        raise CpeError(f"{text!r} is not a CPE name (expected 'cpe:2.3:…' or 'cpe:/…')")
    if values[0] not in ("a", "o", "h", ANY, NA):
        raise CpeError(f"CPE name {text!r} has part {values[0]!r}, expected a, o or h")
    return Cpe(**{name: value.lower() for name, value in zip(names, values)})


def try_parse_cpe(text: str) -> Optional[Cpe]:
    """Like :func:`parse_cpe` but None for anything that is not a CPE."""
    try:
        return parse_cpe(text)
    except CpeError:
        return None


@functools.lru_cache(maxsize=4096)
def _wildcard_pattern(pattern: str) -> "re.Pattern[str]":
    pieces = re.split(r"(\\.|\*|\?)", pattern)
    regex = "".join(
        ".*" if piece == "*" else "." if piece == "?" else re.escape(piece[1:] if piece.startswith("\\") else piece)
        for piece in pieces
    )
    return re.compile(regex + r"\Z")


def value_matches(pattern: str, value: str) -> bool:
    """CPE attribute comparison: ANY admits everything, NA only NA/ANY.

    ``value`` being ANY (the SBOM left the attribute open) is accepted
    too: the SBOM cannot rule the criterion out.
    """
    if pattern == ANY or value == ANY:
        return True
    if pattern == NA or value == NA:
        return pattern == value
    if "*" in pattern or "?" in pattern:
        return bool(_wildcard_pattern(pattern).match(value))
    return pattern == value

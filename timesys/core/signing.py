"""Request signing: the one place that turns (method, resource, params) into X-Auth-Signature.

The recipe (vigiles-api.md section 2) is fixed by the real service and the reference
client; a single byte of difference makes every request fail with 401, so it is
implemented once, here, and tested against the published vectors.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from timesys.core.encoding import utf8_pieces

SIGNATURE_HEADER = "X-Auth-Signature"


def _render(value: Any) -> str:
    # Python's str() spelling is part of the wire format: True/False/None, 3, 1.5.
    return value if isinstance(value, str) else str(value)


def canonical_items(params: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (name, text) pairs of the canonical string C, in signing order.

    Names sort by code point; a sequence value contributes one pair per element,
    sorted by the elements' own natural order (numbers numerically); an empty
    sequence contributes nothing; a mapping contributes its keys in insertion
    order (never used by the API, kept for byte-compatibility).
    """
    items: list[tuple[str, str]] = []
    for name in sorted(params):
        value = params[name]
        if isinstance(value, Mapping):
            items.extend((name, _render(key)) for key in value)
        elif isinstance(value, (list, tuple, set, frozenset, bytes, bytearray)):
            items.extend((name, _render(element)) for element in sorted(value))
        else:
            items.append((name, _render(value)))
    return items


def canonical_string(params: Mapping[str, Any]) -> str:
    """C: `name=value` pairs joined by `&`, unescaped (section 2.2)."""
    return "&".join(f"{name}={text}" for name, text in canonical_items(params))


def message(method: str, resource: str, params: Mapping[str, Any]) -> bytes:
    """The signed bytes: METHOD + RESOURCE + C, UTF-8 encoded (section 2.3)."""
    return f"{method.upper()}{resource}{canonical_string(params)}".encode("utf-8")


def sign_message(key: bytes, msg: bytes) -> bytes:
    """Base64(HMAC-SHA256(key, msg)) as ASCII bytes (44 characters)."""
    return base64.b64encode(hmac.new(key, msg, hashlib.sha256).digest())


def signature(key: bytes, method: str, resource: str, params: Mapping[str, Any]) -> bytes:
    """`sign_message(key, message(...))`, fed to the HMAC piece by piece.

    The message is never built: for an upload it would be another full copy of the manifest.
    """
    mac = hmac.new(key, digestmod=hashlib.sha256)
    mac.update(f"{method.upper()}{resource}".encode("utf-8"))
    for index, (name, text) in enumerate(canonical_items(params)):
        mac.update(f"{'&' if index else ''}{name}=".encode("utf-8"))
        for piece in utf8_pieces(text):
            mac.update(piece)
    return base64.b64encode(mac.digest())


def sign(key: bytes, method: str, resource: str, params: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """Return (signature, message) for a request (the message is what dry-run shows)."""
    msg = message(method, resource, params)
    return sign_message(key, msg), msg


def signatures_match(expected: bytes | str, received: bytes | str) -> bool:
    """Constant-time comparison of two signatures."""
    if isinstance(expected, str):
        expected = expected.encode("ascii", "replace")
    if isinstance(received, str):
        received = received.encode("ascii", "replace")
    return hmac.compare_digest(expected, received)

"""Versions as bytes that sort like the versions: what the store's range index compares in SQL.

For the orders ranges are written in — ``generic``, ``kernel``, ``semver``, ``openssl`` —
:func:`version_key` turns a version into bytes whose plain byte order is the order's own:
when both versions are of the scheme, ``compare(order, a, b)`` has the sign of comparing
their keys. None means the text is not a version of that scheme (the matcher would fall
back to the generic order for it, so the store cannot answer that comparison ahead of time).
rpm and dpkg versions have no such key (their comparison is an algorithm, not a tuple).

Encodings (``int`` is a length byte, then the value big-endian, so longer numbers sort later):

* kernel ``(6, 6, 21, (1, 0))`` and openssl ``(1, 1, 1, "w", (1, 0, 0))``: their fields in turn;
* semver: each number (``0x01`` int), ``0x00``, then ``0x02`` for a release or ``0x01`` and the
  pre-release identifiers (``0x01`` int or ``0x02`` text ``0x00``), ``0x00``;
* generic (:class:`~timesys_ci.vulndb.versions.Version`): the epoch, then each token ``X`` that
  is not a zero together with ``k``, the count of zeros right before it. The generic order pads
  the shorter version with zeros, so a zero run followed by a pre-release word sorts *below*
  the end of a version and one followed by a number or letters *above* it: the run's byte is
  ``0x01 + k`` for the first (more zeros sort higher) and ``0xbe - k`` for the second (more
  zeros sort lower); the end of the version is ``0x40``, between the two.

No key starts with ``0xff``: :data:`HIGHEST` is above every key and ``b""`` below; ``key +
b"\\x00"`` is the smallest key above ``key`` (:func:`above`), so every range is stored as
``lo <= key < hi``.
"""
from __future__ import annotations

import functools
import re
from typing import List, Optional

from timesys_ci.vulndb.versions import GENERIC, KERNEL, OPENSSL, SEMVER, Version, VersionOrder

LOWEST = b""
HIGHEST = b"\xff"
_MAX_ZEROS = 62  # a longer run of zero tokens gets no key (nobody writes 1.0.0.….0.1 with 63 zeros)
_LEADING_NUMBERS = re.compile(r"^[vV]?(\d+(?:\.\d+)*)")


class _Unencodable(Exception):
    """A version too odd for a key (callers get None)."""


def _int(value: int) -> bytes:
    if value < 0:
        raise _Unencodable(value)
    size = (value.bit_length() + 7) // 8
    if size > 250:
        raise _Unencodable(value)
    return bytes((size,)) + value.to_bytes(size, "big") if size else b"\x00"


def _generic(epoch: int, tokens: tuple) -> bytes:
    out = bytearray(_int(epoch))
    zeros = 0
    for kind, value in tokens:
        if kind == 1 and value == 0:
            zeros += 1
            continue
        if zeros > _MAX_ZEROS:
            raise _Unencodable(zeros)
        if kind == 0:  # a pre-release word or "~": below the end of the version
            out += bytes((0x01 + zeros, value + 2))
        elif kind == 1:
            out += bytes((0xBE - zeros, 0x01))
            out += _int(value)
        else:
            out += bytes((0xBE - zeros, 0x02))
            out += value.encode() + b"\x00"
        zeros = 0
    out.append(0x40)
    return bytes(out)


def _semver(key: tuple) -> bytes:
    numbers, release = key
    out = bytearray()
    for number in numbers:
        out.append(0x01)
        out += _int(number)
    out.append(0x00)
    if release == (1,):
        out.append(0x02)
        return bytes(out)
    out.append(0x01)
    for is_text, number, text in release[1]:
        if is_text:
            out += b"\x02" + text.encode() + b"\x00"
        else:
            out += b"\x01" + _int(number)
    out.append(0x00)
    return bytes(out)


def _kernel(key: tuple) -> bytes:
    major, minor, patch, (final, rc) = key
    return _int(major) + _int(minor) + _int(patch) + bytes((final,)) + _int(rc)


def _openssl(key: tuple) -> bytes:
    major, minor, patch, letters, (final, rank, number) = key
    return _int(major) + _int(minor) + _int(patch) + letters.encode() + b"\x00" + bytes((final,)) + _int(rank) \
        + _int(number)


_ENCODERS = {SEMVER.name: _semver, KERNEL.name: _kernel, OPENSSL.name: _openssl}


@functools.lru_cache(maxsize=262144)
def _cached(name: str, text: str) -> Optional[bytes]:
    try:
        if name == GENERIC.name:
            version = Version(text)
            return _generic(version.epoch, version.tokens) if version.known else None
        if name == "nvd":
            version = Version(text)
            return _generic(0, version.tokens) if version.known else None
        order = _ORDERS[name]
        key = order.key(text)
        return None if key is None else _ENCODERS[name](key)
    except _Unencodable:
        return None


_ORDERS = {SEMVER.name: SEMVER, KERNEL.name: KERNEL, OPENSSL.name: OPENSSL}
ORDERS = (GENERIC, KERNEL, SEMVER, OPENSSL)  # the orders with keys


def has_keys(order: VersionOrder) -> bool:
    return order in ORDERS


def version_key(order: VersionOrder, text: str) -> Optional[bytes]:
    """The key of ``text`` in ``order`` (one of :data:`ORDERS`); None when it is not a version of it."""
    if not isinstance(text, str):
        return None
    return _cached(order.name, text)


def nvd_key(text: str) -> Optional[bytes]:
    """The generic key of ``text`` without its epoch: how NVD's epoch-less bounds compare a package version."""
    return _cached("nvd", text) if isinstance(text, str) else None


def above(key: bytes) -> bytes:
    """The smallest key greater than ``key``."""
    return key + b"\x00"


def wildcard_limit(order: VersionOrder, bound: str) -> Optional[bytes]:
    """For an upper bound ending in ``*`` (``6.6.*``): the key every version <= it is below, or None.

    Only for the kernel order, where the leading numbers of a version are its key's first
    fields; elsewhere the wildcard rule (leading numbers of the text) has no key form.
    """
    prefix = bound.strip()[:-1].rstrip(".")
    parts: List[str] = prefix.split(".")
    if order is not KERNEL or not prefix or not all(part.isdigit() for part in parts) or len(parts) > 3:
        return None
    numbers = [int(part) for part in parts]
    numbers[-1] += 1
    try:
        return b"".join(_int(number) for number in numbers)
    except _Unencodable:
        return None

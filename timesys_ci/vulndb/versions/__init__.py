"""Version orders: the generic embedded-Linux order and one per versioning scheme (see :mod:`.orders`).

:func:`compare` compares two versions in a given order and falls back to the
generic order when either text is not a version of that scheme (a ``semver``
range checked against ``2020-06-08-5a8b3662``); None means the two cannot be
compared at all (an unknown version such as ``custom``).

:func:`at_most_wildcard` reads the CVE JSON 5 convention that ``*`` in an upper
bound is infinity: ``lessThanOrEqual: 6.6.*`` is every 6.6.x; ``*`` alone has
no upper bound.
"""
from __future__ import annotations

import functools
import re
from typing import Optional

from timesys_ci.vulndb.versions.generic import (
    UNKNOWN_VERSIONS,
    Version,
    compare_versions,
    in_range,
    is_unknown_version,
)
from timesys_ci.vulndb.versions.orders import (
    DEB,
    GENERIC,
    KERNEL,
    OPENSSL,
    RPM,
    SEMVER,
    VersionOrder,
    ecosystem_order,
    order_for,
)

__all__ = [
    "DEB", "GENERIC", "KERNEL", "OPENSSL", "RPM", "SEMVER", "UNKNOWN_VERSIONS", "Version", "VersionOrder",
    "at_most_wildcard", "compare", "compare_versions", "ecosystem_order", "in_range", "is_unknown_version",
    "is_wildcard", "order_for", "same_branch",
]

_LEADING_NUMBERS = re.compile(r"^[vV]?(\d+(?:\.\d+)*)")


@functools.lru_cache(maxsize=262144)
def compare(order: VersionOrder, a: str, b: str) -> Optional[int]:
    """-1/0/1 for ``a`` vs ``b`` in ``order`` (generic when either is foreign to it); None if incomparable."""
    key_a, key_b = order.key(a), order.key(b)
    if key_a is None or key_b is None:
        if order is GENERIC:
            return None
        return compare(GENERIC, a, b)
    if key_a == key_b:
        return 0
    return -1 if key_a < key_b else 1


def is_wildcard(bound: Optional[str]) -> bool:
    return bool(bound) and bound.strip().endswith("*")  # type: ignore[union-attr]


def at_most_wildcard(order: VersionOrder, version: str, bound: str) -> Optional[bool]:
    """``version`` <= ``bound`` where ``bound`` ends in ``*`` (``6.6.*``: every 6.6.x; ``*``: everything)."""
    prefix = bound.strip()[:-1].rstrip(".")
    if not prefix:
        return True
    wanted = prefix.split(".")
    found = _LEADING_NUMBERS.match(version.strip())
    if not found or not all(part.isdigit() for part in wanted):
        outcome = compare(order, version, prefix)
        return None if outcome is None else outcome <= 0 or _starts_with(version, prefix)
    have = [int(part) for part in found.group(1).split(".")][:len(wanted)]
    have += [0] * (len(wanted) - len(have))
    return have <= [int(part) for part in wanted]


def _starts_with(version: str, prefix: str) -> bool:
    return version.strip().startswith(prefix + ".") or version.strip() == prefix


def same_branch(order: VersionOrder, a: str, b: str) -> bool:
    """Whether two versions are in one release series (always, for orders without series such as rpm)."""
    if order.key(a) is not None and order.key(b) is not None:
        return order.branch(a) == order.branch(b)
    return order is not GENERIC and same_branch(GENERIC, a, b)

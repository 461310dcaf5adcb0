"""Version orders per versioning scheme, and which one a record's ranges are written in.

Every order turns a version string into a sort key (``key``; None when the text is
not a version of that scheme) and names its release series (``branch``: a fix in
the package's own series is the one an upgrade should pick).

=================  ==========================================================  =======================
order              used for                                                     branch
=================  ==========================================================  =======================
``generic``        NVD ranges, CVE JSON 5 ``custom`` and unknown types, Yocto   all numbers but the last
                   and Buildroot versions (``+git``, dates, epochs), Alpine     (``1.36.1`` → 1.36)
``semver``         CVE JSON 5 ``semver``, OSV ``SEMVER`` (lenient: ``6.12`` is   major.minor
                   ``6.12.0``, build metadata such as ``+git`` ignored)
``openssl``        OpenSSL's letter releases (``1.0.2zl``, ``1.1.1w``) and 3.x   1.x.y / 3.x
``kernel``         Linux: ``6.6.21``, ``6.8-rc1``, local suffixes ignored        major.minor (2.6.x)
``rpm``            rpm EVR (``1:1.1.1k-6.el8_5``), rpmvercmp with ``~``/``^``    none (one distro release)
``deb``            dpkg versions (``1:1.2.8.dfsg-5+deb9u1``)                   none
=================  ==========================================================  =======================

``git`` (and other VCS) version types have no order: commit ranges are never used to
compare version numbers (:func:`order_for` returns None for them).
"""
from __future__ import annotations

import functools
import re
from typing import Any, Callable, Optional, Tuple

from timesys_ci.vulndb.versions.generic import Version

VCS_TYPES = frozenset({"git", "hg", "svn", "cvs", "bzr", "fossil"})
RPM_ECOSYSTEMS = frozenset({"almalinux", "rocky linux", "red hat", "opensuse", "suse", "mageia", "openeuler",
                            "azure linux", "oracle linux"})
DEB_ECOSYSTEMS = frozenset({"debian", "ubuntu"})
KERNEL_PRODUCTS = frozenset({"linux_kernel"})
OPENSSL_PRODUCTS = frozenset({"openssl"})


class VersionOrder:
    """Base: subclasses define ``key`` (None = not a version here) and ``branch``."""

    name = "order"

    def key(self, text: str) -> Optional[Any]:
        raise NotImplementedError

    def branch(self, text: str) -> Optional[Tuple[Any, ...]]:
        return None

    def __repr__(self) -> str:
        return f"<version order {self.name}>"


@functools.lru_cache(maxsize=65536)
def _generic_key(text: str) -> Optional[Version]:
    version = Version(text)
    return version if version.known else None


class GenericOrder(VersionOrder):
    name = "generic"

    def key(self, text: str) -> Optional[Any]:
        return _generic_key(text)

    def branch(self, text: str) -> Optional[Tuple[Any, ...]]:
        version = Version(text)
        if not version.known:
            return None
        numbers = []
        for kind, value in version.tokens:
            if kind != 1:  # numbers only, up to the first letter or pre-release word
                break
            numbers.append(value)
        return (version.epoch, *numbers[:-1]) if len(numbers) > 1 else (version.epoch, *numbers)


class KeyedOrder(VersionOrder):
    """An order given by a key function and the part of the key that names the release series."""

    def __init__(self, name: str, key: Callable[[str], Optional[Tuple[Any, ...]]],
                 series: Callable[[Tuple[Any, ...]], Tuple[Any, ...]]) -> None:
        self.name, self._key, self._series = name, key, series

    def key(self, text: str) -> Optional[Any]:
        return self._key(text)

    def branch(self, text: str) -> Optional[Tuple[Any, ...]]:
        key = self._key(text)
        return None if key is None else self._series(key)


def _stable_series(key: Tuple[Any, ...]) -> Tuple[Any, ...]:
    """major.minor from 3.x on; before that the third number too (Linux 2.6.x, OpenSSL 1.1.1)."""
    return key[:2] if key[0] >= 3 else key[:3]


_SEMVER = re.compile(r"^[vV]?(\d+(?:\.\d+)*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.+-]*)?$")


@functools.lru_cache(maxsize=65536)
def _semver_key(text: str) -> Optional[Tuple[Any, ...]]:
    match = _SEMVER.match(text.strip())
    if not match:
        return None
    numbers = [int(part) for part in match.group(1).split(".")]
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    if match.group(2) is None:
        return (tuple(numbers), (1,))
    identifiers = tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in match.group(2).split("."))
    return (tuple(numbers), (0, identifiers))


_KERNEL = re.compile(r"^[vV]?(\d+)\.(\d+)(?:\.(\d+))?(?:[-.~]?rc(\d+))?(?=$|[-+_.~])", re.IGNORECASE)


@functools.lru_cache(maxsize=65536)
def _kernel_key(text: str) -> Optional[Tuple[int, int, int, Tuple[int, int]]]:
    match = _KERNEL.match(text.strip())
    if not match:
        return None
    rc = match.group(4)
    return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0), (0, int(rc)) if rc else (1, 0))


_OPENSSL = re.compile(r"^(?:openssl[-_])?(\d+)[._](\d+)[._](\d+)([a-z]{0,4})(?:[-_~]?(pre|alpha|beta)(\d*))?"
                      r"(?:[-+].*)?$", re.IGNORECASE)
_PRE_RANK = {"pre": 0, "alpha": 0, "beta": 1}


@functools.lru_cache(maxsize=65536)
def _openssl_key(text: str) -> Optional[Tuple[Any, ...]]:
    match = _OPENSSL.match(text.strip())
    if not match:
        return None  # e.g. "fips-1.1.1": another product line, never compared with releases
    major, minor, patch, letters, pre, pre_number = match.groups()
    # OpenSSL letters run a..z, za..zz, zza...: plain string order sorts them right.
    stage = (1, 0, 0) if pre is None else (0, _PRE_RANK[pre.lower()], int(pre_number or 0))
    return (int(major), int(minor), int(patch), letters.lower(), stage)


def _is_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def rpmvercmp(a: str, b: str) -> int:
    """rpm's segment comparison: digits beat letters, ``~`` sorts before anything, ``^`` after the end."""
    if a == b:
        return 0
    i = j = 0
    while i < len(a) or j < len(b):
        while i < len(a) and not _is_alnum(a[i]) and a[i] not in "~^":
            i += 1
        while j < len(b) and not _is_alnum(b[j]) and b[j] not in "~^":
            j += 1
        at_a, at_b = a[i] if i < len(a) else "", b[j] if j < len(b) else ""
        if at_a == "~" or at_b == "~":
            if at_a != "~":
                return 1
            if at_b != "~":
                return -1
            i, j = i + 1, j + 1
            continue
        if at_a == "^" or at_b == "^":
            if not at_a:
                return -1
            if not at_b:
                return 1
            if at_a != "^":
                return 1
            if at_b != "^":
                return -1
            i, j = i + 1, j + 1
            continue
        if not at_a or not at_b:
            break
        numeric = at_a.isdigit()
        test = str.isdigit if numeric else (lambda c: c.isascii() and c.isalpha())
        start_a, start_b = i, j
        while i < len(a) and test(a[i]):
            i += 1
        while j < len(b) and test(b[j]):
            j += 1
        seg_a, seg_b = a[start_a:i], b[start_b:j]
        if not seg_b:
            return 1 if numeric else -1
        if numeric:
            seg_a, seg_b = seg_a.lstrip("0"), seg_b.lstrip("0")
            if len(seg_a) != len(seg_b):
                return 1 if len(seg_a) > len(seg_b) else -1
        if seg_a != seg_b:
            return 1 if seg_a > seg_b else -1
    if i >= len(a) and j >= len(b):
        return 0
    return -1 if i >= len(a) else 1


def _split_evr(text: str) -> Tuple[int, str, str]:
    epoch, _, rest = text.strip().rpartition(":")
    version, dash, release = rest.rpartition("-")
    if not dash:
        version, release = rest, ""
    return (int(epoch) if epoch.isdigit() else 0), version, release


@functools.total_ordering
class _CmpKey:
    """A sort key built from a three-way comparison (rpm and dpkg have no tuple form)."""

    __slots__ = ("text", "_cmp")

    def __init__(self, text: str, cmp: Any) -> None:
        self.text, self._cmp = text, cmp

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _CmpKey) and self._cmp(self.text, other.text) == 0

    def __lt__(self, other: "_CmpKey") -> bool:
        return bool(self._cmp(self.text, other.text) < 0)

    def __hash__(self) -> int:  # equal keys may differ in text ("1.0" vs "1.00"): hash coarsely
        return 0


def _evr_compare(a: str, b: str, parts: Callable[[str, str], int], release_needed: bool) -> int:
    """epoch, then version, then release/revision; rpm leaves the release out when one side has none."""
    epoch_a, version_a, release_a = _split_evr(a)
    epoch_b, version_b, release_b = _split_evr(b)
    if epoch_a != epoch_b:
        return -1 if epoch_a < epoch_b else 1
    if release_needed and not (release_a and release_b):
        return parts(version_a, version_b)
    return parts(version_a, version_b) or parts(release_a, release_b)


def rpm_compare(a: str, b: str) -> int:
    return _evr_compare(a, b, rpmvercmp, release_needed=True)


_VALID_EVR = re.compile(r"^(\d+:)?[0-9A-Za-z][0-9A-Za-z.+~^_-]*$")


class EvrOrder(VersionOrder):
    """rpm and dpkg: epoch:version-release strings compared by the package manager's own rules."""

    def __init__(self, name: str, compare: Callable[[str, str], int]) -> None:
        self.name, self._compare = name, compare

    def key(self, text: str) -> Optional[Any]:
        return _CmpKey(text.strip(), self._compare) if _VALID_EVR.match(text.strip()) else None


def _deb_order(char: str) -> int:
    if not char or char.isdigit():
        return 0
    if char.isalpha():
        return ord(char)
    if char == "~":
        return -1
    return ord(char) + 256


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _deb_order(a[i] if i < len(a) else "")
            bc = _deb_order(b[j] if j < len(b) else "")
            if ac != bc:
                return -1 if ac < bc else 1
            i, j = i + 1, j + 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i, j = i + 1, j + 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return -1 if first_diff < 0 else 1
    return 0


def deb_compare(a: str, b: str) -> int:
    return _evr_compare(a, b, _verrevcmp, release_needed=False)


GENERIC = GenericOrder()
SEMVER = KeyedOrder("semver", _semver_key, lambda key: (key[0] + (0,))[:2])
KERNEL = KeyedOrder("kernel", _kernel_key, _stable_series)
OPENSSL = KeyedOrder("openssl", _openssl_key, _stable_series)
RPM = EvrOrder("rpm", rpm_compare)
DEB = EvrOrder("deb", deb_compare)


def ecosystem_order(ecosystem: Optional[str]) -> VersionOrder:
    """The order of an OSV ecosystem's ``ECOSYSTEM`` ranges (the part before ``:`` decides)."""
    base = (ecosystem or "").split(":", 1)[0].strip().lower()
    if base in RPM_ECOSYSTEMS:
        return RPM
    if base in DEB_ECOSYSTEMS:
        return DEB
    if base == "linux":
        return KERNEL
    return GENERIC


@functools.lru_cache(maxsize=4096)
def order_for(version_type: Optional[str], *, product: Optional[str] = None) -> Optional[VersionOrder]:
    """The order for a CVE JSON 5 ``versionType`` (or an OSV range type) of ``product``; None for VCS types."""
    kind = (version_type or "").strip().lower()
    if kind in VCS_TYPES:
        return None
    if product in KERNEL_PRODUCTS:
        return KERNEL
    if product in OPENSSL_PRODUCTS:
        return OPENSSL
    if kind == "semver":
        return SEMVER
    if kind == "rpm":
        return RPM
    if kind in ("deb", "dpkg", "debian"):
        return DEB
    return GENERIC

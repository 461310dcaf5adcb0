"""Package building shared by the SBOM-standard readers (CycloneDX, SPDX 2, SPDX 3).

Those formats name a product through CPEs rather than a ``cve_product``
field, and build systems list one product several times (a Yocto recipe
and each binary package split from it), so readers derive the CVE product
from the CPEs and fold repeated entries into one package.
"""
from __future__ import annotations

import re
from typing import Callable, Dict, Hashable, Iterable, List, Optional, Tuple

from timesys_ci.sbom.model import Package

PLACEHOLDERS = {"", "unknown", "none", "noassertion", "unset"}
_CPE_SPLIT = re.compile(r"(?<!\\):")
_WILDCARDS = {"", "*", "-"}


def is_placeholder(value: Optional[str]) -> bool:
    return value is None or value.strip().lower() in PLACEHOLDERS


def _cpe_vendor_product(cpe: str) -> Optional[Tuple[str, str]]:
    """(vendor, product) of a CPE 2.3 string or 2.2 URI; vendor "" when the CPE leaves it open."""
    if cpe.startswith("cpe:2.3:"):
        parts = _CPE_SPLIT.split(cpe[len("cpe:2.3:"):])
    elif cpe.startswith("cpe:/"):
        parts = cpe[len("cpe:/"):].split(":")
    else:
        return None
    if len(parts) < 3 or parts[2] in _WILDCARDS:
        return None
    vendor = "" if parts[1] in _WILDCARDS else parts[1]
    return vendor.replace("\\", ""), parts[2].replace("\\", "")


def cve_products(name: str, cpe_ids: Iterable[str]) -> List[str]:
    """``vendor:product`` (or ``product``) tokens of the CPEs; the package name when there are none."""
    tokens: Dict[str, None] = {}
    for cpe in cpe_ids:
        named = _cpe_vendor_product(cpe)
        if named:
            tokens[f"{named[0]}:{named[1]}" if named[0] else named[1]] = None
    return list(tokens) or [name]


def make_package(
    name: str,
    version: Optional[str],
    cpe_ids: Iterable[str] = (),
    purl: Optional[str] = None,
    patched_cves: Optional[Dict[str, List[str]]] = None,
    component_type: Optional[str] = None,
    license: Optional[str] = None,
) -> Package:
    cpes = list(dict.fromkeys(cpe.strip() for cpe in cpe_ids if not is_placeholder(cpe)))
    resolved_version = "unset" if is_placeholder(version) else str(version).strip()
    return Package(
        name=name,
        version=resolved_version,
        cve_product=cve_products(name, cpes),
        cve_version=resolved_version,
        cpe_ids=cpes,
        purl=None if is_placeholder(purl) else purl,
        patched_cves=dict(patched_cves or {}),
        component_type=[component_type] if component_type else [],
        license=None if is_placeholder(license) else license,
    )


def _absorb(kept: Package, other: Package) -> None:
    kept.cpe_ids += [cpe for cpe in other.cpe_ids if cpe not in kept.cpe_ids]
    kept.cve_product = cve_products(kept.name, kept.cpe_ids)
    kept.purl = kept.purl or other.purl
    for cve, patches in other.patched_cves.items():
        merged = kept.patched_cves.setdefault(cve, [])
        merged += [patch for patch in patches if patch not in merged]


def _fold(packages: List[Package], key_of: Callable[[Package], Optional[Hashable]],
          aliases: Dict[str, str]) -> List[Package]:
    slots: Dict[Hashable, int] = {}
    result: List[Package] = []
    for package in packages:
        key = key_of(package)
        if key is None or key not in slots:
            if key is not None:
                slots[key] = len(result)
            result.append(package)
            continue
        first = result[slots[key]]
        # The shorter name is the product (busybox, not busybox-hwclock); keep it.
        if len(package.name) < len(first.name):
            result[slots[key]], package, first = package, first, package
        _absorb(first, package)
        if package.name != first.name:
            aliases[package.name] = first.name
    return result


def merge_duplicates(packages: List[Package]) -> Tuple[List[Package], Dict[str, str]]:
    """One package per name+version, then per CPE set+version (a recipe and its binary packages).

    Returns the packages and a map from each dropped name to the name it was folded into,
    so statements about a dropped package can be re-pointed.
    """
    aliases: Dict[str, str] = {}
    by_name = _fold(packages, lambda p: (p.name, p.version), aliases)
    by_cpe = _fold(by_name, lambda p: (p.version, tuple(sorted(p.cpe_ids))) if p.cpe_ids else None, aliases)
    for dropped, target in list(aliases.items()):
        seen = {dropped}
        while target in aliases and target not in seen:
            seen.add(target)
            target = aliases[target]
        aliases[dropped] = target
    return by_cpe, aliases

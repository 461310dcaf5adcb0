"""Package building shared by the SBOM-standard readers (CycloneDX, SPDX 2, SPDX 3).

Those formats name a product through CPEs rather than a ``cve_product``
field, and build systems list one product several times (a Yocto recipe
and each binary package split from it), so readers derive the CVE product
from the CPEs and fold repeated entries into one package.
"""
from __future__ import annotations

from typing import Callable, Dict, Hashable, Iterable, List, Optional, Sequence, Tuple

from timesys_ci.sbom.model import Package, checksum, cpe_products, is_placeholder, known


def make_package(
    name: str,
    version: Optional[str],
    cpe_ids: Iterable[str] = (),
    purl: Optional[str] = None,
    patched_cves: Optional[Dict[str, List[str]]] = None,
    component_type: Optional[str] = None,
    license: Optional[str] = None,
    *,
    supplier: Optional[str] = None,
    download_location: Optional[str] = None,
    checksums: Sequence[Tuple[Optional[str], Optional[str]]] = (),
    homepage: Optional[str] = None,
    summary: Optional[str] = None,
) -> Package:
    """A package of an SBOM-standard document; placeholders ("NOASSERTION", "") become absent values."""
    cpes = list(dict.fromkeys(cpe.strip() for cpe in cpe_ids if not is_placeholder(cpe)))
    resolved_version = known(version) or "unset"
    return Package(
        name=name,
        version=resolved_version,
        cve_product=cpe_products(name, cpes),
        cve_version=resolved_version,
        cpe_ids=cpes,
        purl=known(purl),
        patched_cves=dict(patched_cves or {}),
        component_type=[component_type] if component_type else [],
        license=known(license),
        supplier=known(supplier),
        download_location=known(download_location),
        checksums=tuple(dict.fromkeys(pair for pair in (checksum(*item) for item in checksums) if pair)),
        homepage=known(homepage),
        summary=known(summary),
    )


_DESCRIPTIVE = ("license", "supplier", "download_location", "homepage", "summary")


def _absorb(kept: Package, other: Package) -> None:
    kept.cpe_ids += [cpe for cpe in other.cpe_ids if cpe not in kept.cpe_ids]
    kept.cve_product = cpe_products(kept.name, kept.cpe_ids)
    kept.purl = kept.purl or other.purl
    for name in _DESCRIPTIVE:  # a recipe and its binary packages describe one product: fill in what one lacks
        if getattr(kept, name) is None:
            setattr(kept, name, getattr(other, name))
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

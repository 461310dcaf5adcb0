"""The packages an SBOM export lists, and the lookup from report rows to them.

CycloneDX (SBOM conversion, `cyclonedx-sbom-vex`) and SPDX list the uploaded SBOM's packages through here,
whatever format it came in; what each package says is `timesys_ci.sbom.model.Package`'s.
"""
from __future__ import annotations

from typing import Iterable, Optional

from timesys_ci.sbom.model import Package, Sbom, known
from timesys_ci.vulndb.cpe import ANY, Cpe


def sbom_packages(sbom: Optional[Sbom]) -> list[Package]:
    """One package per distinct `name@version`, sorted by name then version."""
    found: dict[str, Package] = {}
    for package in sbom.packages if sbom is not None else ():
        found.setdefault(package.ref, package)
    return sorted(found.values(), key=lambda package: (package.name.lower(), package.stated_version,
                                                       package.key or package.name))


def cpe_names(package: Package) -> tuple[str, ...]:
    """The CPEs an export writes: the package's own, else the ones its CVE product names (Yocto's rule
    `cpe:2.3:*:VENDOR:PRODUCT:VERSION:...`) when that product is not just the package name, which every reader
    assumes anyway; so an SBOM converted from a manifest still names the product the scan matched."""
    own = tuple(cpe for cpe in package.cpe_ids if cpe.lower().startswith("cpe:"))
    if own or not package.cve_product or package.cve_product == [package.name]:
        return own
    version = known(package.match_version) or ANY
    named = (token.rpartition(":") for token in package.cve_product)
    return tuple(dict.fromkeys(Cpe(vendor=vendor or ANY, product=product, version=version).to_fs()
                               for vendor, _, product in named if product))


def first_cpe(package: Package) -> str:
    """The first CPE 2.3 name an export writes, else the first CPE of any form, else "" (CycloneDX `cpe`)."""
    names = cpe_names(package)
    return next((cpe for cpe in names if cpe.startswith("cpe:2.3:")), names[0] if names else "")


def packages_named(packages: Iterable[Package]) -> dict[str, list[Package]]:
    """The packages each name or manifest key stands for: what a statement about that name applies to."""
    named: dict[str, list[Package]] = {}
    for package in packages:
        for name in dict.fromkeys((package.name, package.key or package.name)):
            named.setdefault(name, []).append(package)
    return named


class ComponentIndex:
    """Finds the package a report row is about: by name, then by version or CVE version."""

    def __init__(self, packages: Iterable[Package]) -> None:
        self.packages: list[Package] = list(packages)
        self._by_name = packages_named(self.packages)

    def resolve(self, name: str, version: str) -> Package:
        """The matching package; adds a bare one (so VEX refs still resolve) when the SBOM has none."""
        candidates = self._by_name.get(name, [])
        for package in candidates:
            if version in (package.stated_version, package.cve_version):
                return package
        if candidates:
            # Reports carry the CVE version (6.6.21) where the manifest may have the build version (6.6.21+git).
            return candidates[0]
        package = Package(name=name, version=version or "unset", cve_version=version)
        self.packages.append(package)
        self._by_name.setdefault(name, []).append(package)
        return package

"""Whether a read SBOM can be scanned at all: it lists packages, and they have versions.

A document that lists nothing, or whose packages carry no version, scans to zero
findings: a silent PASS. `check_coverage` refuses those (one line naming the file
and what is missing) and, when only some packages lack a version (build systems
leave it out for virtual or source-only packages), says which ones cannot be
matched against CVE version ranges.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

from timesys_ci.sbom.errors import SbomError
from timesys_ci.sbom.model import (CYCLONEDX_JSON, CYCLONEDX_XML, SPDX3_JSONLD, SPDX_JSON, SPDX_TAG, VIGILES,
                                   Package, Sbom)
from timesys_ci.vulndb.cpe import ANY, NA, try_parse_cpe
from timesys_ci.vulndb.versions import is_unknown_version

#: Where each format lists its packages, for "lists no packages" messages.
PACKAGE_CONTAINERS = {
    VIGILES: "its 'packages' object is empty",
    CYCLONEDX_JSON: "it has no 'components'",
    CYCLONEDX_XML: "it has no <components>",
    SPDX_JSON: "it has no 'packages' with a name and a version, CPE or purl",
    SPDX_TAG: "it has no PackageName entries with a version, CPE or purl",
    SPDX3_JSONLD: "it has no software_Package elements",
}
SHOWN_NAMES = 5


@dataclass(frozen=True)
class Coverage:
    """How much of an SBOM a scan can look at."""

    packages: int  # as the reader counts them (a recipe and its binary packages fold into one)
    without_version: Tuple[str, ...] = ()  # names of packages no version range can be checked for

    @property
    def scanned(self) -> int:
        return self.packages - len(self.without_version)


def has_version(package: Package) -> bool:
    """A version to compare with CVE ranges: the package's own, or one in a CPE it names (what the matcher uses)."""
    if not is_unknown_version(package.match_version):
        return True
    for text in package.cpe_ids:
        cpe = try_parse_cpe(text)
        if cpe is not None and cpe.version not in (ANY, NA) and not is_unknown_version(cpe.version):
            return True
    return False


def names(items: Tuple[str, ...], limit: int = SHOWN_NAMES) -> str:
    """`a, b, c` or `a, b, c, ... (12 in all)`."""
    shown = ", ".join(items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


def check_coverage(sbom: Sbom, source: Optional[str] = None) -> Coverage:
    """The coverage of a read SBOM; SbomError when nothing in it could be scanned."""
    source = source or sbom.source
    if not sbom.packages:
        where = PACKAGE_CONTAINERS.get(sbom.format, "it has no packages")
        raise SbomError(f"the SBOM lists no packages ({where}): there is nothing to scan", source)
    without = tuple(package.name for package in sbom.packages if not has_version(package))
    if len(without) == len(sbom.packages):
        raise SbomError(f"no package has a version ({names(without)}): none can be matched against CVE version "
                        f"ranges", source)
    return Coverage(packages=len(sbom.packages), without_version=without)

"""How the names in vulnerability records meet the names packages carry.

Packages are matched under CPE-style names (``vendor:product`` from their CPEs and
``cve_product``, or their package name). Records name software in other ways:

* CVE JSON 5 ``affected[]`` entries say ``vendor``/``product`` in the CNA's own words
  ("OpenSSL"/"OpenSSL", "Linux"/"Linux", "curl"/"curl") and sometimes a
  ``packageName`` or ``cpes``. :data:`CNA_PRODUCTS` maps the pairs whose CPE name
  differs; any other pair is lower-cased with spaces as ``_`` ("Linux Kernel" →
  ``linux_kernel``).
* Embedded builds name some packages differently from their CPE product (the
  kernel recipe is ``linux-yocto``, Buildroot's OpenSSL is ``libopenssl``).
  :data:`PACKAGE_NAME_PRODUCTS` adds the CPE product for those package names, and
  :data:`PRODUCT_ALIASES` the products SBOM generators spell differently from NVD.
  Both are used only without strict vendor matching (the alias belongs to another
  vendor).
* OSV names packages per ecosystem; :func:`purl_ecosystem` gives the OSV ecosystem
  of a package URL, so distribution advisories apply only to that distribution's
  packages.

Keep these tables small: each row is a name that really differs in embedded builds.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

if TYPE_CHECKING:  # packageurl-python is in the service extra; parsing goes through timesys_ci.sbom.purl
    from packageurl import PackageURL

CpeName = Tuple[str, str]  # (vendor, product) as in CPE names

#: CVE JSON 5 (vendor, product), normalised, -> the CPE names they stand for.
CNA_PRODUCTS: Dict[Tuple[str, str], Tuple[CpeName, ...]] = {
    ("linux", "linux"): (("linux", "linux_kernel"),),
    ("linux", "linux_kernel"): (("linux", "linux_kernel"),),
    ("linux", "kernel"): (("linux", "linux_kernel"),),
    ("openssl", "openssl"): (("openssl", "openssl"),),
    ("curl", "curl"): (("haxx", "curl"), ("haxx", "libcurl")),
    ("curl", "libcurl"): (("haxx", "libcurl"),),
    ("busybox", "busybox"): (("busybox", "busybox"),),
    ("openbsd", "openssh"): (("openbsd", "openssh"),),
    ("tukaani", "xz"): (("tukaani", "xz"),),
    ("gnu", "c_library"): (("gnu", "glibc"),),
    ("gnu", "glibc"): (("gnu", "glibc"),),
    ("the_gnu_c_library", "glibc"): (("gnu", "glibc"),),
    ("u-boot", "u-boot"): (("denx", "u-boot"),),
    ("das_u-boot", "u-boot"): (("denx", "u-boot"),),
}

#: Package names used by Yocto/Buildroot/OpenWrt -> the CPE product they are.
PACKAGE_NAME_PRODUCTS: Dict[str, Tuple[str, ...]] = {
    "linux": ("linux_kernel",),
    "linux-yocto": ("linux_kernel",),
    "linux-yocto-rt": ("linux_kernel",),
    "linux-yocto-tiny": ("linux_kernel",),
    "linux-yocto-dev": ("linux_kernel",),
    "kernel": ("linux_kernel",),
    "libopenssl": ("openssl",),
    "libzlib": ("zlib",),
    "libcurl": ("curl", "libcurl"),
    "expat": ("libexpat",),
    "uboot": ("u-boot",),
    "u-boot": ("u-boot",),
}

#: Products that SBOM generators and NVD spell differently.
PRODUCT_ALIASES: Dict[str, Tuple[str, ...]] = {
    "dropbear_ssh_server": ("dropbear_ssh",),
    "dropbear": ("dropbear_ssh",),
}

#: Package URL type (and namespace) -> OSV ecosystem.
PURL_ECOSYSTEMS: Dict[Tuple[str, Optional[str]], str] = {
    ("deb", "debian"): "Debian",
    ("deb", "ubuntu"): "Ubuntu",
    ("rpm", "almalinux"): "AlmaLinux",
    ("rpm", "rocky-linux"): "Rocky Linux",
    ("rpm", "rocky"): "Rocky Linux",
    ("rpm", "redhat"): "Red Hat",
    ("rpm", "opensuse"): "openSUSE",
    ("rpm", "suse"): "SUSE",
    ("rpm", "mageia"): "Mageia",
    ("rpm", "openeuler"): "openEuler",
    ("apk", "alpine"): "Alpine",
    ("apk", "wolfi"): "Wolfi",
    ("apk", "chainguard"): "Chainguard",
    ("pypi", None): "PyPI",
    ("npm", None): "npm",
    ("golang", None): "Go",
    ("cargo", None): "crates.io",
    ("maven", None): "Maven",
    ("gem", None): "RubyGems",
    ("nuget", None): "NuGet",
    ("composer", None): "Packagist",
    ("hex", None): "Hex",
    ("pub", None): "Pub",
}

#: OSV ecosystems that describe upstream source, not one distribution's builds: they apply by name.
UPSTREAM_ECOSYSTEMS = frozenset({"", "oss-fuzz", "git", "linux"})


def normalise(name: Optional[str]) -> str:
    return " ".join((name or "").lower().split()).replace(" ", "_")


def cna_cpe_names(vendor: Optional[str], product: Optional[str]) -> List[CpeName]:
    """The CPE (vendor, product) names a CVE JSON 5 vendor/product pair stands for."""
    key = (normalise(vendor), normalise(product))
    if key in CNA_PRODUCTS:
        return list(CNA_PRODUCTS[key])
    return [key] if key[1] else []


def purl_ecosystem(purl: "PackageURL") -> Optional[Tuple[str, Optional[str]]]:
    """(OSV ecosystem, release or None) of a package URL: ``pkg:rpm/almalinux/x?distro=almalinux-8`` → (AlmaLinux, 8)."""
    namespace = (purl.namespace or "").lower() or None
    ecosystem = PURL_ECOSYSTEMS.get((purl.type, namespace)) or PURL_ECOSYSTEMS.get((purl.type, None))
    if ecosystem is None:
        return None
    qualifiers = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    distro = qualifiers.get("distro", "")
    release = distro.rsplit("-", 1)[-1] if "-" in distro else (distro or None)
    if ecosystem == "Alpine" and release:
        release = "v" + ".".join(release.lstrip("v").split(".")[:2])
    if release is None and purl.type == "rpm" and purl.version:
        # "1.1.1k-6.el8_5": the elN tag names the release when the purl has no distro qualifier.
        for piece in purl.version.replace("_", ".").split("."):
            if piece.startswith("el") and piece[2:].isdigit():
                release = piece[2:]
    return ecosystem, release

"""Package URLs (purl): every parse and build in the project goes through packageurl-python here.

The SBOM exports build a `pkg:generic` purl for packages that have none and write the ones they have in canonical
form; the matcher names a package by the vendor and product a purl gives.
"""
from __future__ import annotations

from typing import Optional, Tuple

from packageurl import PackageURL


def parse_purl(text: object) -> Optional[PackageURL]:
    """The parsed purl (percent-decoded: `pkg:npm/%40angular/core` has namespace `@angular`), or None."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return PackageURL.from_string(text.strip())
    except ValueError:
        return None


def canonical_purl(text: object) -> Optional[str]:
    """The purl in canonical form (type lower-case, qualifiers sorted, components encoded), or None if it is none."""
    purl = parse_purl(text)
    return purl.to_string() if purl is not None else None


def generic_purl(name: str, version: str = "") -> str:
    """`pkg:generic/NAME@VERSION` for a package known only by name; a `/` in the name separates the namespace."""
    parts = [part for part in name.split("/") if part] or ["unnamed"]
    namespace = "/".join(parts[:-1]) or None
    try:
        return PackageURL(type="generic", namespace=namespace, name=parts[-1], version=version or None).to_string()
    except (TypeError, ValueError):  # packageurl-python refuses some names (found by the fuzz test): encode them here
        from urllib.parse import quote

        path = "/".join(quote(part, safe="") for part in parts)
        return f"pkg:generic/{path}" + (f"@{quote(version, safe='')}" if version else "")


def purl_vendor_product(text: object) -> Optional[Tuple[Optional[str], str]]:
    """(vendor, product) a purl names: the last namespace segment (an npm scope without its `@`) and the name.

    `pkg:golang/github.com/gin-gonic/gin` gives ("gin-gonic", "gin"), `pkg:npm/%40angular/core` ("angular", "core"),
    `pkg:generic/openssl` (None, "openssl"). None when the text is not a purl.
    """
    purl = parse_purl(text)
    if purl is None:
        return None
    vendor = (purl.namespace or "").rsplit("/", 1)[-1].lstrip("@")
    return vendor or None, purl.name

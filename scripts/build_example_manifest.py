#!/usr/bin/env python3
"""Build ``examples/core-image-minimal.vigiles.json`` from real Yocto SPDX output.

The input is the scarthgap ``create-spdx`` output for core-image-minimal
(beaglebone-yocto) in ``tests/fixtures/vulndb/yocto-spdx``: the image
document and one ``recipe-*.spdx.json`` per recipe. Each recipe becomes a
package of a Yocto-style Vigiles manifest (manifest_version "1.19",
indent 2, sorted keys, as meta-timesys writes it) with the recipe's real
name, version, CPE (``cpe23Type`` ref) and the CVEs its ``sourceInfo``
lists as ``CVEs fixed:`` as ``patched_cves`` (SPDX does not name the
patches, so the patch lists are empty).

    python3 scripts/build_example_manifest.py [SPDX_DIR] [--output PATH]
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.build_sample_vulndb import generator_main  # noqa: E402
from timesys_ci.vulndb.cpe import parse_cpe  # noqa: E402

DEFAULT_SOURCE = ROOT / "tests" / "fixtures" / "vulndb" / "yocto-spdx"
DEFAULT_OUTPUT = ROOT / "examples" / "core-image-minimal.vigiles.json"
MANIFEST_VERSION = "1.19"
DISTRO = "scarthgap"  # the archive's origin says so; the SPDX documents do not carry it
CPE23_REF = "http://spdx.org/rdf/references/cpe23Type"
_FIXED = re.compile(r"CVEs fixed:\s*(.*)")
_ROOTFS_SUFFIX = re.compile(r"\.rootfs-\d+$")


def _recipe_package(document: Dict[str, Any]) -> Dict[str, Any]:
    return next(pkg for pkg in document["packages"] if pkg["SPDXID"].startswith("SPDXRef-Recipe-"))


def _cve_version(version: str) -> str:
    """meta-timesys: PV with any +git… cut and remaining '+' turned into '.'."""
    return re.sub(r"\+git.*$", "", version).replace("+", ".")


def package_entry(recipe: Dict[str, Any]) -> Dict[str, Any]:
    cpes = [ref["referenceLocator"] for ref in recipe.get("externalRefs", []) if ref.get("referenceType") == CPE23_REF]
    products: List[str] = []
    for text in cpes:
        cpe = parse_cpe(text)
        token = f"{cpe.vendor}:{cpe.product}" if cpe.vendor_or_none else cpe.product
        if token not in products:
            products.append(token)
    fixed = _FIXED.search(recipe.get("sourceInfo") or "")
    version = recipe.get("versionInfo") or "unset"
    entry: Dict[str, Any] = {
        "name": recipe["name"],
        "version": version,
        "cve_version": _cve_version(version),
        "cve_product": " ".join(products) or recipe["name"],
        "cpe_id": cpes,
        "license": recipe.get("licenseDeclared") or "unknown",
        "component_type": ["component"],
        "package_supplier": recipe.get("supplier", "Organization: OpenEmbedded ()"),
        "checksums": [],
    }
    for key in ("summary", "homepage"):
        if recipe.get(key):
            entry[key] = recipe[key]
    if fixed:
        entry["patched_cves"] = {cve: [] for cve in sorted(set(fixed.group(1).split()))}
    return entry


def build_manifest(source_dir: Path) -> Dict[str, Any]:
    image_path = next(path for path in sorted(source_dir.glob("*.spdx.json")) if not path.name.startswith("recipe-"))
    image = json.loads(image_path.read_text(encoding="utf-8"))
    # The image package is named after IMAGE_BASENAME; the document adds "-<MACHINE>.rootfs-<stamp>".
    image_name = image["packages"][0]["name"]
    stem = _ROOTFS_SUFFIX.sub("", image["name"])
    machine = stem[len(image_name) + 1:] if stem.startswith(image_name + "-") else "unknown"
    packages: Dict[str, Any] = {}
    for path in sorted(source_dir.glob("recipe-*.spdx.json")):
        recipe = _recipe_package(json.loads(path.read_text(encoding="utf-8")))
        packages[recipe["name"]] = package_entry(recipe)
    return {
        "manifest_version": MANIFEST_VERSION,
        "manifest_name": image_name,
        "image": image_name,
        "date": image["creationInfo"]["created"].replace("Z", "+00:00"),
        "distro": DISTRO,
        "machine": machine,
        "packages": packages,
    }


def render(source_dir: Path) -> bytes:
    return (json.dumps(build_manifest(source_dir), indent=2, sort_keys=True) + "\n").encode("utf-8")


def main(argv: Optional[List[str]] = None) -> int:
    return generator_main(__doc__ or "", render, DEFAULT_SOURCE, DEFAULT_OUTPUT, argv)


if __name__ == "__main__":
    raise SystemExit(main())

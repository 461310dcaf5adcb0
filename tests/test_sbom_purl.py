"""Package URLs: the shared helper over packageurl-python, and the two places that use it (exports, PURL matching)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from timesys_ci.sbom import load_sbom
from timesys_ci.sbom.model import Package
from timesys_ci.sbom.purl import canonical_purl, generic_purl, parse_purl, purl_vendor_product
from timesys_ci.service.exports import convert_manifest
from timesys_ci.vulndb.match import package_probes

LICENCES_PURLS = Path(__file__).parent / "fixtures" / "exports" / "licences-purls.vigiles.json"


def test_percent_encoded_npm_scope_is_decoded() -> None:
    purl = parse_purl("pkg:npm/%40angular/core@16.2.12")
    assert purl is not None
    assert (purl.type, purl.namespace, purl.name, purl.version) == ("npm", "@angular", "core", "16.2.12")
    assert canonical_purl("pkg:npm/@angular/core@16.2.12") == "pkg:npm/%40angular/core@16.2.12"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pkg:npm/%40angular/core@16.2.12", ("angular", "core")),
        ("pkg:golang/github.com/gin-gonic/gin@v1.9.1", ("gin-gonic", "gin")),
        ("pkg:generic/thekelleys/dnsmasq@2.85", ("thekelleys", "dnsmasq")),
        ("pkg:generic/openssl@3.2.3", (None, "openssl")),
        ("pkg:rpm/centos/openssl-libs@1.0.2k-16.el7?arch=x86_64&epoch=1", ("centos", "openssl-libs")),
        ("pkg:generic/zlib#src/lib", (None, "zlib")),
        ("not a purl", None),
        ("pkg:", None),
        ("", None),
        (None, None),
    ],
)
def test_vendor_and_product(text: object, expected: object) -> None:
    assert purl_vendor_product(text) == expected


def test_canonical_form_sorts_qualifiers_and_refuses_non_purls() -> None:
    assert canonical_purl("pkg:rpm/centos/bash@4.2.46?distro=centos-7&arch=x86_64") == (
        "pkg:rpm/centos/bash@4.2.46?arch=x86_64&distro=centos-7")
    assert canonical_purl("pkg:generic") is None and canonical_purl("openssl") is None


@pytest.mark.parametrize(
    ("name", "version", "expected"),
    [
        ("openssl", "3.2.3", "pkg:generic/openssl@3.2.3"),
        ("linux-yocto", "6.6.21+git", "pkg:generic/linux-yocto@6.6.21%2Bgit"),
        ("my lib", "", "pkg:generic/my%20lib"),
        ("github.com/foo/bar", "1.0", "pkg:generic/github.com/foo/bar@1.0"),
    ],
)
def test_generic_purls_round_trip(name: str, version: str, expected: str) -> None:
    built = generic_purl(name, version)
    assert built == expected
    parsed = parse_purl(built)
    assert parsed is not None and "/".join(filter(None, [parsed.namespace, parsed.name])) == name
    assert (parsed.version or "") == version


def test_matcher_takes_vendor_and_product_from_the_purl() -> None:
    npm = Package("@angular/core", "16.2.12", purl="pkg:npm/%40angular/core@16.2.12")
    [probe] = package_probes(npm, identifiers=("PURL",), strict=True)
    assert (probe.identifier, probe.vendor, probe.product, probe.version) == ("PURL", "angular", "core", "16.2.12")
    broken = Package("thing", "1.0", purl="pkg:")  # not a purl: the package name stands in
    assert [(probe.identifier, probe.product) for probe in package_probes(broken, identifiers=("PURL",))] == [
        ("Package Name", "thing")]


def test_exports_write_canonical_purls_and_replace_invalid_ones() -> None:
    sbom = load_sbom(LICENCES_PURLS.read_text(encoding="utf-8"), str(LICENCES_PURLS))
    bom = json.loads(convert_manifest(sbom, "cyclonedx")[0])
    purls = {component["name"]: component["purl"] for component in bom["components"]}
    assert purls["@angular/core"] == "pkg:npm/%40angular/core@16.2.12"
    assert purls["gin"] == "pkg:golang/github.com/gin-gonic/gin@v1.9.1"
    assert purls["libopenssl"] == "pkg:deb/debian/openssl@3.2.1?arch=armhf"
    assert purls["firmware-blob"] == "pkg:generic/firmware-blob@1.0"  # its "not a purl" would invalidate the SBOM
    assert all(parse_purl(purl) is not None for purl in purls.values())

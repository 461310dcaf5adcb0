from __future__ import annotations

import json

import pytest

from timesys_ci.sbom import load_sbom

from .sbom_formats_support import BUSYBOX_BOM_REF, DISTRO, VULNSCOUT_CDX, assert_one_line_error, read


def by_name(sbom):
    return {package.name: package for package in sbom.packages}


def test_cyclonedx_14_json_from_yocto_spdx_conversion() -> None:
    sbom = load_sbom(read(VULNSCOUT_CDX), "bom.json")
    assert sbom.format == "cyclonedx-json" and sbom.manifest_version == "1.4"
    packages = by_name(sbom)
    assert len(sbom.packages) == 93  # 97 components, 4 repeated name+version entries folded
    busybox = packages["busybox"]
    assert (busybox.version, busybox.cpe_ids, busybox.purl) == (
        "1.36.1", ["cpe:2.3:*:*:busybox:1.36.1:*:*:*:*:*:*:*"], "pkg:generic/busybox@1.36.1")
    assert busybox.cve_product == ["busybox"]
    assert packages["openssl"].cve_product == ["openssl:openssl"]
    assert sbom.vulnerabilities == []


def test_cyclonedx_15_json_trivy_purls() -> None:
    sbom = load_sbom(read(DISTRO / "centos-7.trivy.cdx15.json"), "c.json")
    assert sbom.manifest_name == "integration/testdata/fixtures/images/centos-7.tar.gz"
    assert [(p.name, p.version, p.component_type) for p in sbom.packages] == [
        ("bash", "4.2.46-31.el7", ["library"]),
        ("openssl-libs", "1.0.2k-16.el7", ["library"]),
        ("centos", "7.6.1810", ["operating-system"]),
    ]
    assert sbom.packages[1].purl == "pkg:rpm/centos/openssl-libs@1.0.2k-16.el7?arch=x86_64&epoch=1&distro=centos-7.6.1810"
    assert sbom.packages[1].license == "OpenSSL+"


def test_cyclonedx_16_json() -> None:
    sbom = load_sbom(read(DISTRO / "alpine-zlib.cdx16.json"))
    assert sbom.manifest_version == "1.6" and sbom.manifest_name is None  # the subject's name is empty
    [zlib] = sbom.packages
    assert (zlib.name, zlib.version, zlib.cpe_ids) == ("zlib", "1.2.12-r1", [])
    assert zlib.purl == "pkg:apk/alpine/zlib@1.2.12-r1?arch=x86_64&distro=3.22.0&origin=zlib"


def test_cyclonedx_14_xml_in_its_own_namespace() -> None:
    sbom = load_sbom(read(DISTRO / "alpine.syft.cdx14.xml"), "alpine.xml")
    assert sbom.format == "cyclonedx-xml" and sbom.manifest_version == "1.4"
    assert sbom.manifest_name == "alpine:latest"
    packages = by_name(sbom)
    assert len(packages) == 16  # the metadata component (the image itself) is not a package
    zlib = packages["zlib"]
    assert zlib.version == "1.2.10-r0"
    assert zlib.cpe_ids == ["cpe:2.3:a:zlib:zlib:1.2.10-r0:*:*:*:*:*:*:*"]
    assert zlib.purl.startswith("pkg:apk/alpine/zlib@1.2.10-r0?")
    assert zlib.cve_product == ["zlib:zlib"] and zlib.license == "Zlib"
    assert packages["busybox"].version == "1.35.0"


def test_cyclonedx_descriptive_fields_and_pedigree_patches() -> None:
    packages = by_name(load_sbom(read(DISTRO / "alpine.syft.cdx14.xml")))
    assert packages["zlib"].summary and packages["zlib"].download_location
    bom = json.loads(read(DISTRO / "alpine-zlib.cdx16.json"))
    bom["components"][0].update({
        "supplier": {"name": "Alpine"}, "description": "compression library",
        "hashes": [{"alg": "SHA-256", "content": "AB12"}, {"alg": "MD5", "content": "not hex"}],
        "externalReferences": [{"type": "website", "url": "https://zlib.net/"},
                               {"type": "distribution", "url": "https://zlib.net/zlib.tar.xz"}],
        "licenses": [{"expression": "Zlib OR MIT"}, {"license": {"id": "BSD-3-Clause"}}],
        "pedigree": {"patches": [{"type": "backport", "diff": {"url": "CVE-2022-37434%20fix.patch"},
                                  "resolves": [{"type": "security", "id": "cve-2022-37434"}]},
                                 {"type": "backport", "resolves": [{"type": "security", "id": "CVE-2018-25032"}]}]},
    })
    [zlib] = load_sbom(json.dumps(bom)).packages
    assert (zlib.supplier, zlib.summary, zlib.homepage, zlib.download_location) == (
        "Alpine", "compression library", "https://zlib.net/", "https://zlib.net/zlib.tar.xz")
    assert zlib.checksums == (("SHA256", "ab12"),)  # a digest that is not hex is no checksum
    assert zlib.license == "(Zlib OR MIT) AND BSD-3-Clause"  # each entry applies: their conjunction
    assert zlib.patched_cves == {"CVE-2022-37434": ["CVE-2022-37434 fix.patch"], "CVE-2018-25032": []}


def with_statements(document: dict) -> dict:
    """The real BOM plus a VEX section written for this test (no public BOM in the fixtures carries one)."""
    document["vulnerabilities"] = [
        {"id": "CVE-2022-48174", "analysis": {"state": "resolved"}, "affects": [{"ref": BUSYBOX_BOM_REF}]},
        {"id": "cve-2022-28391", "analysis": {"state": "not_affected", "justification": "code_not_present"},
         "affects": [{"ref": f"urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#{BUSYBOX_BOM_REF}"}]},
        {"id": "CVE-2099-0001", "affects": []},
    ]
    return document


def test_cyclonedx_vulnerabilities_become_statements_on_the_referenced_component() -> None:
    sbom = load_sbom(json.dumps(with_statements(json.loads(read(VULNSCOUT_CDX)))))
    assert [(s.id, s.state, s.package, s.justification) for s in sbom.vulnerabilities] == [
        ("CVE-2022-48174", "resolved", "busybox", None),
        ("CVE-2022-28391", "not_affected", "busybox", "code_not_present"),
        ("CVE-2099-0001", "in_triage", None, None),
    ]


XML_WITH_NESTING = """<?xml version="1.0"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1">
  <components>
    <component type="firmware" bom-ref="fw"><name>image</name><version>1.0</version>
      <components>
        <component type="library" bom-ref="bb"><name>busybox</name><version>1.36.1</version>
          <cpe>cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*</cpe></component>
      </components>
    </component>
  </components>
  <vulnerabilities>
    <vulnerability><id>CVE-2022-48174</id><analysis><state>not_affected</state></analysis>
      <affects><target><ref>bb</ref></target></affects></vulnerability>
  </vulnerabilities>
</bom>"""


def test_nested_components_and_xml_vulnerabilities() -> None:
    sbom = load_sbom(XML_WITH_NESTING)
    assert sbom.manifest_version == "1.6"
    assert [(p.name, p.version, p.cpe_ids) for p in sbom.packages] == [
        ("image", "1.0", []), ("busybox", "1.36.1", ["cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*"])]
    [statement] = sbom.vulnerabilities
    assert (statement.id, statement.state, statement.package) == ("CVE-2022-48174", "not_affected", "busybox")
    nested_json = {"bomFormat": "CycloneDX", "components": [{"name": "image", "components": [{"name": "zlib", "version": "1.3.1"}]}]}
    assert [(p.name, p.version) for p in load_sbom(json.dumps(nested_json)).packages] == [("image", "unset"), ("zlib", "1.3.1")]


@pytest.mark.parametrize("document, fragment", [
    ({"components": {"name": "a"}}, "b.json: components must be a list, got dict"),
    ({"components": ["busybox"]}, "b.json: components[0] must be an object, got str"),
    ({"components": [{"version": "1"}]}, "b.json: components[0] has no 'name'"),
    ({"components": [{"name": "a", "components": [{"name": "b", "cpe": ["x"]}]}]},
     "b.json: components[0].components[0].cpe must be a string, got list"),
    ({"components": [], "vulnerabilities": {}}, "b.json: vulnerabilities must be a list, got dict"),
    ({"components": [], "vulnerabilities": [{"analysis": {}}]}, "b.json: vulnerabilities[0] has no 'id'"),
    ({"components": [], "vulnerabilities": [{"id": "CVE-1", "affects": "x"}]}, "b.json: vulnerabilities[0].affects must be a list"),
    ({"components": [], "metadata": []}, "b.json: metadata must be an object, got list"),
])
def test_structurally_broken_json_is_a_one_line_error(document: dict, fragment: str) -> None:
    assert_one_line_error(json.dumps({"bomFormat": "CycloneDX", **document}), "b.json", fragment)


@pytest.mark.parametrize("text, fragment", [
    ('<bom xmlns="http://cyclonedx.org/schema/bom/1.5"><components>', "b.xml: invalid XML at line 1"),
    ('<bom xmlns="http://cyclonedx.org/schema/bom/1.5"><components><component><version>1</version></component></components></bom>',
     "b.xml: components[0] has no 'name'"),
    ('<metadata xmlns="http://cyclonedx.org/schema/bom/1.5"/>', "b.xml: CycloneDX XML root element must be <bom>, got <metadata>"),
])
def test_broken_xml_is_a_one_line_error(text: str, fragment: str) -> None:
    assert_one_line_error(text, "b.xml", fragment)

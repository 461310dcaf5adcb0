from __future__ import annotations

import json

import pytest

from timesys_ci.sbom import load_sbom

from .sbom_formats_support import DISTRO, YOCTO_SPDX2, assert_one_line_error, read, spdx3_walnascar


def by_name(sbom):
    return {package.name: package for package in sbom.packages}


def test_yocto_scarthgap_recipe_document() -> None:
    sbom = load_sbom(read(YOCTO_SPDX2 / "recipe-busybox.spdx.json"), "recipe-busybox.spdx.json")
    assert sbom.format == "spdx-json" and sbom.manifest_version == "SPDX-2.2" and sbom.manifest_name == "recipe-busybox"
    [busybox] = sbom.packages  # the download entry (no version, no CPE) identifies nothing
    assert (busybox.name, busybox.version) == ("busybox", "1.36.1")
    assert busybox.cpe_ids == ["cpe:2.3:*:*:busybox:1.36.1:*:*:*:*:*:*:*"]  # referenceType given as the full URL
    assert sorted(busybox.patched_cves) == ["CVE-2021-42380", "CVE-2022-28391", "CVE-2023-42363",
                                            "CVE-2023-42364", "CVE-2023-42365", "CVE-2023-42366"]


def test_yocto_scarthgap_kernel_recipe_names_the_kernel_product() -> None:
    [kernel] = load_sbom(read(YOCTO_SPDX2 / "recipe-linux-yocto.spdx.json")).packages
    assert (kernel.name, kernel.version, kernel.cve_product) == ("linux-yocto", "6.6.21+git", ["linux_kernel"])
    assert len(kernel.patched_cves) == 3049 and "CVE-2024-26581" in kernel.patched_cves


def test_recipe_and_binary_package_entries_are_one_package() -> None:
    recipe = json.loads(read(YOCTO_SPDX2 / "recipe-busybox.spdx.json"))
    binary = {"SPDXID": "SPDXRef-Package-busybox", "name": "busybox", "versionInfo": "1.36.1"}
    split = {"SPDXID": "SPDXRef-Package-busybox-syslog", "name": "busybox-syslog", "versionInfo": "1.36.1",
             "externalRefs": recipe["packages"][0]["externalRefs"]}
    recipe["packages"] = [binary, split] + recipe["packages"]
    [busybox] = load_sbom(json.dumps(recipe)).packages
    assert busybox.name == "busybox" and busybox.cpe_ids == ["cpe:2.3:*:*:busybox:1.36.1:*:*:*:*:*:*:*"]
    assert "CVE-2022-28391" in busybox.patched_cves


@pytest.mark.parametrize("name, expected_format", [("centos-7.trivy.spdx22.json", "spdx-json"),
                                                   ("centos-7.trivy.spdx22.spdx", "spdx-tag")])
def test_trivy_spdx_json_and_tag_value(name: str, expected_format: str) -> None:
    sbom = load_sbom(read(DISTRO / name), name)
    assert sbom.format == expected_format and sbom.manifest_version == "SPDX-2.2"
    assert sbom.manifest_name == "integration/testdata/fixtures/images/centos-7.tar.gz"
    packages = by_name(sbom)
    assert sorted(packages) == ["bash", "centos", "openssl-libs"]  # the container image entry has no version
    assert packages["bash"].version == "4.2.46" and packages["bash"].license == "GPLv3+"
    assert packages["bash"].purl == "pkg:rpm/centos/bash@4.2.46-31.el7?arch=x86_64&distro=centos-7.6.1810"
    # Trivy wrote a different openssl-libs version into its JSON and tag-value outputs.
    assert packages["openssl-libs"].version == ("1:1.0.2k-19.el7" if expected_format == "spdx-json" else "1.0.2k")


TAG_WITH_TEXT = """SPDXVersion: SPDX-2.3
DocumentName: demo
PackageName: busybox
SPDXID: SPDXRef-busybox
PackageVersion: 1.36.1
PackageSourceInfo: <text>CVEs fixed: CVE-2022-28391
CVE-2023-42363</text>
ExternalRef: SECURITY cpe22Type cpe:/a:busybox:busybox:1.36.1
FileName: ./bin/busybox
PackageVersion: 9.9
"""


def test_tag_value_multiline_text_cpe22_and_sections() -> None:
    [busybox] = load_sbom(TAG_WITH_TEXT).packages
    assert (busybox.version, busybox.cpe_ids) == ("1.36.1", ["cpe:/a:busybox:busybox:1.36.1"])
    assert sorted(busybox.patched_cves) == ["CVE-2022-28391", "CVE-2023-42363"]


def test_spdx3_walnascar_packages_and_vex() -> None:
    sbom = load_sbom(spdx3_walnascar(), "rootfs.spdx.json")
    assert sbom.format == "spdx3-jsonld" and sbom.manifest_version == "3.0.1"
    assert sbom.manifest_name == "core-image-minimal-qemux86-64.rootfs-20250815151650"
    packages = by_name(sbom)
    # busybox-hwclock/-syslog/-udhcpc share busybox's CPE and version: one package.
    assert "busybox-syslog" not in packages and packages["busybox"].version == "1.37.0"
    assert packages["libz1"].cpe_ids == ["cpe:2.3:*:zlib:zlib:1.3.1:*:*:*:*:*:*:*", "cpe:2.3:*:gnu:zlib:1.3.1:*:*:*:*:*:*:*"]
    assert packages["libcrypto3"].cve_product == ["openssl:openssl"]
    assert not any(name.endswith(".tar.bz2") for name in packages)  # source entries are skipped
    fixed = {(s.id, s.package) for s in sbom.vulnerabilities if s.state == "resolved"}
    assert fixed == {("CVE-2023-39810", "busybox"), ("CVE-2022-28391", "busybox"), ("CVE-2025-31115", "liblzma5")}
    not_affected = [s for s in sbom.vulnerabilities if s.state == "not_affected"]
    assert len(not_affected) == 17
    assert any(s.id == "CVE-2019-1010025" and s.package == "libc6" and "ASLR" in (s.justification or "") for s in not_affected)


def test_descriptive_fields_of_yocto_spdx2_and_spdx3() -> None:
    [busybox] = load_sbom(read(YOCTO_SPDX2 / "recipe-busybox.spdx.json")).packages
    assert busybox.supplier == "Organization: OpenEmbedded ()"
    assert (busybox.homepage, busybox.summary) == ("https://www.busybox.net",
                                                   "Tiny versions of many common UNIX utilities in a single small executable")
    assert busybox.license == "GPL-2.0-only AND LicenseRef-bzip2-1.0.4"
    packages = by_name(load_sbom(spdx3_walnascar()))
    libz = packages["libz1"]
    assert libz.license == "Zlib"  # the hasConcludedLicense relationship's expression element
    assert (libz.homepage, libz.summary) == ("http://zlib.net/", "Zlib Compression Library")


TAG_DESCRIBED = """SPDXVersion: SPDX-2.3
SPDXID: SPDXRef-DOCUMENT
DocumentName: demo
Created: 2026-01-02T03:04:05Z
PackageName: zlib
SPDXID: SPDXRef-zlib
PackageVersion: 1.3.1
PackageSupplier: Organization: OpenEmbedded ()
PackageDownloadLocation: https://zlib.net/zlib-1.3.1.tar.xz
PackageChecksum: SHA256: 38EF96B8DFE510D42707D9C781877914792541133E1870841463BFA73F883E32
PackageChecksum: SHA3-256: 00ff
PackageHomePage: https://zlib.net/
PackageSummary: <text>General-purpose
compression</text>
ExternalRef: SECURITY cpe23Type cpe:2.3:a:zlib:zlib:1.3.1:*:*:*:*:*:*:*

Annotator: Tool: timesys-ci-1.0
AnnotationDate: 2026-01-02T03:04:05Z
AnnotationType: REVIEW
SPDXREF: SPDXRef-zlib
AnnotationComment: <text>timesys-ci VEX: CVE-2023-45853 not_affected (code_not_present)</text>

Annotator: Tool: timesys-ci-1.0
AnnotationDate: 2026-01-02T03:04:05Z
AnnotationType: REVIEW
SPDXREF: SPDXRef-DOCUMENT
AnnotationComment: <text>timesys-ci VEX: CVE-2099-0001 not_affected</text>

Annotator: Person: Jane
AnnotationDate: 2026-01-02T03:04:05Z
AnnotationType: OTHER
SPDXREF: SPDXRef-zlib
AnnotationComment: <text>reviewed, fine</text>
"""


def test_tag_value_descriptive_fields_and_vex_annotations() -> None:
    sbom = load_sbom(TAG_DESCRIBED)
    [zlib] = sbom.packages
    assert sbom.created == "2026-01-02T03:04:05Z"
    assert (zlib.supplier, zlib.download_location, zlib.homepage) == (
        "Organization: OpenEmbedded ()", "https://zlib.net/zlib-1.3.1.tar.xz", "https://zlib.net/")
    assert zlib.checksums == (("SHA256", "38ef96b8dfe510d42707d9c781877914792541133e1870841463bfa73f883e32"),
                              ("SHA3256", "00ff"))
    assert zlib.summary == "General-purpose\ncompression"
    assert [(s.id, s.state, s.package, s.justification) for s in sbom.vulnerabilities] == [
        ("CVE-2099-0001", "not_affected", None, None),  # annotates the document: every package
        ("CVE-2023-45853", "not_affected", "zlib", "code_not_present"),
    ]  # another annotator's free text is no statement


@pytest.mark.parametrize("document, fragment", [
    ({"spdxVersion": "SPDX-2.3", "packages": {}}, "s.json: packages must be a list, got dict"),
    ({"spdxVersion": "SPDX-2.3", "packages": ["busybox"]}, "s.json: packages[0] must be an object, got str"),
    ({"spdxVersion": "SPDX-2.3", "packages": [{"versionInfo": "1"}]}, "s.json: packages[0] has no 'name'"),
    ({"spdxVersion": "SPDX-2.3", "packages": [{"name": "a", "externalRefs": "cpe"}]},
     "s.json: packages[0].externalRefs must be a list, got str"),
    ({"spdxVersion": "SPDX-2.3", "packages": [{"name": "a", "versionInfo": ["1"]}]},
     "s.json: packages[0].versionInfo must be a string, got list"),
    ({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": {}}, "s.json: @graph must be a list, got dict"),
    ({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": [{"type": "software_Package"}]},
     "s.json: @graph[0] has no 'name'"),
    ({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld",
      "@graph": [{"type": "security_VexFixedVulnAssessmentRelationship", "from": "v", "to": 3}]},
     "s.json: @graph[0].to must be a string or a list of strings, got int"),
])
def test_structurally_broken_json_is_a_one_line_error(document: dict, fragment: str) -> None:
    assert_one_line_error(json.dumps(document), "s.json", fragment)


@pytest.mark.parametrize("text, fragment", [
    ("SPDXVersion: SPDX-2.3\nPackageName: a\nExternalRef: SECURITY cpe23Type\n",
     "s.spdx: line 3: ExternalRef must be 'CATEGORY TYPE LOCATOR'"),
    ("SPDXVersion: SPDX-2.3\nPackageName: a\nPackageSourceInfo: <text>CVEs fixed:\n", "s.spdx: line 3: PackageSourceInfo <text> is never closed"),
])
def test_broken_tag_value_is_a_one_line_error(text: str, fragment: str) -> None:
    assert_one_line_error(text, "s.spdx", fragment)

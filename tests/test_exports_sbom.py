from __future__ import annotations

import json
import re

import pytest

from tests.exports_support import cyclonedx_errors, load_manifest, manifest_sbom, spdx_errors
from timesys_ci.service.exports import ExportError, convert_manifest
from timesys_ci.service.exports.components import cpe_names
from timesys_ci.sbom import Sbom, SbomError, load_sbom
from timesys_ci.sbom.licenses import declared_license, spdx_expression

TIMESTAMP = "2026-11-27T16:31:05Z"


def _spdx(version: str = "2.3") -> dict:
    data, media_type = convert_manifest(manifest_sbom(), "spdx", sbom_version=version, timestamp=TIMESTAMP)
    assert media_type == "application/spdx+json"
    return json.loads(data)


@pytest.mark.parametrize("version", ["2.2", "2.3"])
def test_spdx_json_document(version: str) -> None:
    document = _spdx(version)
    assert document["spdxVersion"] == f"SPDX-{version}"
    assert document["dataLicense"] == "CC0-1.0"
    assert document["SPDXID"] == "SPDXRef-DOCUMENT"
    assert document["creationInfo"]["created"] == TIMESTAMP
    assert document["documentNamespace"].startswith("https://spdx.org/spdxdocs/core-image-minimal-")
    packages = {package["name"]: package for package in document["packages"]}
    assert len(packages) == 7  # the image + 6 manifest packages
    openssl = packages["openssl"]
    assert openssl["versionInfo"] == "3.2.3"
    assert openssl["supplier"] == "Organization: OpenEmbedded ()"
    assert openssl["downloadLocation"].startswith("https://github.com/openssl/")
    assert openssl["licenseConcluded"] == "NOASSERTION"
    assert openssl["licenseDeclared"] == "Apache-2.0"
    assert openssl["checksums"] == [{"algorithm": "SHA256", "checksumValue": "52b5f1c6b8022bc5868c308c54fb77705e702d6c6f4594f99a0df216acf46239"}]
    assert {"referenceCategory": "SECURITY", "referenceType": "cpe23Type", "referenceLocator": "cpe:2.3:a:openssl:openssl:3.2.3:*:*:*:*:*:*:*"} in openssl["externalRefs"]
    purl_category = "PACKAGE-MANAGER" if version == "2.2" else "PACKAGE_MANAGER"
    assert {"referenceCategory": purl_category, "referenceType": "purl", "referenceLocator": "pkg:generic/openssl@3.2.3"} in openssl["externalRefs"]
    assert packages["ncurses"]["downloadLocation"] == "NOASSERTION"
    assert packages["busybox"]["licenseDeclared"] == "GPL-2.0-only AND LicenseRef-bzip2-1.0.4"  # not on the SPDX list
    ids = [package["SPDXID"] for package in document["packages"]]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"SPDXRef-[A-Za-z0-9.-]+", spdx_id) for spdx_id in ids)
    relationships = document["relationships"]
    assert {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Image"} in relationships
    assert sum(1 for item in relationships if item["relationshipType"] == "CONTAINS") == 6


def test_licences_not_on_the_spdx_list_become_declared_licence_refs() -> None:
    document = _spdx()
    ncurses = next(package for package in document["packages"] if package["name"] == "ncurses")
    assert ncurses["licenseDeclared"] == "LicenseRef-MIT-style-with-unknown-clauses"
    extracted = {item["licenseId"]: item for item in document["hasExtractedLicensingInfos"]}
    assert set(extracted) == {"LicenseRef-MIT-style-with-unknown-clauses", "LicenseRef-bzip2-1.0.4"}
    assert extracted["LicenseRef-bzip2-1.0.4"]["name"] == "bzip2-1.0.4"
    assert "MIT-style with unknown clauses" in extracted["LicenseRef-MIT-style-with-unknown-clauses"]["extractedText"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Yocto's spellings, operators and the deprecated SPDX ids it still writes
        ("GPLv2", "GPL-2.0-only"),
        ("GPLv2+", "GPL-2.0-or-later"),
        ("LGPLv2.1+", "LGPL-2.1-or-later"),
        ("GPL-2.0", "GPL-2.0-only"),
        ("gpl-3.0+", "GPL-3.0-or-later"),
        ("Apachev2", "Apache-2.0"),
        ("BSD", "LicenseRef-BSD"),  # which BSD licence is unknowable
        ("PD", "LicenseRef-PD"),
        ("MIT & BSD-3-Clause", "MIT AND BSD-3-Clause"),
        ("GPLv2 | (MIT & BSD-3-Clause)", "GPL-2.0-only OR (MIT AND BSD-3-Clause)"),
        ("GPL-2.0-only & bzip2-1.0.4", "GPL-2.0-only AND LicenseRef-bzip2-1.0.4"),
        ("GPL-3.0-with-autoconf-exception", "(GPL-3.0-only WITH Autoconf-exception-3.0)"),
        ("GPL-2.0-only & LicenseRef-PD", "GPL-2.0-only AND LicenseRef-PD"),
        # Buildroot: commas, "or", notes in parentheses
        ("GPL-2.0+, LGPL-2.1+", "GPL-2.0-or-later AND LGPL-2.1-or-later"),
        ("GPL-2.0+ (programs), LGPL-2.1+ (libraries)", "GPL-2.0-or-later AND LGPL-2.1-or-later"),
        ("OpenSSL or SSLeay", "OpenSSL OR LicenseRef-SSLeay"),
        ("Public Domain", "LicenseRef-Public-Domain"),
        # SPDX already
        ("Apache-2.0 WITH LLVM-exception", "Apache-2.0 WITH LLVM-exception"),
        ("GPL-2.0-only WITH Linux-syscall-note", "GPL-2.0-only WITH Linux-syscall-note"),
        # nothing asserted, or nothing well-formed
        ("unknown", None),
        ("CLOSED", None),
        ("", None),
        ("MIT & (", "LicenseRef-MIT"),
        ("MIT WITH Unheard-of-exception", "LicenseRef-MIT-WITH-Unheard-of-exception"),
        ("Linux-syscall-note", "LicenseRef-Linux-syscall-note"),  # an exception is not a licence
    ],
)
def test_licence_expressions(text: str, expected: object) -> None:
    assert spdx_expression(text) == expected


def test_declared_licence_says_what_each_licence_ref_stands_for() -> None:
    declared = declared_license("GPLv2 & PD & Public Domain")
    assert declared is not None and declared.expression == "GPL-2.0-only AND LicenseRef-PD AND LicenseRef-Public-Domain"
    assert dict(declared.references) == {"LicenseRef-PD": "PD", "LicenseRef-Public-Domain": "Public Domain"}
    assert (declared.license_id, declared.single_reference) == (None, None)
    assert declared_license("GPLv2").license_id == "GPL-2.0-only"
    assert declared_license("PD").single_reference == "PD"


@pytest.mark.parametrize("version", ["2.2", "2.3"])
@pytest.mark.parametrize(("fmt", "file_format"), [("spdx", "json"), ("spdx", "tag"), ("spdx-lite", None)])
def test_spdx_tools_validates_every_spdx_output(fmt: str, file_format: str, version: str) -> None:
    manifest = load_manifest()
    manifest["packages"]["zlib"]["license"] = "GPLv2+ & PD & (MIT | BSD)"
    data = convert_manifest(manifest_sbom(manifest), fmt, file_format=file_format, sbom_version=version, timestamp=TIMESTAMP)[0]
    assert spdx_errors(data, version) == []


def test_spdx_tools_catches_an_undeclared_licence_ref() -> None:
    document = _spdx()
    document["hasExtractedLicensingInfos"] = [item for item in document["hasExtractedLicensingInfos"]
                                              if item["licenseId"] != "LicenseRef-bzip2-1.0.4"]
    assert any("bzip2" in message for message in spdx_errors(json.dumps(document), "2.3"))


def test_spdx_tag_value() -> None:
    data, media_type = convert_manifest(manifest_sbom(), "spdx", file_format="tag", timestamp=TIMESTAMP)
    assert media_type.startswith("text/spdx")
    text = data.decode("utf-8")
    assert text.startswith("SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\n")
    assert f"Created: {TIMESTAMP}\n" in text
    assert "PackageName: zlib\n" in text
    assert "ExternalRef: SECURITY cpe23Type cpe:2.3:a:zlib:zlib:1.3.1:*:*:*:*:*:*:*\n" in text
    assert "PackageChecksum: MD5: 9855b6d802d7fe5b7bd5b196a2271655\n" in text
    assert "Relationship: SPDXRef-DOCUMENT DESCRIBES SPDXRef-Image\n" in text
    assert text.count("PackageName: ") == 7
    # Every package block has the mandatory fields in tag-value.
    for block in text.split("\n\n")[1:8]:
        for tag in ("PackageName", "SPDXID", "PackageDownloadLocation", "FilesAnalyzed", "PackageLicenseConcluded", "PackageLicenseDeclared", "PackageCopyrightText"):
            assert f"{tag}: " in block, (tag, block)


def test_spdx_lite_keeps_only_the_lite_fields() -> None:
    text = convert_manifest(manifest_sbom(), "spdx-lite", timestamp=TIMESTAMP)[0].decode()
    assert "PackageName: openssl\n" in text
    assert "PackageLicenseDeclared: Apache-2.0\n" in text
    assert "PackageChecksum" not in text and "ExternalRef" not in text


@pytest.mark.parametrize("version", ["1.4", "1.5", "1.6", "1.7"])
def test_cyclonedx_sbom_is_schema_valid(version: str) -> None:
    data, media_type = convert_manifest(manifest_sbom(), "cyclonedx", sbom_version=version, timestamp=TIMESTAMP)
    assert media_type == f"application/vnd.cyclonedx+json; version={version}"
    assert cyclonedx_errors(data, "json", version) == []
    xml = convert_manifest(manifest_sbom(), "cyclonedx", file_format="xml", sbom_version=version, timestamp=TIMESTAMP)[0]
    assert cyclonedx_errors(xml, "xml", version) == []
    bom = json.loads(data)
    assert len(bom["components"]) == 6
    assert "vulnerabilities" not in bom


def test_cyclonedx_defaults_to_json_1_6_and_offers_xml() -> None:
    assert convert_manifest(manifest_sbom(), "cyclonedx", timestamp=TIMESTAMP)[1] == "application/vnd.cyclonedx+json; version=1.6"
    data, media_type = convert_manifest(manifest_sbom(), "cyclonedx", file_format="xml", sbom_version="1.5", timestamp=TIMESTAMP)
    assert media_type == "application/vnd.cyclonedx+xml; version=1.5"
    assert b'xmlns="http://cyclonedx.org/schema/bom/1.5"' in data


@pytest.mark.parametrize(("fmt", "file_format"), [("spdx", "json"), ("spdx", "tag"), ("spdx-lite", None), ("cyclonedx", "json"), ("cyclonedx", "xml")])
def test_output_is_a_function_of_manifest_and_timestamp(fmt: str, file_format: str) -> None:
    first = convert_manifest(manifest_sbom(), fmt, file_format=file_format, timestamp=TIMESTAMP)[0]
    assert convert_manifest(manifest_sbom(), fmt, file_format=file_format, timestamp=TIMESTAMP)[0] == first
    assert convert_manifest(manifest_sbom(), fmt, file_format=file_format, timestamp="2027-01-01T00:00:00Z")[0] != first
    # Without a timestamp argument the manifest's own date is used.
    assert convert_manifest(manifest_sbom(), fmt, file_format=file_format)[0] == first


@pytest.mark.parametrize(
    ("fmt", "options", "named"),
    [
        ("swid", {}, "'swid'"),
        ("spdx", {"file_format": "rdfxml"}, "'rdfxml'"),
        ("spdx", {"sbom_version": "3.0"}, "'3.0'"),
        ("spdx-lite", {"file_format": "json"}, "'json'"),
        ("cyclonedx", {"sbom_version": "1.3"}, "'1.3'"),
        ("cyclonedx", {"file_format": "protobuf"}, "'protobuf'"),
    ],
)
def test_bad_conversion_options_are_rejected(fmt: str, options: dict, named: str) -> None:
    with pytest.raises(ExportError) as caught:
        convert_manifest(manifest_sbom(), fmt, **options)
    assert named in str(caught.value)


def test_malformed_manifest_is_rejected_naming_the_field() -> None:
    # A conversion reads the SBOM as an upload does: the reader names the field.
    with pytest.raises(SbomError, match="'packages'"):
        manifest_sbom({"packages": ["openssl"]})
    with pytest.raises(SbomError, match=r"packages\['openssl'\]"):
        manifest_sbom({"packages": {"openssl": "3.2.3"}})


def _described(sbom: Sbom) -> dict:
    """What an SBOM says about each package that a conversion must carry."""
    return {package.ref: (package.supplier_name, package.download_location, package.checksums, package.homepage,
                          package.summary, package.declared_license.expression if package.declared_license else None,
                          sorted(package.patched_cves), package.package_url, cpe_names(package))
            for package in sbom.packages}


@pytest.mark.parametrize(("fmt", "file_format"), [("spdx", "json"), ("spdx", "tag"), ("cyclonedx", "json"),
                                                  ("cyclonedx", "xml")])
def test_a_conversion_reads_back_as_it_was_described(fmt: str, file_format: str) -> None:
    original = manifest_sbom()
    converted = load_sbom(convert_manifest(original, fmt, file_format=file_format, timestamp=TIMESTAMP)[0].decode())
    assert _described(converted) == _described(original)
    assert converted.created == TIMESTAMP and converted.manifest_name == original.manifest_name


def test_statements_about_cves_travel_with_the_conversion() -> None:
    manifest = load_manifest()
    manifest["whitelist"] = ["CVE-2099-0001"]
    manifest["packages"]["openssl"]["ignore_cves"] = ["CVE-2099-0002"]
    manifest["vulnerabilities"] = [
        {"id": "CVE-2099-0003", "analysis": {"state": "not_affected", "justification": "code_not_present"},
         "affects": [{"product": "zlib"}]},
        {"id": "CVE-2099-0004", "analysis": {"state": "fixed"}, "affects": [{"product": "zlib"}]},  # no CycloneDX state
        {"id": "CVE-2099-0005", "analysis": {"state": "not_affected"}, "affects": [{"product": "not-listed"}]},
    ]
    bom = json.loads(convert_manifest(manifest_sbom(manifest), "cyclonedx", timestamp=TIMESTAMP)[0])
    stated = {(item["id"], item["analysis"]["state"], tuple(ref["ref"] for ref in item.get("affects", [])))
              for item in bom["vulnerabilities"]}
    assert stated == {("CVE-2099-0001", "not_affected", ()), ("CVE-2099-0002", "not_affected", ("openssl@3.2.3",)),
                      ("CVE-2099-0003", "not_affected", ("zlib@1.3.1",)),
                      ("CVE-2099-0004", "in_triage", ("zlib@1.3.1",))}  # never widened, never made a fix
    busybox = next(item for item in bom["components"] if item["name"] == "busybox")
    assert busybox["pedigree"] == {"patches": [{"type": "backport", "diff": {"url": "CVE-2023-42363.patch"},
                                                "resolves": [{"type": "security", "id": "CVE-2023-42363"}]}]}
    spdx = json.loads(convert_manifest(manifest_sbom(manifest), "spdx", timestamp=TIMESTAMP)[0])
    assert [item["comment"] for item in spdx["annotations"]] == ["timesys-ci VEX: CVE-2099-0001 not_affected"]
    packages = {package["name"]: package for package in spdx["packages"]}
    assert [item["comment"] for item in packages["zlib"]["annotations"]] == [
        "timesys-ci VEX: CVE-2099-0003 not_affected (code_not_present)", "timesys-ci VEX: CVE-2099-0004 fixed"]
    assert packages["busybox"]["sourceInfo"] == "CVEs fixed: CVE-2023-42363"
    assert spdx_errors(json.dumps(spdx), "2.3") == []


def test_a_package_named_by_its_cve_product_gets_that_products_cpe() -> None:
    manifest = load_manifest()
    manifest["packages"]["ncurses"].pop("cpe_id")  # cve_product gnu:ncurses, cve_version 6.4
    manifest["packages"]["zlib"].pop("cpe_id")  # cve_product zlib: the name, which every reader assumes anyway
    bom = json.loads(convert_manifest(manifest_sbom(manifest), "cyclonedx", timestamp=TIMESTAMP)[0])
    cpes = {item["name"]: item.get("cpe") for item in bom["components"]}
    assert cpes["ncurses"] == "cpe:2.3:*:gnu:ncurses:6.4:*:*:*:*:*:*:*" and cpes["zlib"] is None

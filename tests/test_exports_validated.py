"""Every CycloneDX and SPDX document the local service serves, checked by independent validators.

Real SBOMs of every format the service reads (Vigiles manifests from Yocto, Buildroot and OpenWrt, CycloneDX JSON
and XML, SPDX 2 JSON and tag-value, SPDX 3 JSON-LD) are uploaded to the running local service over HTTP; every
export and conversion it offers is fetched the way a user fetches it (`download_report`, `get_manifest_file`, the
upload's `exported_report`) and checked by the libraries of the formats' own projects: cyclonedx-python-lib
(CycloneDX 1.4-1.7, JSON schema and XSD), spdx-tools (SPDX 2.2 / 2.3 JSON and tag-value, full validation including
licence ids and LicenseRef declarations), license-expression (each CycloneDX `expression`), openpyxl (XLSX) and
pypdf (PDF). A converted SBOM uploaded again scans to the same findings as the upload it came from.
"""
from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path
from typing import Any, Iterator, Optional
from xml.etree import ElementTree as ET

import openpyxl
import pytest
from pypdf import PdfReader

import timesys
from timesys.core.choices import CYCLONEDX_FORMATS, CYCLONEDX_VERSIONS, SPDX_VERSIONS
from timesys.core.llapi import LLAPI
from timesys.vigiles import manifests, reports
from timesys_ci.sbom import is_readable
from timesys_ci.sbom.model import FORMAT_IDS

from .conftest import LocalVigiles
from .exports_support import cyclonedx_errors, spdx_errors, spdx_expression_errors

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
VIGILES_MANIFESTS = {
    "yocto": ROOT / "examples" / "core-image-minimal.vigiles.json",
    "buildroot": FIXTURES / "vulndb" / "manifests" / "buildroot-som60.vigiles.json",
    "openwrt": FIXTURES / "vulndb" / "manifests" / "openwrt-ath79.vigiles.json",
    "licences-purls": FIXTURES / "exports" / "licences-purls.vigiles.json",
}
#: One upload of every other format the service reads, with the format id it must be stored as.
OTHER_FORMATS = {
    "cyclonedx-json": FIXTURES / "sbom-formats" / "vulnscout-converted.bom.cdx.json",
    "cyclonedx-xml": FIXTURES / "vulndb" / "sbom-formats" / "alpine.syft.cdx14.xml",
    "spdx-json": FIXTURES / "vulndb" / "yocto-spdx" / "recipe-busybox.spdx.json",
    "spdx-tag": FIXTURES / "vulndb" / "sbom-formats" / "centos-7.trivy.spdx22.spdx",
    "spdx3-jsonld": FIXTURES / "sbom-formats" / "core-image-minimal-qemux86-64.rootfs.spdx3.json.gz",
}
SBOMS = {**VIGILES_MANIFESTS, **OTHER_FORMATS}
#: One upload per format: the tag-value checks (spdx-tools' parser takes ~1 s a document) run for these.
ONE_PER_FORMAT = ("yocto", "licences-purls", *OTHER_FORMATS)
CYCLONEDX = [(version, encoding) for version in CYCLONEDX_VERSIONS for encoding in CYCLONEDX_FORMATS]
SPDX = [(sbom, sbom_format, file_format, version) for sbom in sorted(SBOMS) for version in SPDX_VERSIONS
        for sbom_format, file_format in (("spdx", "json"), ("spdx", "tag"), ("spdx-lite", None))
        if file_format == "json" or sbom in ONE_PER_FORMAT]
#: Conversions that keep what the scan matches on (SPDX Lite leaves out CPEs and purls by design). They are checked
#: for every upload format but SPDX tag-value, whose fixture (CentOS packages) has no CVE in the sample data; the
#: tag-value output is checked through the others.
ROUND_TRIPS = [("cyclonedx", "json"), ("cyclonedx", "xml"), ("spdx", "json"), ("spdx", "tag")]


def _text(path: Path) -> str:
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            return handle.read()
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """The running local service with every SBOM uploaded once; yields the upload results by name."""
    from timesys_ci.service.server import running_service

    tmp = tmp_path_factory.mktemp("validated")
    with pytest.MonkeyPatch.context() as patch, running_service(tmp / "service-data") as running:
        client = LLAPI()
        client.configure(key_file_path=LocalVigiles(running, tmp).add_user())
        patch.setattr(timesys, "llapi", client)
        yield {name: manifests.upload_manifest(_text(path), manifest_name=name) for name, path in SBOMS.items()}
        client.close()
        running.storage.close()


def test_the_matrix_covers_every_readable_format(service: dict[str, dict[str, Any]]) -> None:
    stored = {name: manifests.get_manifest_info(result["manifest_token"])["sbom_format"]
              for name, result in service.items()}
    assert {name: stored[name] for name in OTHER_FORMATS} == {name: name for name in OTHER_FORMATS}
    assert {stored[name] for name in VIGILES_MANIFESTS} == {"vigiles"}
    assert set(stored.values()) == {format_id for format_id in FORMAT_IDS if is_readable(format_id)}


def _check_cyclonedx(data: bytes, encoding: str, version: str) -> None:
    assert cyclonedx_errors(data, encoding, version) == []
    if encoding == "json":
        bom = json.loads(data)
        assert bom["specVersion"] == version
        expressions = [entry["expression"] for component in bom.get("components", [])
                       for entry in component.get("licenses", []) if "expression" in entry]
    else:
        root = ET.fromstring(data)
        assert root.tag == f"{{http://cyclonedx.org/schema/bom/{version}}}bom"
        expressions = [element.text or "" for element in root.iter(f"{{http://cyclonedx.org/schema/bom/{version}}}expression")]
    for expression in expressions:  # the schemas take any string here; the spec says a valid SPDX expression
        assert spdx_expression_errors(expression) == [], expression


@pytest.mark.parametrize(("version", "encoding"), CYCLONEDX)
@pytest.mark.parametrize("report_format", ["cyclonedx-vex", "cyclonedx-sbom-vex"])
@pytest.mark.parametrize("sbom", sorted(SBOMS))
def test_cyclonedx_reports(service: dict[str, dict[str, Any]], sbom: str, report_format: str, version: str,
                           encoding: str) -> None:
    data = reports.download_report(service[sbom]["report_token"], report_format, cyclonedx_format=encoding,
                                   cyclonedx_version=version)
    _check_cyclonedx(data, encoding, version)


@pytest.mark.parametrize(("version", "encoding"), CYCLONEDX)
@pytest.mark.parametrize("sbom", sorted(SBOMS))
def test_cyclonedx_conversions(service: dict[str, dict[str, Any]], sbom: str, version: str, encoding: str) -> None:
    data = manifests.get_manifest_file(service[sbom]["manifest_token"], sbom_format="cyclonedx", file_format=encoding,
                                       sbom_version=version)
    _check_cyclonedx(data, encoding, version)


@pytest.mark.parametrize(("sbom", "sbom_format", "file_format", "version"), SPDX)
def test_spdx_conversions(service: dict[str, dict[str, Any]], sbom: str, sbom_format: str, file_format: str,
                          version: str) -> None:
    data = manifests.get_manifest_file(service[sbom]["manifest_token"], sbom_format=sbom_format,
                                       file_format=file_format, sbom_version=version)
    assert spdx_errors(data, version) == []


def _findings(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(entry["cve_id"], entry["category"]) for entries in report["cves"].values() for entry in entries}


@pytest.mark.parametrize(("sbom_format", "file_format"), ROUND_TRIPS)
@pytest.mark.parametrize("sbom", [name for name in ONE_PER_FORMAT + ("buildroot",) if name != "spdx-tag"])
def test_a_converted_sbom_scans_to_the_same_findings(service: dict[str, dict[str, Any]], sbom: str,
                                                    sbom_format: str, file_format: str) -> None:
    """The conversion keeps what the scan decides on: products, versions, patched, ignored and VEX'd CVEs."""
    original = service[sbom]
    converted = manifests.get_manifest_file(original["manifest_token"], sbom_format=sbom_format,
                                            file_format=file_format)
    again = manifests.upload_manifest(converted.decode("utf-8"), manifest_name=f"{sbom}-as-{sbom_format}")
    assert _findings(original)
    assert _findings(again) == _findings(original)


@pytest.mark.parametrize("sbom", ONE_PER_FORMAT)
def test_report_files_of_every_format(service: dict[str, dict[str, Any]], sbom: str) -> None:
    result = service[sbom]
    cve_ids = {entry["cve_id"] for entries in result["cves"].values() for entry in entries}
    rows = list(csv.DictReader(io.StringIO(reports.download_report(result["report_token"], "csv").decode("utf-8"))))
    assert {row["cve_id"] for row in rows} == cve_ids
    book = openpyxl.load_workbook(io.BytesIO(reports.download_report(result["report_token"], "xlsx")))
    assert {row[2] for row in list(book["Vulnerabilities"].iter_rows(values_only=True))[1:]} == cve_ids
    for report_format in ("pdf", "pdfsummary"):
        pdf = PdfReader(io.BytesIO(reports.download_report(result["report_token"], report_format)), strict=True)
        text = "\n".join(page.extract_text() for page in pdf.pages)
        assert f"Vulnerability report: {sbom}" in text
        assert "Packages in manifest: " in text  # the PDF header reads the SBOM, whatever its format


@pytest.mark.parametrize(("version", "encoding"), CYCLONEDX)
def test_exported_report_of_an_upload(service: dict[str, dict[str, Any]], tmp_path: Path, version: str,
                                      encoding: str) -> None:
    manifests.upload_manifest(VIGILES_MANIFESTS["licences-purls"].read_text(encoding="utf-8"),
                              export_format="cyclonedx-sbom-vex", export_path=tmp_path / "vex",
                              cyclonedx_format=encoding, cyclonedx_version=version)
    _check_cyclonedx((tmp_path / f"vex.{encoding}").read_bytes(), encoding, version)


def test_licences_and_purls_reach_the_served_documents(service: dict[str, dict[str, Any]]) -> None:
    token = service["licences-purls"]["manifest_token"]
    bom = json.loads(manifests.get_manifest_file(token, sbom_format="cyclonedx", sbom_version="1.6"))
    components = {component["name"]: component for component in bom["components"]}
    assert components["bash"]["licenses"] == [{"license": {"id": "GPL-3.0-or-later", "acknowledgement": "declared"}}]
    assert components["tzdata"]["licenses"] == [{"expression": "LicenseRef-PD AND BSD-3-Clause", "acknowledgement": "declared"}]
    assert components["@angular/core"]["purl"] == "pkg:npm/%40angular/core@16.2.12"
    spdx = json.loads(manifests.get_manifest_file(token, sbom_format="spdx"))
    declared = {package["name"]: package["licenseDeclared"] for package in spdx["packages"]}
    assert declared["xz"] == "GPL-2.0-or-later AND GPL-3.0-or-later AND LGPL-2.1-or-later AND LicenseRef-PD"
    assert declared["util-linux"] == "GPL-2.0-or-later AND LGPL-2.1-or-later AND BSD-3-Clause"
    assert {item["licenseId"]: item["name"] for item in spdx["hasExtractedLicensingInfos"]}["LicenseRef-PD"] == "PD"


@pytest.mark.parametrize("sbom", ["yocto", "buildroot"])
def test_xlsx_and_pdf_read_back(service: dict[str, dict[str, Any]], sbom: str) -> None:
    result = service[sbom]
    cve_ids = {entry["cve_id"] for entries in result["cves"].values() for entry in entries}
    assert cve_ids
    book = openpyxl.load_workbook(io.BytesIO(reports.download_report(result["report_token"], "xlsx")))
    assert book.sheetnames == ["Vulnerabilities", "Summary"]
    rows = list(book["Vulnerabilities"].iter_rows(values_only=True))
    assert rows[0][:3] == ("package", "version", "cve_id")
    assert {row[2] for row in rows[1:]} == cve_ids
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Total CVEs"] == len(rows) - 1
    pdf = PdfReader(io.BytesIO(reports.download_report(result["report_token"], "pdf")), strict=True)
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert all(cve_id in text for cve_id in cve_ids)
    assert f"page {len(pdf.pages)} of {len(pdf.pages)}" in text
    summary_pdf = PdfReader(io.BytesIO(reports.download_report(result["report_token"], "pdfsummary")), strict=True)
    assert len(summary_pdf.pages) == 1

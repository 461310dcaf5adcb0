from __future__ import annotations

import json
from pathlib import Path

import pytest

from timesys_ci.sbom import Sbom, SbomError, detect_format, load_sbom, register_format

FIXTURES = Path(__file__).parent / "fixtures" / "vulndb"
FORMATS = FIXTURES / "sbom-formats"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("centos-7.trivy.cdx15.json", "cyclonedx-json"),
        ("alpine-zlib.cdx16.json", "cyclonedx-json"),
        ("alpine.syft.cdx14.xml", "cyclonedx-xml"),
        ("centos-7.trivy.spdx22.json", "spdx-json"),
        ("centos-7.trivy.spdx22.spdx", "spdx-tag"),
    ],
)
def test_detects_real_third_party_documents(name: str, expected: str) -> None:
    path = FORMATS / name
    assert detect_format(path.read_text(encoding="utf-8"), str(path)) == expected


@pytest.mark.parametrize("name", ["manifests/openwrt-ath79.vigiles.json", "manifests/buildroot-som60.vigiles.json"])
def test_detects_vigiles_manifests(name: str) -> None:
    assert detect_format((FIXTURES / name).read_text()) == "vigiles"


def test_detects_example_manifest() -> None:
    example = Path(__file__).parents[1] / "examples" / "core-image-minimal.vigiles.json"
    assert detect_format(example.read_text()) == "vigiles"


def test_recognised_but_unreadable_format_is_a_clear_error() -> None:
    rdf = '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:spdx="http://spdx.org/rdf/terms#"/>'
    with pytest.raises(SbomError, match=r"^doc\.rdf: spdx-rdf documents are recognised but cannot be read yet$"):
        load_sbom(rdf, "doc.rdf")


@pytest.mark.parametrize(
    "name", ["centos-7.trivy.cdx15.json", "alpine-zlib.cdx16.json", "alpine.syft.cdx14.xml",
             "centos-7.trivy.spdx22.json", "centos-7.trivy.spdx22.spdx"],
)
def test_cyclonedx_and_spdx_documents_are_read(name: str) -> None:
    path = FORMATS / name
    sbom = load_sbom(path.read_text(encoding="utf-8"), str(path))
    assert sbom.format == detect_format(path.read_text(encoding="utf-8")) and sbom.packages


def test_register_format_plugs_in_a_reader() -> None:
    def read(document: object, source: object) -> Sbom:
        assert isinstance(document, str) and document.startswith("SPDXVersion")
        return Sbom(format="spdx-tag", source=str(source))

    register_format("spdx-tag", read)
    try:
        sbom = load_sbom((FORMATS / "centos-7.trivy.spdx22.spdx").read_text(), "x.spdx")
        assert sbom.format == "spdx-tag" and sbom.source == "x.spdx"
    finally:
        from timesys_ci.sbom import detect
        from timesys_ci.sbom.spdx import read_spdx_tag

        register_format("spdx-tag", read_spdx_tag)
        assert detect._READERS["spdx-tag"] is read_spdx_tag


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "m.json: empty file"),
        ("  \n\t", "m.json: empty file"),
        ('{"packages": {"a": {"name": "a"}', "m.json: invalid JSON at line 1 column 33"),
        ('{\n  "packages": {\n    "a": [1,\n', "m.json: invalid JSON at line 4 column 1"),
        ("[]", "m.json: unrecognised SBOM: top-level JSON is list"),
        ('{"hello": "world"}', "m.json: unrecognised SBOM: JSON object is not a Vigiles manifest"),
        ("<html></html>", "m.json: unrecognised SBOM: XML document"),
        ("just some text", "m.json: unrecognised SBOM: not JSON, XML or SPDX tag-value"),
        ('{"manifest_version": "1.19", "manifest_name": "x"}', "m.json: Vigiles manifest has no 'packages' object"),
        ('{"manifest_version": "1.19", "packages": []}', "m.json: Vigiles manifest 'packages' must be an object, got list"),
        ('{"packages": {"busybox": "1.36.1"}}', "m.json: packages['busybox'] must be an object, got str"),
        ('{"packages": {"a": {"cpe_id": 5}}}', "m.json: packages['a'].cpe_id must be a string or a list of strings, got int"),
        ('{"packages": {"a": {"patched_cves": "CVE-1"}}}', "m.json: packages['a'].patched_cves must be an object"),
        ('{"packages": {"a": {"version": {"x": 1}}}}', "m.json: packages['a'].version must be a string, got dict"),
        ('{"packages": {}, "vulnerabilities": {}}', "m.json: vulnerabilities must be a list, got dict"),
        ('{"packages": {}, "vulnerabilities": ["CVE-1"]}', "m.json: vulnerabilities[0] must be an object, got str"),
        ('{"packages": {}, "vulnerabilities": [{"analysis": {}}]}', "m.json: vulnerabilities[0] has no 'id'"),
        ('{"packages": {}, "whitelist": 3}', "m.json: whitelist must be a string or a list of strings, got int"),
    ],
)
def test_errors_are_one_line_and_name_the_file(text: str, fragment: str) -> None:
    with pytest.raises(SbomError) as info:
        load_sbom(text, "m.json")
    message = str(info.value)
    assert fragment in message and "\n" not in message
    assert isinstance(info.value, ValueError)


def test_error_without_source_has_no_prefix() -> None:
    with pytest.raises(SbomError, match=r"^empty file$"):
        load_sbom("")


def test_byte_order_mark_is_ignored() -> None:
    assert load_sbom("\ufeff" + json.dumps({"packages": {}})).packages == []

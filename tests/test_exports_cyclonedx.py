from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from tests.exports_support import cyclonedx_errors, cyclonedx_licence_entries, load_report, manifest_sbom, spdx_expression_errors
from timesys_ci.service.exports import ExportError, render_report

VERSIONS = ("1.4", "1.5", "1.6", "1.7")


def _vex(fmt: str = "cyclonedx-vex", version: str = "1.7", file_format: str = "json", **kwargs: Any) -> bytes:
    return render_report(load_report(), manifest_sbom(), fmt, cyclonedx_format=file_format, cyclonedx_version=version, **kwargs)[0]


@pytest.mark.parametrize("file_format", ["json", "xml"])
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("fmt", ["cyclonedx-vex", "cyclonedx-sbom-vex"])
def test_valid_against_the_official_schema(fmt: str, version: str, file_format: str) -> None:
    data = _vex(fmt, version, file_format)
    assert cyclonedx_errors(data, file_format, version) == []
    if file_format == "json":
        assert json.loads(data)["specVersion"] == version


def test_schema_validation_catches_a_broken_document() -> None:
    bom = json.loads(_vex("cyclonedx-sbom-vex"))
    bom["vulnerabilities"][0]["analysis"]["state"] = "maybe"
    assert cyclonedx_errors(json.dumps(bom), "json", "1.7")
    bom = json.loads(_vex("cyclonedx-sbom-vex"))
    bom["components"][0]["licenses"] = [{"license": {"id": "GPLv2"}}]  # not an SPDX id: license.name's job
    assert cyclonedx_errors(json.dumps(bom), "json", "1.7")
    xml = _vex("cyclonedx-sbom-vex", file_format="xml")
    assert cyclonedx_errors(xml.replace(b"<state>", b"<state>maybe-", 1), "xml", "1.7")
    assert b"<id>Apache-2.0</id>" in xml
    assert cyclonedx_errors(xml.replace(b"<id>Apache-2.0</id>", b"<id>GPLv2</id>"), "xml", "1.7")


@pytest.mark.parametrize("version", VERSIONS)
def test_licences_use_id_name_or_expression_as_the_spec_says(version: str) -> None:
    components = {component["name"]: component for component in json.loads(_vex("cyclonedx-sbom-vex", version))["components"]}
    declared = {} if version in ("1.4", "1.5") else {"acknowledgement": "declared"}  # acknowledgement is 1.6+
    assert components["openssl"]["licenses"] == [{"license": {"id": "Apache-2.0", **declared}}]
    assert components["ncurses"]["licenses"] == [{"license": {"name": "MIT-style with unknown clauses", **declared}}]
    assert components["busybox"]["licenses"] == [{"expression": "GPL-2.0-only AND LicenseRef-bzip2-1.0.4", **declared}]
    assert "licenses" not in components["dropbear"]  # only in the report: no licence known
    for entry in cyclonedx_licence_entries({"components": list(components.values())}):
        if "expression" in entry:
            assert spdx_expression_errors(entry["expression"]) == []


def test_header_fields() -> None:
    bom = json.loads(_vex())
    assert bom["bomFormat"] == "CycloneDX"
    assert bom["version"] == 1
    assert bom["serialNumber"].startswith("urn:uuid:")
    assert bom["metadata"]["timestamp"] == "2026-11-27T16:40:00Z"
    assert bom["metadata"]["tools"]["components"][0]["name"] == "timesys-ci"
    assert isinstance(json.loads(_vex(version="1.4"))["metadata"]["tools"], list)


def test_serial_number_is_derived_from_the_report_token() -> None:
    first = json.loads(_vex())["serialNumber"]
    assert json.loads(_vex())["serialNumber"] == first
    other = load_report()
    other["report_token"] = "RPTother"
    assert json.loads(render_report(other, None, "cyclonedx-vex")[0])["serialNumber"] != first
    assert json.loads(_vex("cyclonedx-sbom-vex"))["serialNumber"] != first


def _by_id(bom: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {vulnerability["id"]: vulnerability for vulnerability in bom["vulnerabilities"]}


def test_vulnerability_content_and_analysis_states() -> None:
    vulns = _by_id(json.loads(_vex()))
    assert len(vulns) == 10
    unfixed = vulns["CVE-2024-9143"]
    assert unfixed["source"] == {"name": "NVD", "url": "https://nvd.nist.gov/vuln/detail/CVE-2024-9143"}
    assert unfixed["ratings"][0]["score"] == 4.3
    assert unfixed["ratings"][0]["severity"] == "medium"
    assert unfixed["ratings"][0]["method"] == "CVSSv31"
    assert unfixed["ratings"][0]["vector"].startswith("CVSS:3.1/")
    assert unfixed["analysis"]["state"] == "exploitable"
    assert unfixed["affects"] == [{"ref": "openssl@3.2.3"}]
    assert vulns["CVE-2024-13176"]["ratings"][1]["method"] == "CVSSv4"
    assert vulns["CVE-2024-13176"]["analysis"]["response"] == ["update"]
    assert vulns["CVE-2023-42363"]["analysis"]["state"] == "resolved"
    assert "CVE-2023-42363.patch" in vulns["CVE-2023-42363"]["analysis"]["detail"]
    assert vulns["CVE-2021-42386"]["analysis"]["state"] == "not_affected"
    assert vulns["CVE-2023-52160"]["analysis"] == {
        "state": "not_affected",
        "justification": "code_not_present",
        "detail": "Vigiles status: Not Affected.",
    }
    assert vulns["CVE-2024-36971"]["analysis"]["state"] == "in_triage"
    assert {"name": "timesys-ci:cisa-kev", "value": "true"} in vulns["CVE-2024-1086"]["properties"]
    assert len({vulnerability["bom-ref"] for vulnerability in vulns.values()}) == 10


def test_cvss_v4_rating_uses_other_method_in_1_4() -> None:
    vulns = _by_id(json.loads(_vex(version="1.4")))
    assert vulns["CVE-2024-13176"]["ratings"][1]["method"] == "other"


def test_sbom_vex_components_resolve_every_affects_ref() -> None:
    bom = json.loads(_vex("cyclonedx-sbom-vex"))
    refs = {component["bom-ref"] for component in bom["components"]}
    for vulnerability in bom["vulnerabilities"]:
        assert vulnerability["affects"][0]["ref"] in refs
    components = {component["name"]: component for component in bom["components"]}
    assert components["openssl"]["cpe"] == "cpe:2.3:a:openssl:openssl:3.2.3:*:*:*:*:*:*:*"
    assert components["openssl"]["purl"] == "pkg:generic/openssl@3.2.3"
    assert components["zlib"]["cpe"].startswith("cpe:2.3:a:zlib:zlib:1.3.1")  # cpe_id given as a string
    # The kernel's report version (6.6.21) differs from the build version (6.6.21+git).
    kernel = _by_id(bom)["CVE-2024-1086"]
    assert kernel["affects"] == [{"ref": "linux-yocto@6.6.21+git"}]
    assert "dropbear" in components  # only in the report, added so its ref resolves
    assert all(component["type"] == "library" for component in bom["components"])


def _strip(tag: str) -> str:
    return tag.split("}", 1)[1]


@pytest.mark.parametrize("version", VERSIONS)
def test_xml_has_the_version_namespace_and_the_json_content(version: str) -> None:
    as_json = json.loads(_vex("cyclonedx-sbom-vex", version))
    root = ET.fromstring(_vex("cyclonedx-sbom-vex", version, "xml"))
    ns = {"c": f"http://cyclonedx.org/schema/bom/{version}"}
    assert root.tag == f"{{{ns['c']}}}bom"
    assert root.get("serialNumber") == as_json["serialNumber"]
    assert root.get("version") == "1"
    assert [_strip(child.tag) for child in root] == ["metadata", "components", "vulnerabilities"]
    assert root.findtext("c:metadata/c:timestamp", namespaces=ns) == "2026-11-27T16:40:00Z"
    tool_path = "c:metadata/c:tools/c:tool/c:name" if version == "1.4" else "c:metadata/c:tools/c:components/c:component/c:name"
    assert root.findtext(tool_path, namespaces=ns) == "timesys-ci"
    components = root.findall("c:components/c:component", ns)
    assert [c.get("bom-ref") for c in components] == [c["bom-ref"] for c in as_json["components"]]
    vulnerabilities = root.findall("c:vulnerabilities/c:vulnerability", ns)
    assert len(vulnerabilities) == len(as_json["vulnerabilities"])
    for element, expected in zip(vulnerabilities, as_json["vulnerabilities"]):
        assert element.get("bom-ref") == expected["bom-ref"]
        assert element.findtext("c:id", namespaces=ns) == expected["id"]
        assert element.findtext("c:analysis/c:state", namespaces=ns) == expected["analysis"]["state"]
        assert element.findtext("c:affects/c:target/c:ref", namespaces=ns) == expected["affects"][0]["ref"]
        # Schema order: analysis comes before affects.
        children = [_strip(child.tag) for child in element]
        assert children.index("analysis") < children.index("affects")
        if "ratings" in expected:
            score = element.findtext("c:ratings/c:rating/c:score", namespaces=ns)
            assert float(score) == expected["ratings"][0]["score"]


def test_media_types() -> None:
    assert render_report(load_report(), None, "cyclonedx-vex", cyclonedx_format="xml", cyclonedx_version="1.5")[1] == (
        "application/vnd.cyclonedx+xml; version=1.5"
    )
    assert render_report(load_report(), None, "cyclonedx-vex", cyclonedx_format=None, cyclonedx_version=None)[1] == (
        "application/vnd.cyclonedx+json; version=1.7"
    )


@pytest.mark.parametrize(("file_format", "version", "named"), [("yaml", "1.7", "'yaml'"), ("json", "1.3", "'1.3'"), ("json", "2.0", "'2.0'")])
def test_unknown_cyclonedx_options_are_rejected(file_format: str, version: str, named: str) -> None:
    with pytest.raises(ExportError) as caught:
        render_report(load_report(), None, "cyclonedx-vex", cyclonedx_format=file_format, cyclonedx_version=version)
    assert named in str(caught.value)


@pytest.mark.parametrize("version", VERSIONS)
def test_v2_scores_and_missing_status_give_a_valid_document(version: str) -> None:
    report = {"report_token": "RPT1", "cves": {"zlib": [
        {"cve_id": "CVE-2002-0059", "cvss": 10.0, "vector": "AV:N/AC:L/Au:N/C:C/I:C/A:C", "cvss_v4": 9.3,
         "vector_v4": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "status": "Unfixed"},
        {"cve_id": "CVE-2018-25032", "vuln_status": "resolved"},
    ]}}
    data = render_report(report, None, "cyclonedx-vex", cyclonedx_version=version)[0]
    assert cyclonedx_errors(data, "json", version) == []
    assert cyclonedx_errors(render_report(report, None, "cyclonedx-vex", cyclonedx_format="xml", cyclonedx_version=version)[0], "xml", version) == []
    bom = json.loads(data)
    vulns = _by_id(bom)
    v2, v4 = vulns["CVE-2002-0059"]["ratings"]
    assert (v2["method"], v2["severity"]) == ("CVSSv2", "high")  # v2 has no critical band
    assert v4["severity"] == "critical"
    resolved = vulns["CVE-2018-25032"]
    assert resolved["analysis"] == {"state": "resolved"}
    assert "properties" not in resolved and "ratings" not in resolved

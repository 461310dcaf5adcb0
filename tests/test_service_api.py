"""Every public `timesys` function end to end against the local service over real HTTP, both flavours."""
from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

import timesys
from timesys.core.llapi import LLAPI
from timesys.utilities import get_app_db_version, heartbeat
from timesys.vigiles import cves, folders, groups, manifests, products, reports

from .conftest import LocalVigiles
from .openssl_cna_reading import cves_affecting

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "examples" / "core-image-minimal.vigiles.json").read_text()
OPENWRT = (ROOT / "tests" / "fixtures" / "vulndb" / "manifests" / "openwrt-ath79.vigiles.json").read_text()


def cve_ids(report: dict[str, Any], category: str) -> set[tuple[str, str]]:
    return {(package, entry["cve_id"]) for package, entries in report["cves"].items() for entry in entries
            if entry["category"] == category}


@pytest.mark.parametrize("flavour", ["groups", "products"])
def test_every_function(local_vigiles: LocalVigiles, fresh_llapi: LLAPI, flavour: str, tmp_path: Path) -> None:
    fresh_llapi.configure(key_file_path=local_vigiles.add_user("owner@example.com"), api=flavour)
    assert heartbeat() == {"ok": True}
    sample = ROOT / "tests" / "fixtures" / "vulndb"
    about = get_app_db_version()
    assert about["vulnerability_records"] == sum(len(list(sample.glob(pattern))) for pattern in (
        "nvd/*.json", "cve5/openssl-cna/CVE-*.json", "cve5/cvelistV5/CVE-*.json"))  # the bundled sample
    assert about["vuln_data"]["sample_only"] is True and about["vuln_data"]["sources"]["kev"]["records"] > 1000

    # groups / products, settings, members
    if flavour == "products":
        product = products.create_product("Gateway", "LinuxLink product")
        assert product["token"] in {p["token"] for p in products.get_products()}
        fresh_llapi.product_token = product["token"]
        assert products.get_product_info()["name"] == "Gateway"
        team = product["token"]
    else:
        team = groups.create_group("Team A", "firmware")["token"]
        fresh_llapi.group_token = team
    sub = groups.create_group("Board X")["token"]  # a subgroup of the configured group
    info = groups.get_group_info(subgroups=True)
    assert info["token"] == team and [s["token"] for s in info["subgroups"]] == [sub]
    assert groups.get_group_info(sub)["group_type"] == "Subgroup"
    assert {g["token"] for g in groups.get_groups()} >= {team, sub}
    assert [g["group_type"] for g in groups.get_groups(include_private_workspaces=True)].count("Private Workspace") == 1
    assert groups.update_group_settings(vuln_identifiers=["CPE", "Package Name"], vuln_strict_match="on",
                                        report_dep_vulns="off", auto_close_jira_issues="off")["status_code"] == 200
    settings = groups.get_group_settings()
    assert settings["vuln_identifiers"] == ["CPE", "Package Name"] and settings["vuln_strict_match"] == "on"
    groups.update_group_settings(vuln_identifiers=["CPE", "CVE Product", "Package Name"], vuln_strict_match="off")
    local_vigiles.add_user("dev+ci@example.com")
    groups.add_group_member(team, "dev+ci@example.com", "viewer", access_subgroups=True)
    groups.update_group_member(team, "dev+ci@example.com", "editor")
    members = {m["email"]: m["role"] for m in groups.get_group_members(team)["group_members"]}
    assert members == {"owner@example.com": "admin", "dev+ci@example.com": "editor"}
    groups.remove_group_member(team, "dev+ci@example.com")
    assert "dev+ci@example.com" not in {m["email"] for m in groups.get_group_members(team)["group_members"]}
    groups.bulk_archive_groups([sub])
    assert [g["token"] for g in groups.get_archived_groups()] == [sub]
    groups.bulk_unarchive_groups([sub])
    assert groups.get_archived_groups() == []

    # folders
    folder = folders.create_folder("release-1", "first release")
    assert folder["group_token"] == team
    child = folders.create_folder("rc1", folder_token=folder["folder_token"])
    assert [f["folder_token"] for f in folders.get_folders(folder_token=folder["folder_token"])] == [child["folder_token"]]
    assert [f["folder_name"] for f in folders.get_folders()] == ["release-1"]
    folders.archive_folders([child["folder_token"]])
    assert [f["folder_name"] for f in folders.get_folders(folder_token=folder["folder_token"], archived_only=True)] == ["rc1"]
    folders.unarchive_folders([child["folder_token"]])

    # manifests: upload (with a subfolder), list, info, file, reports, rescan, latest, export
    fresh_llapi.folder_token = folder["folder_token"]
    export_path = tmp_path / "out" / "report.txt"
    upload = manifests.upload_manifest(EXAMPLE, kernel_config="CONFIG_X=y\n", manifest_name="cim",
                                       subfolder_name="nightly", extra_fields=["description"],
                                       ecosystems="all", subscribe="weekly", export_format="csv",
                                       export_path=export_path)
    token = upload["manifest_token"]
    assert "exported_report" not in upload and export_path.with_suffix(".csv").read_text().startswith("package,")
    assert ("busybox", "CVE-2022-48174") in cve_ids(upload, "unfixed")
    assert ("glibc", "CVE-2024-2961") in cve_ids(upload, "fixed")
    assert all(entry["description"] for entries in upload["cves"].values() for entry in entries)
    nightly = folders.get_folders(folder_token=folder["folder_token"])
    assert "nightly" in {f["folder_name"] for f in nightly} and upload["folder_token"] in {
        f["folder_token"] for f in nightly}
    fresh_llapi.folder_token = upload["folder_token"]
    assert [m["manifest_token"] for m in manifests.get_manifests()] == [token]
    fresh_llapi.folder_token = None
    info = manifests.get_manifest_info(token)
    assert json.loads(info["manifest_data"])["manifest_name"] == "core-image-minimal"
    assert manifests.get_manifest_file(token) == EXAMPLE.encode()
    spdx = json.loads(manifests.get_manifest_file(token, sbom_format="spdx"))
    assert spdx["spdxVersion"].startswith("SPDX-")
    rescan = manifests.rescan_manifest(token, filter_results=True, extra_fields=["published"])
    assert rescan["counts"] == upload["counts"] and rescan["report_token"] != upload["report_token"]
    assert set(manifests.rescan_manifest(token, rescan_only=True)) == {"manifest_token", "report_token", "report_path",
                                                                       "date"}
    reports_list = manifests.get_report_tokens(token)["reports"]
    assert [r["manifest_version"] for r in reports_list] == [1, 2, 3]
    latest = manifests.get_latest_report(token, extra_fields=["references"])
    assert latest["report_token"] == reports_list[-1]["report_token"] and "references" in latest["cves"]["busybox"][0]

    # statuses, custom scores, activity log
    cves.set_status("manifest", "CVE-2022-48174", "busybox", "not_affected", justification="code_not_present",
                    justification_detail="applet disabled", package_version="1.36.1", manifest_tokens=[token])
    status = cves.get_vuln_status("CVE-2022-48174", "busybox", "1.36.1", token)
    assert (status["status"], status["justification"]) == ("not_affected", "code_not_present")
    cves.set_status("group", "CVE-2024-36971", "linux-yocto", "in_triage")  # group from the dashboard config
    manifests.set_custom_score(token, "busybox", "CVE-2022-48174", 3.1, "")
    triaged = manifests.rescan_manifest(token)
    entry = triaged["cves"]["busybox"][[e["cve_id"] for e in triaged["cves"]["busybox"]].index("CVE-2022-48174")]
    assert (entry["category"], entry["vuln_status"], entry["custom_score"]) == ("whitelisted", "not_affected", 3.1)
    log = groups.search_activity_log()
    assert {e["log_type"] for e in log} >= {"update_vuln_status", "update_custom_score"}
    assert [e["vuln_id"] for e in groups.search_activity_log(log_type="update_custom_score")] == ["CVE-2022-48174"]

    # reports: compare and download in every format
    compare = reports.compare_reports(upload["report_token"], triaged["report_token"], remove_not_affected=True)
    assert compare == {**compare, "new": [], "resolved": ["CVE-2022-48174"]}
    for report_format in reports.REPORT_FORMATS:
        content = reports.download_report(triaged["report_token"], report_format)
        assert isinstance(content, bytes) and content
    assert reports.download_report(triaged["report_token"], "pdf").startswith(b"%PDF-")
    assert json.loads(reports.download_report(triaged["report_token"], "cyclonedx-vex", cyclonedx_version="1.5"))[
        "specVersion"] == "1.5"

    # CVE lookups
    assert "CVE-2022-48174" in cves.search_cves_by_product("busybox", "1.36.1", ids_only=True)
    assert "CVE-2022-48174" not in cves.search_cves_by_product("busybox", "1.37.0", ids_only=True)
    assert set(cves.search_cves_by_product("zlib")) == {"CVE-2022-37434"}
    cve = cves.get_cve_info("CVE-2024-36971", fields=["cisa", "impact", "identifier"])
    assert cve["identifier"] == "CVE-2024-36971" and cve["cisa"]["known_exploited"] is True
    assert set(cve) == {"cisa", "impact", "identifier"}

    # move, copy, delete, delete group
    copied = manifests.bulk_copy_manifests([token], target_group_token=sub, include_history=True)
    copy_token = copied["tokens"][token]
    assert len(manifests.get_report_tokens(copy_token)["reports"]) == len(manifests.get_report_tokens(token)["reports"])
    shallow = manifests.bulk_copy_manifests([token], target_group_token=sub)["tokens"][token]
    assert len(manifests.get_report_tokens(shallow)["reports"]) == 1
    manifests.bulk_move_manifests([copy_token], target_folder_token=folder["folder_token"])
    assert manifests.get_manifest_info(copy_token)["folder_token"] == folder["folder_token"]
    with pytest.raises(timesys.BadRequestError, match="not confirmed"):
        manifests.delete_manifest(copy_token)
    assert manifests.delete_manifest(copy_token, confirmed=True)["success"] is True
    with pytest.raises(timesys.NotFoundError):
        manifests.get_manifest_info(copy_token)
    assert groups.delete_group(sub)["status_code"] == 200


def test_upload_only_then_rescan(configured: LLAPI) -> None:
    stored = manifests.upload_manifest(OPENWRT, upload_only=True)
    assert stored["report_path"] is None
    with pytest.raises(timesys.NotFoundError, match="no report yet"):
        manifests.get_latest_report(stored["manifest_token"])
    report = manifests.rescan_manifest(stored["manifest_token"])
    assert report["manifest_name"] == "openwrt-ath79"


def test_upload_to_private_workspace_and_exported_report(configured: LLAPI, tmp_path: Path) -> None:
    result = manifests.upload_manifest(EXAMPLE, export_format="cyclonedx-sbom-vex", export_path=tmp_path / "vex",
                                       cyclonedx_format="xml", cyclonedx_version="1.6")
    workspaces = [g for g in groups.get_groups(include_private_workspaces=True) if g["group_type"] == "Private Workspace"]
    assert result["group_token"] == workspaces[0]["token"]
    assert (tmp_path / "vex.xml").read_text().lstrip().startswith("<?xml")


def test_report_path_resolves_on_the_service(local_vigiles: LocalVigiles, configured: LLAPI) -> None:
    import requests

    result = manifests.upload_manifest(EXAMPLE)
    page = requests.get(local_vigiles.url + result["report_path"], timeout=10)
    assert page.status_code == 200 and "CVE-2022-48174" in page.text and "text/html" in page.headers["Content-Type"]


BUILDROOT = (ROOT / "tests" / "fixtures" / "vulndb" / "manifests" / "buildroot-som60.vigiles.json").read_text()


def by_category(report: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = {}
    for package, entries in report["cves"].items():
        for entry in entries:
            found.setdefault(entry["category"], set()).add((package, entry["cve_id"]))
    return found


def test_fixture_manifests_find_exactly_the_range_matches(configured: LLAPI) -> None:
    """Exactly the CVEs the bundled data's ranges give each version, in the category its fixes give.

    NVD ranges are worked out in tests/fixtures/vulndb/README.md; OpenSSL's come from the OpenSSL CNA
    records, read independently (tests/openssl_cna_reading.py). upgradable: a source names the fixed
    version; unapplied: only a fix commit or patch is named (NVD's Patch references); unfixed: neither.
    """
    openwrt = by_category(manifests.upload_manifest(OPENWRT))
    openssl_111n = {("openssl", cve) for cve in cves_affecting("1.1.1n")}  # CVE-2022-0778 not: 1.1.1n fixed it
    assert len(openssl_111n) == 38 and ("openssl", "CVE-2022-0778") not in openssl_111n
    assert openwrt == {
        "unfixed": {
            ("busybox", "CVE-2022-48174"),  # <= 1.36.1, NVD names no fix
            ("dropbear", "CVE-2021-36369"),  # matt_johnston:dropbear_ssh_server is an alias of dropbear_ssh; <= 2020.81
        },
        "unapplied": {
            ("busybox", "CVE-2022-28391"),  # <= 1.35.0; NVD's Patch references are Alpine's .patch files
            ("zlib", "CVE-2022-37434"),  # <= 1.2.12; NVD's Patch reference is the zlib commit
        },
        "upgradable": {
            ("curl", "CVE-2024-7264"),  # 7.32.0 <= v < 8.9.1 (NVD and the curl CNA); not CVE-2018-14618: < 7.61.1
            ("dnsmasq", "CVE-2022-0934"), ("dnsmasq", "CVE-2023-28450"),  # < 2.87, < 2.90
        } | openssl_111n,
    }  # busybox 1.33.2 is past CVE-2021-42386 (1.16.0-1.33.1)
    buildroot = by_category(manifests.upload_manifest(BUILDROOT))
    assert buildroot == {
        "unfixed": {("busybox", "CVE-2021-42386"), ("busybox", "CVE-2022-48174"), ("dropbear", "CVE-2021-36369")},
        "unapplied": {("busybox", "CVE-2022-28391"), ("libzlib", "CVE-2022-37434")},
        "upgradable": {("libcurl", "CVE-2024-7264")} | {("libopenssl", cve) for cve in cves_affecting("1.1.1i")},
        "fixed": {("busybox", "CVE-2018-1000500")},  # patched_cves in the manifest
        "whitelisted": {("expat", "CVE-2024-45490"), ("systemd", "CVE-2023-26604")},  # whitelist / ignore_cves
    }
    assert ("libopenssl", "CVE-2022-0778") in buildroot["upgradable"]  # both NVD and the CNA: 1.1.0 <= v < 1.1.1n


def test_reports_say_which_data_they_were_scanned_against(configured: LLAPI) -> None:
    report = manifests.upload_manifest(OPENWRT)
    data = report["vuln_data"]
    assert data["sample_only"] is True and data["updated"] and data["records"] > 300
    assert {"nvd", "cve5", "kev"} <= set(data["sources"])
    assert data["sources"]["cve5"] == {"records": data["sources"]["cve5"]["records"], "updated": data["updated"],
                                       "origin": "bundled sample"}
    from timesys_ci.report import parse_report

    parsed = parse_report(report)
    assert parsed.summary.vuln_data == data
    curl = next(f for f in parsed.findings if f.cve_id == "CVE-2024-7264")
    assert curl.sources == ("nvd", "cve5:curl") and curl.fixed_versions == ("8.9.1",)


def test_exported_report_is_base64_gzip(local_vigiles: LocalVigiles) -> None:
    """The raw upload answer carries exported_report exactly as the client decodes it."""
    client = local_vigiles.client()
    raw = timesys.core.endpoints.MANIFEST_UPLOAD.call(client, manifest=EXAMPLE, filter_results=False,
                                                      upload_only=False, export_format="csv")
    assert gzip.decompress(base64.b64decode(raw["exported_report"])).startswith(b"package,")

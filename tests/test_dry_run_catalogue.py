"""Every public function's request, checked in dry-run against vigiles-api.md sections 4 and 5.

Each case states the method, resource and exact params (POST: in body order) the
reference sends; both API flavours are checked (products renames per section 7.2).
"""
from __future__ import annotations

from typing import Any, Callable, Optional
from urllib.parse import parse_qsl, urlsplit

import pytest

import timesys
from timesys import ParameterError
from timesys.core.llapi import LLAPI
from timesys.utilities import get_app_db_version, heartbeat
from timesys.vigiles import cves, folders, groups, manifests, products, reports

from .conftest import DEMO_EMAIL, DEMO_KEY

V = "/api/v1/vigiles"
Case = tuple[Callable[[], Any], str, str, list[tuple[str, str]], Optional[tuple[Optional[str], Optional[str]]]]
GRP, FLD = "GRP1", "FLD1"

CASES: dict[str, Case] = {
    # name: (call, method, resource, wire pairs (POST: body order), dashboard (group, folder) or None)
    "heartbeat": (heartbeat, "POST", f"{V}/heartbeat", [], None),
    "about": (get_app_db_version, "GET", f"{V}/about", [], None),
    "cve_info": (lambda: cves.get_cve_info("CVE-2024-1086", ["impact", "cisa"]), "GET", f"{V}/cves/CVE-2024-1086",
                 [("fields", "impact"), ("fields", "cisa")], None),
    "cve_info_no_fields": (lambda: cves.get_cve_info("CVE-2024-1086"), "GET", f"{V}/cves/CVE-2024-1086", [], None),
    "cve_search": (lambda: cves.search_cves_by_product("openssl"), "GET", f"{V}/cves",
                   [("ids_only", "False"), ("product", "openssl"), ("version", "")], None),
    "set_status_group_fallback": (
        lambda: cves.set_status("group", "CVE-1", "zlib", "not_affected", justification="code_not_present"),
        "POST", f"{V}/cves/CVE-1/vuln-status",
        [("scope", "group"), ("package", "zlib"), ("status", "not_affected"), ("justification", "code_not_present"),
         ("group_tokens", GRP)], (GRP, None)),
    "set_status_full": (
        lambda: cves.set_status("manifest", "CVE-1", "zlib", "resolved", None, "patched", "1.3", ["M2", "M1"]),
        "POST", f"{V}/cves/CVE-1/vuln-status",
        [("scope", "manifest"), ("package", "zlib"), ("status", "resolved"), ("package_version", "1.3"),
         ("justification_detail", "patched"), ("manifest_tokens", "M2"), ("manifest_tokens", "M1")], None),
    "get_vuln_status": (lambda: cves.get_vuln_status("CVE-1", "zlib", "", "MNF"), None, "", [], None),
    "get_vuln_status_ok": (lambda: cves.get_vuln_status("CVE-1", "zlib", "1.3", "MNF"), "GET",
                           f"{V}/cves/CVE-1/vuln-status",
                           [("manifest_token", "MNF"), ("package_name", "zlib"), ("package_version", "1.3")], None),
    "get_folders_cfg_group": (folders.get_folders, "GET", f"{V}/folders", [("group_token", GRP)], (GRP, None)),
    "get_folders_cfg_folder": (lambda: folders.get_folders(archived_only=True), "GET", f"{V}/folders",
                               [("archived_only", "True"), ("folder_token", FLD)], (GRP, FLD)),
    "create_folder": (lambda: folders.create_folder("rel-1", "first"), "POST", f"{V}/folders",
                      [("folder_name", "rel-1"), ("description", "first"), ("group_token", GRP)], (GRP, None)),
    "create_subfolder": (lambda: folders.create_folder("rel-1", folder_token="F9"), "POST", f"{V}/folders",
                         [("folder_name", "rel-1"), ("folder_token", "F9")], (GRP, None)),
    "archive_folders": (lambda: folders.archive_folders(["F2", "F1"]), "PATCH", f"{V}/folders/archive",
                        [("tokens", "F2"), ("tokens", "F1")], None),
    "unarchive_folders": (lambda: folders.unarchive_folders(["F1"]), "PATCH", f"{V}/folders/unarchive",
                          [("tokens", "F1")], None),
    "get_groups": (groups.get_groups, "GET", f"{V}/groups", [("include_private_workspaces", "False")], None),
    "get_archived_groups": (groups.get_archived_groups, "GET", f"{V}/groups/archived", [], None),
    "create_group_sub": (lambda: groups.create_group("Team", "desc"), "POST", f"{V}/groups",
                         [("group_name", "Team"), ("description", "desc"), ("group_token", GRP)], (GRP, None)),
    "create_group_top": (lambda: groups.create_group("Team"), "POST", f"{V}/groups", [("group_name", "Team")], None),
    "get_group_info": (lambda: groups.get_group_info(subgroups=True), "GET", f"{V}/groups/{GRP}",
                       [("subgroups", "True")], (GRP, None)),
    "group_info_required": (groups.get_group_info, None, "", [], None),
    "bulk_archive_groups": (lambda: groups.bulk_archive_groups(["G1"]), "PATCH", f"{V}/groups/archive",
                            [("tokens", "G1")], None),
    "bulk_unarchive_groups": (lambda: groups.bulk_unarchive_groups(["G1"]), "PATCH", f"{V}/groups/unarchive",
                              [("tokens", "G1")], None),
    "delete_group": (lambda: groups.delete_group("G1"), "DELETE", f"{V}/groups/G1", [], None),
    "get_group_members": (lambda: groups.get_group_members("G1"), "GET", f"{V}/groups/G1/members", [], None),
    "add_group_member": (lambda: groups.add_group_member("G1", "a+b@example.com", "viewer"), "POST",
                         f"{V}/groups/G1/members",
                         [("member_email", "a+b@example.com"), ("role", "viewer"),
                          ("allow_access_to_subgroups", "False")], None),
    "update_group_member": (lambda: groups.update_group_member("G1", "a+b@example.com", "admin"), "PUT",
                            f"{V}/groups/G1/members/a+b@example.com", [("new_role", "admin")], None),
    "remove_group_member": (lambda: groups.remove_group_member("G1", "a@example.com"), "DELETE",
                            f"{V}/groups/G1/members/a@example.com", [], None),
    "get_group_settings": (groups.get_group_settings, "GET", f"{V}/groups/{GRP}/settings", [], (GRP, None)),
    "update_group_settings": (lambda: groups.update_group_settings("G1", ["Package Name", "CPE"], "on"), "PATCH",
                              f"{V}/groups/G1/settings",
                              [("vuln_identifiers", "Package Name"), ("vuln_identifiers", "CPE"),
                               ("vuln_strict_match", "on")], None),
    "update_group_settings_empty": (lambda: groups.update_group_settings("G1"), "PATCH", f"{V}/groups/G1/settings",
                                    [], None),
    "search_activity_log": (lambda: groups.search_activity_log(vuln_id="CVE-1", log_type="update_vuln_status"),
                            "GET", f"{V}/groups/{GRP}/activity_log",
                            [("folder_token", FLD), ("group_token", GRP), ("log_type", "update_vuln_status"),
                             ("vuln_id", "CVE-1")], (GRP, FLD)),
    "get_manifests_folder": (manifests.get_manifests, "GET", f"{V}/manifests", [("folder_token", FLD)], (GRP, FLD)),
    "get_manifests_group": (manifests.get_manifests, "GET", f"{V}/manifests", [("group_token", GRP)], (GRP, None)),
    "get_manifests_none": (manifests.get_manifests, "GET", f"{V}/manifests", [], None),
    "get_manifest_info": (lambda: manifests.get_manifest_info("M1", "spdx", "json"), "GET", f"{V}/manifests/M1",
                          [("file_format", "json"), ("sbom_format", "spdx")], None),
    "get_manifest_file": (lambda: manifests.get_manifest_file("M1"), "GET", f"{V}/manifests/M1",
                          [("send_file", "True")], None),
    "upload_manifest": (
        lambda: manifests.upload_manifest("{}", kernel_config="CONFIG_A=y", manifest_name="img",
                                          extra_fields=["published"], ecosystems="Debian, nope,Alpine",
                                          subscribe="weekly"),
        "POST", f"{V}/manifests",
        [("manifest", "{}"), ("filter_results", "False"), ("upload_only", "False"), ("kernel_config", "CONFIG_A=y"),
         ("manifest_name", "img"), ("with_field", "published"), ("ecosystems", "Debian,Alpine"),
         ("subscribe", "weekly"), ("folder_token", FLD), ("group_token", GRP)], (GRP, FLD)),
    "upload_manifest_export": (
        lambda: manifests.upload_manifest("{}", upload_only=True, export_format="cyclonedx-vex",
                                          export_path="out/report.txt", cyclonedx_format="xml",
                                          cyclonedx_version="1.6"),
        "POST", f"{V}/manifests",
        [("manifest", "{}"), ("filter_results", "False"), ("upload_only", "True"), ("export_format", "cyclonedx-vex"),
         ("cyclonedx_format", "xml"), ("cyclonedx_version", "1.6")], None),
    "rescan_manifest": (lambda: manifests.rescan_manifest("M1", True, extra_fields=["impact"]), "POST",
                        f"{V}/manifests/M1/reports",
                        [("manifest", "M1"), ("rescan_only", "True"), ("filtered", "False"), ("with_field", "impact")],
                        None),
    "delete_manifest": (lambda: manifests.delete_manifest("M1"), "DELETE", f"{V}/manifests/M1",
                        [("confirmed", "False")], None),
    "get_report_tokens": (lambda: manifests.get_report_tokens("M1"), "GET", f"{V}/manifests/M1/reports", [], None),
    "get_latest_report": (lambda: manifests.get_latest_report("M1", True), "GET", f"{V}/manifests/M1/reports/latest",
                          [("filtered", "True")], None),
    "set_custom_score": (lambda: manifests.set_custom_score("M1", "zlib", "CVE-1", 5.5, ""), "POST",
                         f"{V}/manifests/M1/custom_scores",
                         [("package_name", "zlib"), ("cve_id", "CVE-1"), ("custom_score", "5.5"),
                          ("package_version", "")], None),
    "bulk_move": (lambda: manifests.bulk_move_manifests(["M2", "M1"], target_folder_token="F1"), "POST",
                  f"{V}/manifests/bulk-options/move",
                  [("sbom_tokens", "M2"), ("sbom_tokens", "M1"), ("copy", "False"), ("include_history", "False"),
                   ("target_folder_token", "F1")], None),
    "bulk_copy": (lambda: manifests.bulk_copy_manifests(["M1"], "G2", include_history=True), "POST",
                  f"{V}/manifests/bulk-options/move",
                  [("sbom_tokens", "M1"), ("copy", "True"), ("include_history", "True"),
                   ("target_group_token", "G2")], None),
    "bulk_move_needs_target": (lambda: manifests.bulk_move_manifests(["M1"]), None, "", [], None),
    "download_report_csv": (lambda: reports.download_report("R1", "csv"), "GET", f"{V}/reports/R1",
                            [("filtered", "False"), ("format", "csv")], None),
    "download_report_vex": (lambda: reports.download_report("R1", "cyclonedx-vex"), "GET", f"{V}/reports/R1",
                            [("filtered", "False"), ("format", "cyclonedx-vex"), ("sbom_format", "json"),
                             ("sbom_version", "1.7")], None),
    "download_report_bad_format": (lambda: reports.download_report("R1", "docx"), None, "", [], None),
    "compare_reports": (lambda: reports.compare_reports("R1", "R2", remove_not_affected=True), "GET",
                        f"{V}/reports/compare",
                        [("filtered", "False"), ("remove_not_affected", "True"), ("remove_whitelist", "False"),
                         ("token_one", "R1"), ("token_two", "R2")], None),
    "compare_needs_both": (lambda: reports.compare_reports("R1", ""), None, "", [], None),
    "get_products": (products.get_products, "GET", f"{V}/products", [], None),
    "create_product": (lambda: products.create_product("P", "d"), "POST", f"{V}/products",
                       [("name", "P"), ("desc", "d")], None),
    "get_product_info": (products.get_product_info, "GET", f"{V}/products/{GRP}", [], (GRP, None)),
}
PRODUCTS_RENAMED = {"get_folders_cfg_group", "create_folder", "get_manifests_group", "upload_manifest"}


def configure(flavour: str, dashboard: Optional[tuple[Optional[str], Optional[str]]], key_file: Any) -> LLAPI:
    if flavour == "products":
        path = key_file({"email": DEMO_EMAIL, "key": DEMO_KEY})
    else:
        path = key_file({"email": DEMO_EMAIL, "organization_key": DEMO_KEY, "server_url": "https://v.test/"})
    client = timesys.llapi
    client.configure(key_file_path=path, dry_run=True)
    if dashboard:
        client.group_token, client.folder_token = dashboard
    return client


@pytest.mark.parametrize("flavour", ["groups", "products"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_request(name: str, flavour: str, fresh_llapi: LLAPI, write_key_file: Any) -> None:
    call, method, resource, pairs, dashboard = CASES[name]
    client = configure(flavour, dashboard, write_key_file)
    if method is None:
        with pytest.raises(ParameterError):
            call()
        return
    if flavour == "products":
        resource = "/api/v1/heartbeat" if name == "heartbeat" else resource
        if name == "get_folders_cfg_folder":  # era P sent the configured product token, not the folder
            pairs = [("archived_only", "True"), ("product_token", GRP)]
        if name in PRODUCTS_RENAMED:
            pairs = [("product_token" if k == "group_token" else k, v) for k, v in pairs]
    description = call()
    assert description["method"] == method
    url = urlsplit(description["url"])
    assert f"{url.scheme}://{url.netloc}" == client.url
    assert url.path == resource
    if method == "POST":
        assert url.query == ""
        sent = [(k, str(x)) for k, v in description["data"].items() for x in (v if isinstance(v, list) else [v])]
        assert sent == pairs + [("email", DEMO_EMAIL)]
    else:
        assert parse_qsl(url.query, keep_blank_values=True) == sorted(
            pairs + [("email", DEMO_EMAIL)], key=lambda pair: pair[0])
    assert description["hmac_msg"].startswith(f"{method}{resource}".encode())


def test_seed_dry_run_example(fresh_llapi: LLAPI, write_key_file: Any) -> None:
    """The seed README's example, reproduced exactly from a plain LinuxLink key file (D1 rule 3)."""
    path = write_key_file({"email": "user@example.com", "key": DEMO_KEY})
    timesys.llapi.configure(key_file_path=path, dry_run=True)
    description = heartbeat()
    assert repr({**description, "headers": {"X-Auth-Signature": b"<token here>"}}) == (
        "{'headers': {'X-Auth-Signature': b'<token here>'}, 'method': 'POST', "
        "'url': 'https://linuxlink.timesys.com/api/v1/heartbeat', 'data': {'email': 'user@example.com'}, "
        "'hmac_msg': b'POST/api/v1/heartbeatemail=user@example.com'}")
    assert len(description["headers"]["X-Auth-Signature"]) == 44


def test_every_endpoint_has_a_case(fresh_llapi: LLAPI, write_key_file: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from timesys.core.endpoints import ENDPOINTS, Endpoint

    seen: set[str] = set()
    original = Endpoint.call

    def spy(self: Endpoint, client: Any = None, **args: Any) -> Any:
        seen.add(self.name)
        return original(self, client, **args)

    monkeypatch.setattr(Endpoint, "call", spy)
    configure("groups", (GRP, FLD), write_key_file)
    for call, *_ in CASES.values():
        try:
            call()
        except ParameterError:
            pass
    assert seen == set(ENDPOINTS)


def test_export_file_path() -> None:
    assert manifests.export_file_path("out/rep.txt", "pdfsummary") == "out/rep.pdf"
    assert manifests.export_file_path("out/a.b.c", "csv") == "out/a.b.csv"
    assert manifests.export_file_path("out/rep", "cyclonedx-vex", "xml") == "out/rep.xml"


def test_ecosystems_all_and_invalid(caplog: pytest.LogCaptureFixture) -> None:
    assert manifests.ecosystems_param("ALL").split(",") == manifests.ALL_ECOSYSTEMS
    assert len(manifests.ALL_ECOSYSTEMS) == 74
    with caplog.at_level("WARNING"):
        assert manifests.ecosystems_param("npm, Foo, PyPI,bar") == "npm,PyPI"
    assert "Foo" in caplog.text and "bar" in caplog.text
    assert manifests.ecosystems_param(["Rocky Linux", "GitHub Actions"]) == "Rocky Linux,GitHub Actions"


def test_upload_warnings(fresh_llapi: LLAPI, write_key_file: Any, caplog: pytest.LogCaptureFixture) -> None:
    configure("groups", None, write_key_file)
    with caplog.at_level("WARNING", logger="timesys.vigiles.manifests"):
        manifests.upload_manifest("{}", subfolder_name="x")
    assert "Private Workspace" in caplog.text and "ignored" in caplog.text


def test_extra_fields_must_be_list_of_strings(fresh_llapi: LLAPI, write_key_file: Any) -> None:
    configure("groups", None, write_key_file)
    with pytest.raises(ParameterError, match="extra_fields"):
        manifests.upload_manifest("{}", extra_fields="published")


def test_unsafe_path_segment_rejected(fresh_llapi: LLAPI, write_key_file: Any) -> None:
    configure("groups", None, write_key_file)
    with pytest.raises(ParameterError, match="must not contain"):
        manifests.get_manifest_info("../admin")


def test_not_configured(fresh_llapi: LLAPI) -> None:
    with pytest.raises(timesys.ConfigurationError, match="not been configured"):
        heartbeat()

"""Every reference command, run as a subprocess in human and --json mode: the exact request and the output."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Union

import pytest

from .cli_helpers import V, Service, service, wire  # noqa: F401 - fixture
from .support.scripted_server import Answer

Params = list[tuple[str, str]]
# name: (argv (paths may be callables of the tmp dir), method, path, params without email, answer body)
Argv = list[Union[str, Callable[[Path], str]]]
OK_MESSAGE = {"message": "done", "status_code": 200}
MANIFESTS = [{"manifest_name": "core-image-minimal", "manifest_token": "MNF1", "group_token": "GRP1",
              "folder_token": None, "upload_date": "2026-11-27T16:40:00Z"},
             {"manifest_name": "openwrt", "manifest_token": "MNF2", "group_token": "GRP1", "folder_token": "FLD1",
              "upload_date": "2026-11-28T10:00:00Z"}]
REPORT = {"manifest_token": "MNF1", "report_token": "RPT1", "counts": {"unfixed": 3, "fixed": 2,
          "kernel": {"unfixed": 1}}, "cves": {"openssl": [{"cve_id": "CVE-2024-9143", "cvss": 4.3,
                                                            "status": "Unfixed", "fixedby": []}]},
          "report_path": "/cves/reports/RPT1", "date": "2026-11-27T16:40:00Z"}


def sbom(tmp: Path) -> str:
    path = tmp / "core-image-minimal.json"
    path.write_text('{"manifest_version": "1.0", "packages": {}}')
    return str(path)


def kconfig(tmp: Path) -> str:
    path = tmp / "kernel.config"
    path.write_text("CONFIG_NET=y\n")
    return str(path)


CASES: dict[str, tuple[Argv, str, str, Params, Any]] = {
    "heartbeat": (["heartbeat"], "POST", f"{V}/heartbeat", [], {"ok": True}),
    "test": (["test"], "POST", f"{V}/heartbeat", [], {"ok": True}),
    "about": (["about"], "GET", f"{V}/about", [], {"app_version": "1.2.3", "database_version": "2026-11-01"}),
    "manifest list": (["manifest", "list"], "GET", f"{V}/manifests", [], MANIFESTS),
    "manifest info": (["manifest", "info", "MNF1", "-f", "spdx", "--file-format", "json", "-v", "2.3"], "GET",
                      f"{V}/manifests/MNF1", [("file_format", "json"), ("sbom_format", "spdx"),
                                              ("sbom_version", "2.3")],
                      {"manifest_token": "MNF1", "manifest_name": "core-image-minimal", "manifest_data": {"a": 1}}),
    "manifest upload": (["manifest", "upload", sbom, "-n", "img", "-e", "assigner, impact", "-E", "Debian, Alpine",
                         "-f", "-S", "weekly", "--kconfig", kconfig], "POST", f"{V}/manifests",
                        sorted([("manifest", '{"manifest_version": "1.0", "packages": {}}'),
                                ("filter_results", "True"), ("upload_only", "False"),
                                ("kernel_config", "CONFIG_NET=y\n"), ("manifest_name", "img"),
                                ("with_field", "assigner"), ("with_field", "impact"), ("ecosystems", "Debian,Alpine"),
                                ("subscribe", "weekly")]), REPORT),
    "manifest delete": (["manifest", "delete", "MNF1", "-c"], "DELETE", f"{V}/manifests/MNF1",
                        [("confirmed", "True")], {"success": True, "message": "deleted"}),
    "manifest rescan": (["manifest", "rescan", "MNF1", "-o", "-f"], "POST", f"{V}/manifests/MNF1/reports",
                        [("filtered", "True"), ("manifest", "MNF1"), ("rescan_only", "True")], REPORT),
    "manifest latest_report": (["manifest", "latest_report", "MNF1", "-e", "description"], "GET",
                               f"{V}/manifests/MNF1/reports/latest",
                               [("filtered", "False"), ("with_field", "description")], REPORT),
    "manifest move": (["manifest", "move", "M1", "M2", "-g", "G2", "-i"], "POST", f"{V}/manifests/bulk-options/move",
                      [("copy", "False"), ("include_history", "True"), ("sbom_tokens", "M1"), ("sbom_tokens", "M2"),
                       ("target_group_token", "G2")], {"success": True}),
    "manifest copy": (["manifest", "copy", "M1", "--folder-token", "F2"], "POST", f"{V}/manifests/bulk-options/move",
                      [("copy", "True"), ("include_history", "False"), ("sbom_tokens", "M1"),
                       ("target_folder_token", "F2")], {"success": True}),
    "custom-score set": (["manifest", "custom-score", "set", " MNF1 ", "-p", " zlib ", "--cve-id", "CVE-1", "-s",
                          "7.5", "--verison", "1.3"], "POST", f"{V}/manifests/MNF1/custom_scores",
                         [("custom_score", "7.5"), ("cve_id", "CVE-1"), ("package_name", "zlib"),
                          ("package_version", "1.3")], {"success": True, "message": "saved"}),
    "custom_score set --version": (["manifest", "custom_score", "set", "MNF1", "--product", "zlib", "--cve-id",
                                    "CVE-1", "--score", "2"], "POST", f"{V}/manifests/MNF1/custom_scores",
                                   [("custom_score", "2"), ("cve_id", "CVE-1"), ("package_name", "zlib"),
                                    ("package_version", "")], {"success": True, "message": "saved"}),
    "manifest reports": (["manifest", "reports", "MNF1"], "GET", f"{V}/manifests/MNF1/reports", [],
                         {"manifest_token": "MNF1", "reports": [{"report_token": "RPT1", "created_date": "x"}]}),
    "report compare": (["report", "compare", "R1", "R2", "-n", "--filter-results"], "GET", f"{V}/reports/compare",
                       [("filtered", "True"), ("remove_not_affected", "True"), ("remove_whitelist", "False"),
                        ("token_one", "R1"), ("token_two", "R2")], {"resolved": ["CVE-1"], "new": []}),
    "folder list": (["folder", "list", "--group_token", "G1", "--archived-only"], "GET", f"{V}/folders",
                    [("archived_only", "True"), ("group_token", "G1")],
                    [{"folder_token": "F1", "folder_name": "rel", "group_token": "G1"}]),
    "folder create": (["folder", "create", "rel", "-d", "first", "-f", "F1"], "POST", f"{V}/folders",
                      [("description", "first"), ("folder_name", "rel"), ("folder_token", "F1")],
                      {"folder_name": "rel", "folder_token": "F9"}),
    "folder archive": (["folder", "archive", "F1", "F2"], "PATCH", f"{V}/folders/archive",
                       [("tokens", "F1"), ("tokens", "F2")], {"success": True}),
    "folder unarchive": (["folder", "unarchive", "F1"], "PATCH", f"{V}/folders/unarchive", [("tokens", "F1")],
                         {"success": True}),
    "group list_active": (["group", "list-active", "-p"], "GET", f"{V}/groups",
                          [("include_private_workspaces", "True")],
                          [{"name": "Team", "token": "G1", "group_type": "Group"}]),
    "group list_archived": (["group", "list_archived"], "GET", f"{V}/groups/archived", [], []),
    "group create": (["group", "create", "team", "-d", "desc", "-g", "G0"], "POST", f"{V}/groups",
                     [("description", "desc"), ("group_name", "team"), ("group_token", "G0")],
                     {"name": "team", "token": "G5"}),
    "group delete": (["group", "delete", "G1"], "DELETE", f"{V}/groups/G1", [], OK_MESSAGE),
    "group info": (["group", "info", "-g", "G1", "-s"], "GET", f"{V}/groups/G1", [("subgroups", "True")],
                   {"name": "Team", "token": "G1", "subgroups": [{"name": "Sub", "token": "G2"}]}),
    "group archive": (["group", "archive", "G1"], "PATCH", f"{V}/groups/archive", [("tokens", "G1")], OK_MESSAGE),
    "group unarchive": (["group", "unarchive", "G1"], "PATCH", f"{V}/groups/unarchive", [("tokens", "G1")],
                        OK_MESSAGE),
    "group settings info": (["group", "settings", "info", "-g", "G1"], "GET", f"{V}/groups/G1/settings", [],
                            {"name": "Team", "vuln_identifiers": ["CPE"], "vuln_strict_match": "on"}),
    "group settings update": (["group", "settings", "update", "-g", "G1", "-i", "CPE", "CVE Product", "-s", "on"],
                              "PATCH", f"{V}/groups/G1/settings",
                              [("vuln_identifiers", "CPE"), ("vuln_identifiers", "CVE Product"),
                               ("vuln_strict_match", "on")], OK_MESSAGE),
    "group members list": (["group", "members", "list", "G1"], "GET", f"{V}/groups/G1/members", [],
                           {"group_name": "Team", "group_members": [{"email": "x@y.z", "role": "admin"}]}),
    "group members add": (["group", "members", "add", "G1", "-e", "x@y.z", "-r", "admin", "-a"], "POST",
                          f"{V}/groups/G1/members",
                          [("allow_access_to_subgroups", "True"), ("member_email", "x@y.z"), ("role", "admin")],
                          OK_MESSAGE),
    "group members update": (["group", "members", "update", "G1", "-e", "x@y.z", "-r", "editor"], "PUT",
                             f"{V}/groups/G1/members/x@y.z", [("new_role", "editor")], OK_MESSAGE),
    "group members remove": (["group", "members", "remove", "G1", "-e", "x@y.z"], "DELETE",
                             f"{V}/groups/G1/members/x@y.z", [], OK_MESSAGE),
    "group activity_log": (["group", "activity-log", "G1", "-t", "update_vuln_status", "-m", "api", "-i", "CVE-1"],
                           "GET", f"{V}/groups/G1/activity_log",
                           [("group_token", "G1"), ("log_method", "api"), ("log_type", "update_vuln_status"),
                            ("vuln_id", "CVE-1")], [{"date": "2026-11-27", "log_type": "update_vuln_status"}]),
    "cves search": (["cves", "search", "openssl", "-v", "3.0", "--ids-only"], "GET", f"{V}/cves",
                    [("ids_only", "True"), ("product", "openssl"), ("version", "3.0")], ["CVE-1", "CVE-2"]),
    "cves info": (["cves", "info", "CVE-1", "-f", "impact, cisa"], "GET", f"{V}/cves/CVE-1",
                  [("fields", "cisa"), ("fields", "impact")], {"identifier": "CVE-1", "impact": {"cvss": 9.8}}),
    "cves set_status": (["cves", "set-status", "manifest", "CVE-1", "zlib", "not_affected", "-j", "code_not_present",
                         "-m", "M1", "M2"], "POST", f"{V}/cves/CVE-1/vuln-status",
                        [("justification", "code_not_present"), ("manifest_tokens", "M1"), ("manifest_tokens", "M2"),
                         ("package", "zlib"), ("scope", "manifest"), ("status", "not_affected")], OK_MESSAGE),
    "cves status": (["cves", "status", "CVE-1", "zlib", "1.3", "MNF1"], "GET", f"{V}/cves/CVE-1/vuln-status",
                    [("manifest_token", "MNF1"), ("package_name", "zlib"), ("package_version", "1.3")],
                    {"status": "resolved"}),
    "product list": (["--api", "products", "product", "list"], "GET", f"{V}/products", [],
                     [{"name": "P", "token": "P1"}]),
    "product create": (["product", "create", "p1", "-d", "desc"], "POST", f"{V}/products",
                       [("desc", "desc"), ("name", "p1")], {"name": "p1", "token": "P2"}),
    "product info": (["product", "info", "-p", "P1"], "GET", f"{V}/products/P1", [], {"name": "P", "token": "P1"}),
}


def _argv(argv: Argv, tmp: Path) -> list[str]:
    return [item(tmp) if callable(item) else item for item in argv]


def _scalars(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _scalars(item)]
    if isinstance(value, list):
        return [text for item in value for text in _scalars(item)]
    return [str(value)] if isinstance(value, str) and value else []


@pytest.mark.parametrize("mode", ["human", "json"])
@pytest.mark.parametrize("name", list(CASES))
def test_command(service: Service, tmp_path: Path, name: str, mode: str) -> None:
    argv, method, path, params, body = CASES[name]
    service.answer(default=Answer(body=body))
    run = service.run(*(["--json"] if mode == "json" else []), *_argv(argv, tmp_path))
    assert run.returncode == 0, run.stderr
    assert [wire(request) for request in service.requests] == [(method, path, params)]
    if mode == "json":
        assert run.json() == body
    else:
        assert not run.stdout.lstrip().startswith(("{", "[")), "human output must not be JSON"
        assert "{'" not in run.stdout and "True" not in run.stdout and "None" not in run.stdout
        for text in _scalars(body):  # every value of the answer is shown
            assert text in run.stdout


def test_human_table_is_aligned(service: Service) -> None:
    service.answer(default=Answer(body=MANIFESTS))
    lines = service.run("manifest", "list").stdout.splitlines()
    assert lines[0].split() == ["MANIFEST_NAME", "MANIFEST_TOKEN", "GROUP_TOKEN", "FOLDER_TOKEN", "UPLOAD_DATE"]
    assert lines[1].index("MNF1") == lines[2].index("MNF2") == lines[0].index("MANIFEST_TOKEN")
    assert lines[1].split()[3] == "-"  # null


def test_no_format_prints_compact_json(service: Service) -> None:
    service.answer(default=Answer(body={"ok": True}))
    run = service.run("-f", "heartbeat")
    assert run.stdout == '{"ok":true}\n'


BINARY = b"%PDF-1.7\x00\xff\xfe binary\r\n\x01 no trailing newline"


@pytest.mark.parametrize("argv, path, params", [
    (["report", "download", "cyclonedx-vex", "R1"], f"{V}/reports/R1",
     [("filtered", "False"), ("format", "cyclonedx-vex"), ("sbom_format", "json"), ("sbom_version", "1.7")]),
    (["report", "download", "pdf", "R1", "-f"], f"{V}/reports/R1", [("filtered", "True"), ("format", "pdf")]),
    (["manifest", "download", "MNF1", "-f", "cyclonedx"], f"{V}/manifests/MNF1",
     [("sbom_format", "cyclonedx"), ("send_file", "True")]),
])
@pytest.mark.parametrize("target", ["outfile", "output", "stdout", "json"])
def test_download(service: Service, tmp_path: Path, argv: list[str], path: str, params: Any, target: str) -> None:
    service.answer(default=Answer(body=BINARY))
    out = tmp_path / "sub" / "report.bin"
    extra = {"outfile": ["-o", str(out)], "output": ["--output", str(out)], "stdout": ["--stdout"],
             "json": ["--outfile", str(out), "--json"]}[target]
    run = service.run(*argv, *extra)
    assert run.returncode == 0, run.stderr
    assert [wire(request) for request in service.requests] == [("GET", path, params)]
    if target == "stdout":
        assert run.stdout_bytes == BINARY  # raw, nothing appended
        return
    assert out.read_bytes() == BINARY
    assert not list(out.parent.glob(".*.tmp"))
    if target == "json":
        assert run.json() == {"path": str(out), "bytes": len(BINARY), "sha256": hashlib.sha256(BINARY).hexdigest()}
    else:
        assert str(out) in run.stdout


def test_download_needs_exactly_one_target(service: Service, tmp_path: Path) -> None:
    run = service.run("report", "download", "csv", "R1")
    assert run.returncode == 2 and "one of the arguments -o/--outfile" in run.error_line
    run = service.run("--json", "report", "download", "csv", "R1", "--stdout")
    assert run.returncode == 2 and "--json cannot be combined with --stdout" in run.error_line
    assert service.requests == []


def test_dry_run_download_prints_description(service: Service, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    run = service.run("--dry-run", "report", "download", "csv", "R1", "-o", str(out))
    assert run.returncode == 0, run.stderr
    description = run.json()
    assert description["method"] == "GET" and description["url"].startswith(f"{service.url}{V}/reports/R1?")
    assert isinstance(description["headers"]["X-Auth-Signature"], str)
    assert description["hmac_msg"].startswith(f"GET{V}/reports/R1")
    assert not out.exists() and service.requests == []


def test_dry_run_post_shows_body(service: Service) -> None:
    run = service.run("--dry-run", "group", "create", "team")
    assert run.json()["data"] == {"group_name": "team", "email": "jane.doe@example.com"}
    assert "Dry Run mode is enabled" in run.stderr and service.requests == []


def test_upload_export_options(service: Service, tmp_path: Path) -> None:
    service.answer(default=Answer(body=REPORT))
    manifest = sbom(tmp_path)
    run = service.run("manifest", "upload", manifest, "--export-format", "pdf")
    assert run.returncode == 2 and "--export-format and --export-path must be given together" in run.error_line
    run = service.run("manifest", "upload", manifest, "--export-format", "csv", "--export-path", str(tmp_path))
    assert run.returncode == 2 and "is a directory" in run.error_line
    assert service.requests == []
    run = service.run("manifest", "upload", manifest, "--export-format", "csv", "--export-path",
                      str(tmp_path / "rep.txt"))
    assert run.returncode == 0, run.stderr
    params = dict(wire(service.requests[0])[2])
    assert params["export_format"] == "csv" and "cyclonedx_format" not in params
    run = service.run("manifest", "upload", manifest, "--export-format", "cyclonedx-vex", "--export-path",
                      str(tmp_path / "rep"), "--cyclonedx-format", "xml")
    params = dict(wire(service.requests[1])[2])
    assert (params["cyclonedx_format"], params["cyclonedx_version"]) == ("xml", "1.7")


def test_global_options_before_and_after_the_command(service: Service, tmp_path: Path) -> None:
    other = tmp_path / "dash.json"
    other.write_text(json.dumps({"group": "GDASH", "folder": "FDASH"}))
    service.answer(default=Answer(body=[]))
    assert service.run("--json", "-d", str(other), "manifest", "list").returncode == 0
    assert service.run("manifest", "list", "--json", "--dash-config", str(other)).returncode == 0
    assert service.run("manifest", "list", "--group-token", "GFLAG").returncode == 0
    # a command's own option wins over the global one of the same spelling
    assert service.run("--group-token", "GFLAG", "folder", "list", "--group-token", "GCMD").returncode == 0
    assert [wire(r)[2] for r in service.requests] == [
        [("folder_token", "FDASH")], [("folder_token", "FDASH")], [("group_token", "GFLAG")],
        [("group_token", "GCMD")]]

"""Issue 12 items 1-4: nothing that cannot be scanned, nothing mistyped and no key file is ever sent.

Each case runs the CLI as a subprocess and checks the exact exit status and message, and (against
the scripted peer) that no request was sent; the SBOM-coverage and baseline cases run against the
local service.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .cli_helpers import REPO_ROOT, Service, run_cli, service  # noqa: F401 - fixture
from .conftest import DEMO_KEY, LocalVigiles
from .support.scripted_server import Answer

PKG_STATS = REPO_ROOT / "tests" / "fixtures" / "sbom-formats" / "buildroot-pkg-stats-excerpt.json"
BUSYBOX_CPE = "cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*"
E = "timesys-ci: error: "


def _write(path: Path, document: Any) -> str:
    path.write_text(json.dumps(document))
    return str(path)


def cyclonedx(*components: dict[str, str]) -> dict[str, Any]:
    """A CycloneDX 1.5 BOM without metadata (so without a name of its own)."""
    return {"bomFormat": "CycloneDX", "specVersion": "1.5", "components": list(components)}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    key = tmp_path / "other.key"
    key.write_text(json.dumps({"email": "x@example.com", "organization_key": DEMO_KEY}))
    return {
        "sbom": _write(tmp_path / "m.json", {"packages": {"zlib": {"version": "1.2.13"}}}),
        "key": str(key),
        "no_version": _write(tmp_path / "nover.json", {"packages": {"busybox": {}}}),
        "no_components": _write(tmp_path / "c.cdx.json", {"bomFormat": "CycloneDX", "specVersion": "1.5"}),
        "no_packages": _write(tmp_path / "s.spdx.json", {"spdxVersion": "SPDX-2.3", "name": "img"}),
    }


def test_unscannable_documents_are_refused_before_sending(service: Service, files: dict[str, str]) -> None:
    cases = [
        (str(PKG_STATS), f"{PKG_STATS}: this is Buildroot's pkg-stats output, not a Vigiles manifest (its packages "
                         "have 'current_version', not 'version'); make a manifest with vigiles-buildroot or "
                         "'timesys-ci buildroot'"),
        (files["no_version"], f"{files['no_version']}: no package has a version (busybox): none can be matched "
                              "against CVE version ranges"),
        (files["no_components"], f"{files['no_components']}: the SBOM lists no packages (it has no 'components'): "
                                 "there is nothing to scan"),
        (files["no_packages"], f"{files['no_packages']}: the SBOM lists no packages (it has no 'packages' with a "
                               "name and a version, CPE or purl): there is nothing to scan"),
    ]
    for path, message in cases:
        run = service.run("upload", path)
        assert (run.returncode, run.error_line) == (2, E + message), run.stderr
    run = service.run("manifest", "upload", str(PKG_STATS))  # the reference command checks nothing itself ...
    assert run.returncode == 0  # ... but the service does (test_local_service_refuses_pkg_stats)
    assert len(service.requests) == 1


def test_local_service_refuses_pkg_stats(local_vigiles: LocalVigiles, tmp_path: Path) -> None:
    key_file = local_vigiles.add_user()
    run = run_cli("-k", str(key_file), "manifest", "upload", str(PKG_STATS), home=tmp_path,
                  secret=json.loads(key_file.read_text())["organization_key"])
    assert run.returncode == 2 and "this is Buildroot's pkg-stats output, not a Vigiles manifest" in run.error_line


@pytest.mark.parametrize("argv, message", [
    (["manifest", "upload", "-S", "hourly", "{sbom}"],
     "manifest upload: argument -S/--subscribe: invalid choice: 'hourly' (choose from 'none', 'daily', 'weekly', "
     "'monthly')"),
    (["manifest", "delete", "M1"],
     "manifest delete: deleting SBOM M1 cannot be undone; add -c/--confirm to delete it (nothing was sent)"),
    (["group", "members", "add", "G1", "-e", "a@example.com", "-r", "boss"],
     "group members add: argument -r/--role: invalid choice: 'boss' (choose from 'admin', 'editor', 'viewer')"),
    (["manifest", "custom-score", "set", "M1", "-p", "zlib", "--cve-id", "CVE-2023-1", "-s", "11"],
     "argument -s/--score: '11' is not a score from 0 to 10"),
    (["report", "download", "csv", "R1", "--stdout", "--cyclonedx-version", "1.5"],
     "--cyclonedx-version applies only with a CycloneDX file-type (cyclonedx-vex or cyclonedx-sbom-vex)"),
    (["manifest", "info", "M1", "-i", "xml"], "-i/--file-format needs -f/--sbom-format (the format to convert to)"),
    (["manifest", "upload", "{sbom}", "-E", "Debian,Debain"],
     "argument -E/--ecosystems: 'Debain' is not a known ecosystem (choose from Android, Bitnami, CRAN, GIT, GSD, "
     "GitHub Actions, Go, Hackage, Hex, Linux, Maven, NuGet, ... (74 in all))"),
    (["cves", "info", "CVE-2023-1", "-f", "epss,kev"],
     "argument -f/--fields: 'kev' is not a CVE field (choose from affected_configurations, assigner, description, "
     "identifier, impact, modified, problem_types, published, references, nvd_status, cisa, epss)"),
    (["upload", "{sbom}", "--new-only", "--baseline", "missing.json"], "missing.json: baseline report file not found"),
    (["upload", "{sbom}", "--baseline", "R1"],
     "baseline 'R1' is set but new-only is not: add --new-only, or drop the baseline"),
    (["upload", "{sbom}", "--upload-only", "--sarif", "v.sarif"],
     "--sarif does nothing with --upload-only (no report is gated); add --wait-timeout SECONDS to wait for the "
     "report and gate it"),
    (["upload", "{sbom}", "--local-data", "d"], "--local-data applies only with --local"),
    (["upload", "{sbom}", "--kev-catalog", "kev.json"],
     "--kev-catalog is used only by fail-on-kev: add --fail-on-kev, or drop it"),
])
def test_user_mistakes_exit_2_before_anything_is_sent(service: Service, files: dict[str, str], argv: list[str],
                                                      message: str) -> None:
    run = service.run(*[arg.format(**files) for arg in argv])
    assert (run.returncode, run.error_line) == (2, E + message), run.stderr
    assert service.requests == []


def test_missing_baseline_report_is_checked_before_uploading(service: Service, files: dict[str, str]) -> None:
    service.answer(Answer(status=404, body={"message": "Report not found"}))
    run = service.run("upload", files["sbom"], "--new-only", "--baseline", "RNOPE")
    assert (run.returncode, run.error_line) == (2, E + "baseline 'RNOPE': no such report (nothing was uploaded)")
    assert [request.path.split("?")[0] for request in service.requests] == ["/api/v1/vigiles/reports/compare"]


def test_key_file_given_as_kernel_config_is_never_sent(service: Service, files: dict[str, str]) -> None:
    """`-k` after the command is --kernel-config: a key file there is refused, also in a dry run."""
    expected = (E + f"{files['key']}: this is a key file, not a kernel or U-Boot config; it was not sent. After the "
                f"command, -k and -u mean --kernel-config and --uboot-config: give the key file before the command "
                f"(timesys-ci -k {files['key']} ...) or as --key-file")
    for argv in (["--dry-run", "manifest", "upload", "-k", files["key"], files["sbom"]],
                 ["upload", files["sbom"], "-u", files["key"]]):
        run = service.run(*argv)
        assert (run.returncode, run.stdout) == (2, ""), run.stderr
        assert run.error_line == expected
    run = service.run("manifest", "upload", files["sbom"], "--kernel-config", files["sbom"])
    assert (run.returncode, run.error_line) == (2, E + f"{files['sbom']}: a JSON document, not a kernel or U-Boot "
                                                       ".config (CONFIG_...=y lines)")
    assert service.requests == []


def _local(tmp_path: Path, *argv: str) -> Any:
    env = {"TIMESYS_CI_CACHE": str(tmp_path / "cache")}
    return run_cli("upload", "--local", *argv, home=tmp_path, env=env, secret="never-printed-key-placeholder")


def test_packages_scanned_and_versionless_packages_are_counted(tmp_path: Path) -> None:
    sbom = _write(tmp_path / "gateway.cdx.json", cyclonedx(
        {"type": "application", "name": "busybox", "version": "1.36.1", "cpe": BUSYBOX_CPE},
        {"type": "application", "name": "zlib", "version": "1.3.1"},
        {"type": "application", "name": "base-files"}))
    run = _local(tmp_path, sbom, "--json", str(tmp_path / "r.json"))
    assert run.returncode == 1, run.stderr  # busybox's critical CVE
    assert ("  packages scanned: 2 of 3 (1 without a version, not checked against CVE version ranges: base-files)"
            in run.stdout.splitlines())
    document = json.loads((tmp_path / "r.json").read_text())
    assert document["sbom"] == {"path": sbom, "format": "cyclonedx-json", "packages": 3, "scanned": 2,
                                "without_version": ["base-files"]}
    assert document["report"]["manifest_name"] == "gateway"  # named from the file: never "manifest"


def test_new_only_compares_the_same_product_and_says_so(tmp_path: Path) -> None:
    """Two unnamed SBOMs in one group: neither is the other's baseline (the critical CVE is not set aside)."""
    busybox = {"type": "application", "name": "busybox", "version": "1.36.1", "cpe": BUSYBOX_CPE}
    yocto = _write(tmp_path / "yocto-image.cdx.json", cyclonedx(busybox))
    openwrt = _write(tmp_path / "openwrt-image.cdx.json", cyclonedx(busybox))
    first = _local(tmp_path, openwrt, "--json", str(tmp_path / "openwrt.json"))
    assert first.returncode == 1
    run = _local(tmp_path, yocto, "--new-only", "--json", str(tmp_path / "yocto.json"))
    assert run.returncode == 1, run.stdout  # not compared with the OpenWrt report: the CVE is new here
    lines = run.stdout.splitlines()
    assert ("  baseline: none: no earlier report of 'yocto-image' in this group/folder, so every finding counts as "
            "new; 0 finding(s) set aside as not new") in lines
    assert ("warning: new-only found no baseline: no earlier report of 'yocto-image' in this group/folder, so every "
            "finding counts as new") in lines
    assert json.loads((tmp_path / "yocto.json").read_text())["baseline"]["kind"] == "none"
    again = _local(tmp_path, yocto, "--new-only", "--json", str(tmp_path / "again.json"))
    assert again.returncode == 0, again.stdout
    document = json.loads((tmp_path / "again.json").read_text())
    assert document["baseline"]["kind"] == "previous upload" and document["baseline"]["set_aside"] == 1
    assert document["baseline"]["manifest_name"] == "yocto-image"
    assert any(line.startswith(f"  baseline: report {document['baseline']['report_token']} of the previous upload "
                               f"of 'yocto-image' (") and line.endswith("; 1 finding(s) set aside as not new")
               for line in again.stdout.splitlines())
    other = json.loads((tmp_path / "openwrt.json").read_text())["report"]["report_token"]
    refused = _local(tmp_path, yocto, "--new-only", "--baseline", other)
    assert (refused.returncode, refused.error_line) == (2, E + f"baseline {other!r} is not a report of 'yocto-image' "
                                                        "in this group/folder: new-only only compares reports of "
                                                        "the same SBOM name")

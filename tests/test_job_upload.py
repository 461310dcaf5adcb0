"""`timesys-ci upload` and `timesys-ci gate` end to end, through `main(argv)`, against the local service."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import timesys
from timesys.core import endpoints
from timesys_ci.job.upload import POLL_INTERVAL

from .cli_helpers import REPO_ROOT, run_cli
from .conftest import LocalVigiles
from .support.clock import FakeClock
from .support.github_files import parse_github_output
from .support.scripted_server import ScriptedServer

EXAMPLE = REPO_ROOT / "examples" / "core-image-minimal.vigiles.json"
SARIF_SCHEMA = REPO_ROOT / "tests" / "fixtures" / "gate" / "sarif-schema-2.1.0.json"


@pytest.fixture
def user(local_vigiles: LocalVigiles, tmp_path: Path) -> dict[str, Any]:
    key_file = local_vigiles.add_user("ci@example.com")
    return {"home": tmp_path, "env": {"VIGILES_KEY_FILE": str(key_file)},
            "secret": json.loads(key_file.read_text())["organization_key"], "key_file": key_file}


def upload(user: dict[str, Any], *args: str, env: dict[str, str] | None = None,
           clock: FakeClock | None = None) -> Any:
    return run_cli("upload", str(EXAMPLE), *args, home=user["home"], env={**user["env"], **(env or {})},
                   secret=user["secret"], clock=clock)


def test_gate_fails_on_high_by_default(user: dict[str, Any]) -> None:
    run = upload(user)
    assert run.returncode == 1, run.stderr
    assert "CVE-2022-48174  busybox 1.36.1  critical 9.8" in run.stdout
    # upgradable findings fail too: the kernel's (NVD: fixed in 6.6.34) and OpenSSL's (its CNA rates it High)
    assert "CVE-2024-36971  linux-yocto 6.6.21+git  high 7.8  [upgradable, kernel]  fixed in 6.6.34" in run.stdout
    assert "CVE-2024-12797  openssl 3.2.3  high -  [upgradable, userspace]  fixed in 3.2.4" in run.stdout
    assert "Gate: FAIL, 3 finding(s) (fail-on high)" in run.stdout
    assert "/cves/reports/R" in run.stdout


def test_gate_passes_with_waivers_and_outputs(user: dict[str, Any], tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('fail-on = "high"\n\n[[waivers]]\nid = "CVE-2022-48174"\nreason = "applet disabled"\n'
                      'expires = 2099-01-01\n\n[[waivers]]\nid = "CVE-2024-36971"\npackage = "linux-yocto"\n'
                      'reason = "backport queued"\nexpires = 2099-01-01\n\n[[waivers]]\nid = "CVE-2024-12797"\n'
                      'reason = "no raw public keys"\nexpires = 2099-01-01\n')
    out = tmp_path / "out"
    run = upload(user, "--policy", str(policy), "--sarif", str(out / "v.sarif"), "--junit", str(out / "v.xml"),
                 "--json", str(out / "v.json"), "--markdown", str(out / "v.md"), "--save-report", str(out / "r.json"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Waived (3)" in run.stdout and "Gate: PASS" in run.stdout
    sarif = json.loads((out / "v.sarif").read_text())
    jsonschema.Draft202012Validator(json.loads(SARIF_SCHEMA.read_text())).validate(sarif)
    assert sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    document = json.loads((out / "v.json").read_text())
    from timesys_ci.outputs.json_report import load_schema

    jsonschema.validate(document, load_schema())
    assert document["gate"]["result"] == "pass" and document["gate"]["passed"] is True
    suite = ET.parse(out / "v.xml").getroot()
    assert len(list(suite.iter("testcase"))) >= 2 and len(list(suite.iter("skipped"))) >= 2
    assert "CVE-2022-48174" in (out / "v.md").read_text()
    assert json.loads((out / "r.json").read_text())["manifest_name"] == "core-image-minimal"


def test_policy_from_pyproject_and_flags(user: dict[str, Any]) -> None:
    (user["home"] / "pyproject.toml").write_text('[tool.timesys-ci]\nfail-on = "critical"\nscope = ["kernel"]\n')
    assert upload(user).returncode == 0  # the only kernel finding is high
    assert upload(user, "--scope", "userspace").returncode == 1  # the flag wins: busybox is critical


def test_bad_policy_is_a_usage_error_before_upload(user: dict[str, Any], local_vigiles: LocalVigiles) -> None:
    (user["home"] / "pyproject.toml").write_text('[tool.timesys-ci]\nfail-on = "severe"\n')
    run = upload(user)
    assert run.returncode == 2 and "fail-on" in run.error_line
    assert endpoints.MANIFESTS_LIST.call(timesys.LLAPI(key_file_path=user["key_file"])) == []


@pytest.mark.parametrize("content, message", [
    ("", "manifest file is empty"),
    ('{"packages": {"busybox": {"version": "1.36', "invalid JSON"),
    ("<html></html>", "unrecognised"),
    ('{"manifest_name": "x", "packages": {}}', "lists no packages"),
])
def test_manifest_checked_locally_first(tmp_path: Path, content: str, message: str) -> None:
    manifest = tmp_path / "bad.json"
    manifest.write_text(content)
    with ScriptedServer() as server:
        key = tmp_path / "key"
        key.write_text(json.dumps({"email": "a@example.com", "organization_key": "k" * 20, "server_url": server.url}))
        run = run_cli("upload", str(manifest), home=tmp_path, env={"VIGILES_KEY_FILE": str(key)})
    assert run.returncode == 2 and message in run.error_line and str(manifest) in run.error_line
    assert server.requests == []


def test_service_down_fails_or_warns(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text(json.dumps({"email": "a@example.com", "organization_key": "k" * 20,
                               "server_url": "http://127.0.0.1:9"}))
    env = {"VIGILES_KEY_FILE": str(key), "VIGILES_TIMEOUT": "2"}
    failed = run_cli("upload", str(EXAMPLE), home=tmp_path, env=env)
    assert failed.returncode == 3 and "connection to 127.0.0.1:9 failed" in failed.error_line
    warned = run_cli("upload", str(EXAMPLE), "--on-service-error", "warn", home=tmp_path,
                     env={**env, "GITHUB_ACTIONS": "true"})
    assert warned.returncode == 0 and "warning: service error, gate not evaluated" in warned.stderr
    assert "::warning title=Vigiles::" in warned.stdout


def test_upload_only_then_wait_for_the_report(user: dict[str, Any], local_vigiles: LocalVigiles) -> None:
    """The report appears later (here: someone rescans while the CLI waits); --wait-timeout waits, then gates."""
    client = timesys.LLAPI(key_file_path=user["key_file"])

    class RescannedWhileWaiting(FakeClock):
        def sleep(self, seconds: float) -> None:
            super().sleep(seconds)
            if len(self.sleeps) == 2:  # two polls found no report yet
                [stored] = endpoints.MANIFESTS_LIST.call(client)
                endpoints.MANIFEST_RESCAN.call(client, manifest_token=stored["manifest_token"], rescan_only=True,
                                               filter_results=False)

    clock = RescannedWhileWaiting()
    run = upload(user, "--upload-only", "--wait-timeout", "60", "--fail-on", "critical", clock=clock)
    assert run.returncode == 1 and "Gate: FAIL, 1 finding(s) (fail-on critical)" in run.stdout
    assert clock.sleeps == [POLL_INTERVAL, POLL_INTERVAL]  # it polled until the report was there
    only = upload(user, "--upload-only", "--json")
    assert only.returncode == 0 and only.json()["manifest_token"].startswith("M")
    waited = FakeClock()
    timeout = upload(user, "--upload-only", "--wait-timeout", "12", clock=waited)
    assert timeout.returncode == 3 and "no report for SBOM" in timeout.error_line
    assert sum(waited.sleeps) == 12 and len(waited.sleeps) == -(-12 // POLL_INTERVAL)  # waited out the timeout


def test_new_only_against_the_previous_upload(user: dict[str, Any], local_vigiles: LocalVigiles) -> None:
    client = timesys.LLAPI(key_file_path=user["key_file"])
    group = endpoints.GROUP_CREATE.call(client, group_name="ci")["token"]
    env = {"VIGILES_GROUP_TOKEN": group}
    first = upload(user, "--new-only", env=env)
    assert first.returncode == 1  # nothing to compare with: everything is new
    second = upload(user, "--new-only", env=env)
    assert second.returncode == 0, second.stdout
    saved = user["home"] / "first.json"
    upload(user, "--save-report", str(saved), env=env)
    assert upload(user, "--new-only", "--baseline", str(saved), env=env).returncode == 0


def test_github_outputs_and_summary(user: dict[str, Any], tmp_path: Path) -> None:
    output, summary = tmp_path / "gh_output", tmp_path / "gh_summary"
    run = upload(user, "--sarif", "v.sarif", env={"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output),
                                                  "GITHUB_STEP_SUMMARY": str(summary)})
    assert run.returncode == 1
    values = parse_github_output(output.read_text())
    assert values["gate"] == "fail" and values["critical"] == "1" and values["unfixed"] == "1"
    assert values["upgradable"] == "7"
    assert values["report-url"].startswith("http://127.0.0.1:") and values["manifest-token"].startswith("M")
    assert values["sarif-file"] == str((user["home"] / "v.sarif").resolve())
    assert "CVE-2022-48174" in summary.read_text()
    assert sum(line.startswith("::error ") for line in run.stdout.splitlines()) == 3
    quiet = upload(user, "--no-annotations", "--no-summary", env={"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output),
                                                                  "GITHUB_STEP_SUMMARY": str(tmp_path / "s2")})
    assert "::error" not in quiet.stdout and not (tmp_path / "s2").exists()


def test_gate_command_offline(user: dict[str, Any], tmp_path: Path) -> None:
    saved = tmp_path / "report.json"
    upload(user, "--save-report", str(saved))
    expired = tmp_path / "expired.toml"
    expired.write_text('[[waivers]]\nid = "CVE-2022-48174"\nreason = "old"\nexpires = 2020-01-01\n')
    run = run_cli("gate", str(saved), "--policy", str(expired), "--fail-on", "critical", home=tmp_path)
    assert run.returncode == 1 and "Expired waivers (1)" in run.stdout
    assert run_cli("gate", str(saved), "--fail-on", "critical", "--categories", "upgradable",
                   home=tmp_path).returncode == 0
    document = run_cli("gate", str(saved), "--json", home=tmp_path).json()
    assert document["schema"] == "timesys-ci/gate-result"
    missing = run_cli("gate", str(tmp_path / "nope.json"), home=tmp_path)
    assert missing.returncode == 2 and "nope.json" in missing.error_line
    token = run_cli("gate", str(saved), "--new-only", "--baseline", "RSOMETOKEN", home=tmp_path)
    assert token.returncode == 2 and "baseline must be a saved report file" in token.error_line


def test_statuses_never_fail_the_gate(user: dict[str, Any]) -> None:
    client = timesys.LLAPI(key_file_path=user["key_file"])
    token = endpoints.MANIFEST_UPLOAD.call(client, manifest=EXAMPLE.read_text(), filter_results=False,
                                           upload_only=True)["manifest_token"]
    for cve, package in (("CVE-2022-48174", "busybox"), ("CVE-2024-36971", "linux-yocto"), ("CVE-2024-12797", "openssl")):
        endpoints.CVE_SET_STATUS.call(client, scope="all", cve_id=cve, package_name=package, status="false_positive")
    endpoints.MANIFEST_RESCAN.call(client, manifest_token=token, rescan_only=True, filter_results=False)
    run = upload(user)
    assert run.returncode == 0, run.stdout


def test_local_main_job(tmp_path: Path) -> None:
    """The README's first command: the embedded service, offline, in one command."""
    env = {"TIMESYS_CI_CACHE": str(tmp_path / "cache")}
    run = run_cli("upload", "--local", str(EXAMPLE), home=tmp_path, env=env)
    assert run.returncode == 1 and "Gate: FAIL, 3 finding(s)" in run.stdout
    assert (tmp_path / "cache" / "local-service" / "vigiles.sqlite3").exists()
    assert (tmp_path / "cache" / "local-service" / "vulndb.sqlite3").exists()
    again = run_cli("upload", "--local", str(EXAMPLE), "--fail-on", "none", home=tmp_path, env=env)
    assert again.returncode == 0 and "Gate: PASS" in again.stdout


def test_broken_cyclonedx_is_refused_locally(tmp_path: Path) -> None:
    manifest = tmp_path / "bom.json"
    manifest.write_text('{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": {"name": "zlib"}}')
    with ScriptedServer() as server:
        key = tmp_path / "key"
        key.write_text(json.dumps({"email": "a@example.com", "organization_key": "k" * 20, "server_url": server.url}))
        run = run_cli("upload", str(manifest), home=tmp_path, env={"VIGILES_KEY_FILE": str(key)})
    assert run.returncode == 2 and "components must be a list" in run.error_line
    assert server.requests == []


def test_reference_upload_options_reach_the_service(user: dict[str, Any], local_vigiles: LocalVigiles,
                                                    tmp_path: Path) -> None:
    """Kernel/U-Boot configs, name, subfolder and the exported report, through `upload` to the local service."""
    kernel, uboot = tmp_path / "linux.config", tmp_path / "uboot.config"
    kernel.write_text("CONFIG_BPF=y\n")
    uboot.write_text("CONFIG_CMD_NET=y\n")
    client = timesys.LLAPI(key_file_path=user["key_file"])
    group = endpoints.GROUP_CREATE.call(client, group_name="ci")["token"]
    run = upload(user, "--kernel-config", str(kernel), "--uboot-config", str(uboot), "--manifest-name", "nightly",
                 "--subfolder-name", "2026-11", "--export-format", "csv", "--export-path", str(tmp_path / "r.txt"),
                 "--save-report", str(tmp_path / "report.json"), "--fail-on", "none",
                 env={"VIGILES_GROUP_TOKEN": group})
    assert run.returncode == 0, run.stderr
    token = json.loads((tmp_path / "report.json").read_text())["manifest_token"]
    stored = local_vigiles.storage.manifest(token)
    assert (stored["name"], stored["kernel_config"], stored["uboot_config"]) == ("nightly", "CONFIG_BPF=y\n",
                                                                                 "CONFIG_CMD_NET=y\n")
    assert local_vigiles.storage.folder(stored["folder_token"])["name"] == "2026-11"
    assert (tmp_path / "r.csv").read_text().startswith("package,")
    missing = upload(user, "--export-format", "csv")
    assert missing.returncode == 2 and "--export-path must be given together" in missing.error_line


def test_kev_epss_and_cvss_rules_on_a_local_report(user: dict[str, Any], tmp_path: Path) -> None:
    """The local report flags CVE-2024-36971 as KEV (7.8) and CVE-2022-48174 has CVSS 9.8."""
    kev = upload(user, "--fail-on", "none", "--fail-on-kev", "--json")
    assert kev.returncode == 1
    assert [f["cve_id"] for f in kev.json()["findings"] if f["outcome"] == "fail"] == ["CVE-2024-36971"]
    assert upload(user, "--fail-on", "none", "--fail-on-cvss", "9.5").returncode == 1
    assert upload(user, "--fail-on", "none", "--fail-on-cvss", "9.9").returncode == 0
    scores = tmp_path / "epss.csv"
    scores.write_text("cve,epss,percentile\nCVE-2022-48174,0.61,0.97\nCVE-2024-36971,0.02,0.5\n")
    epss = upload(user, "--fail-on", "none", "--fail-on-epss", "0.5", "--epss-scores", str(scores), "--json")
    assert epss.returncode == 1
    assert [f["cve_id"] for f in epss.json()["findings"] if f["outcome"] == "fail"] == ["CVE-2022-48174"]


def test_timeout_sets_the_network_timeout(tmp_path: Path) -> None:
    from .support.scripted_server import Answer

    with ScriptedServer(default=Answer(action="hang")) as server:
        key = tmp_path / "key"
        key.write_text(json.dumps({"email": "a@example.com", "organization_key": "k" * 20, "server_url": server.url}))
        # With the default 300 s read timeout, run_cli's own 120 s limit would end this run instead.
        run = run_cli("upload", str(EXAMPLE), "--timeout", "1", home=tmp_path, env={"VIGILES_KEY_FILE": str(key)})
    assert run.returncode == 3 and "within the timeout" in run.error_line


def test_previous_upload_baseline_comes_from_the_report_list(fresh_llapi: "timesys.LLAPI", tmp_path: Path) -> None:
    """The default baseline is read from `get_report_tokens` of the earlier upload: its old report is never
    downloaded, so one that no longer parses (here: every other answer) cannot fail today's run."""
    from timesys_ci.job.upload import _previous_upload
    from timesys_ci.report import parse_report

    from .support.scripted_server import Answer

    key = tmp_path / "key"
    key.write_text(json.dumps({"email": "a@example.com", "organization_key": "k" * 20}))
    today = parse_report({"manifest_token": "M2", "manifest_name": "img", "report_token": "R9", "cves": {}})
    listed = [{"manifest_token": "M1", "manifest_name": "img", "upload_date": "2026-01-01", "folder_token": None},
              {"manifest_token": "M2", "manifest_name": "img", "upload_date": "2026-01-02", "folder_token": None}]
    reports = {"manifest_token": "M1", "reports": [
        {"created_date": "2026-01-01T10:00:00", "report_token": "R2", "manifest_token": "M1", "manifest_version": 2},
        {"created_date": "2026-01-01T09:00:00", "report_token": "R1", "manifest_token": "M1", "manifest_version": 1}]}
    malformed = Answer(body={"cves": "not a list", "counts": 7})
    with ScriptedServer(Answer(body=listed), Answer(body=reports), default=malformed) as server:
        fresh_llapi.configure(key_file_path=key, url=server.url)
        baseline = _previous_upload(today)
    assert (baseline.kind, baseline.report_token, baseline.manifest_token) == ("previous upload", "R2", "M1")
    assert baseline.date == "2026-01-01T10:00:00"
    paths = [request.path.split("?")[0] for request in server.requests]
    assert paths[1].endswith("/manifests/M1/reports") and len(paths) == 2  # no /reports/latest, no download

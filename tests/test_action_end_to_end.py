"""The composite action run step by step (tests/action_harness.py) with the REAL `timesys_ci upload`.

Two services: the embedded one (`local: true`, data in a tmp `TIMESYS_CI_CACHE`) and the
`local_vigiles` fixture reached with real key content and `server-url`. The install step
is skipped with `TIMESYS_CI_SKIP_INSTALL=1`; the package is importable through PYTHONPATH.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("yaml", reason="PyYAML is needed to read action.yml (test dependency)")

from .action_harness import ActionRun, Harness  # noqa: E402
from .buildsystems_support import closed_port_url  # noqa: E402
from .cli_helpers import clean_env  # noqa: E402
from .conftest import LocalVigiles  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "core-image-minimal.vigiles.json"
EMAIL = "ci-bot@example.com"
TOKEN = re.compile(r"^[A-Z][0-9A-F]{24}$")


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    home = tmp_path / "home"
    home.mkdir()
    env = clean_env(home, TIMESYS_CI_SKIP_INSTALL="1", TIMESYS_CI_CACHE=str(tmp_path / "cache"))
    work = tmp_path / "work"  # cwd of every step: no pyproject.toml, so the action's flags set the policy
    work.mkdir()
    shutil.copy(EXAMPLE, work / "core-image-minimal-cve.json")
    return Harness(work, env)


def run(harness: Harness, **inputs: str) -> ActionRun:
    return harness.run({"manifest": str(harness.workdir / "core-image-minimal-cve.json"), "python": sys.executable,
                        **inputs})


def key_input(local_vigiles: LocalVigiles) -> tuple[str, dict]:
    text = local_vigiles.add_user(EMAIL).read_text()
    return text, json.loads(text)


def assert_report_outputs(result: ActionRun, harness: Harness, base_url: str) -> None:
    """`base_url`: the service's URL (the embedded service's port is not known outside the step)."""
    out = result.outputs
    assert re.fullmatch(re.escape(base_url) + r"/cves/reports/" + re.escape(out["report-token"]), out["report-url"])
    assert TOKEN.match(out["manifest-token"]) and TOKEN.match(out["report-token"])
    # examples/core-image-minimal.vigiles.json against the bundled data: busybox critical (no fix known), then
    # upgradable: linux-yocto high (NVD, and the kernel CNA's CVE-2025-21772) and five OpenSSL CNA CVEs.
    assert {k: out[k] for k in ("unfixed", "unapplied", "upgradable", "fixed", "whitelisted")} == {
        "unfixed": "1", "unapplied": "0", "upgradable": "7", "fixed": "6", "whitelisted": "0"}
    assert (out["critical"], out["high"], out["medium"], out["low"]) == ("1", "2", "3", "1")
    assert out["sarif-file"] == str(harness.workdir / "vigiles.sarif")
    sarif = json.loads(Path(out["sarif-file"]).read_text())
    assert sarif["version"] == "2.1.0"
    assert "CVE-2022-48174" in {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert out["json-file"] == str(harness.runner_temp / "timesys-ci-gate-result.json")
    gate_result = json.loads(Path(out["json-file"]).read_text())
    assert gate_result["report"]["manifest_token"] == out["manifest-token"]
    assert gate_result["gate"]["result"] == out["gate"]


def test_local_embedded_service_gate_fails_the_step(harness: Harness, tmp_path: Path) -> None:
    result = run(harness, local="true")
    upload = result.steps["upload"]
    assert "TIMESYS_CI_SKIP_INSTALL is set" in result.steps["install"].stdout
    assert result.failed and upload.returncode == 1, upload.stderr
    assert result.outputs["gate"] == "fail" and result.outputs["exit-code"] == "1"
    # the CLI's default fail-on high: busybox critical; linux-yocto and openssl high (upgradable, gated too)
    assert result.outputs["failing"] == "3"
    embedded_url = re.match(r"http://127\.0\.0\.1:\d+", result.outputs["report-url"])
    assert embedded_url, result.outputs["report-url"]
    assert_report_outputs(result, harness, embedded_url.group(0))
    assert "CVE-2022-48174" in upload.summary and "core-image-minimal" in upload.summary
    assert re.search(r"^::error file=core-image-minimal-cve\.json,title=CVE-2022-48174", upload.stdout, re.M)
    # The embedded service kept its data where TIMESYS_CI_CACHE points.
    assert (tmp_path / "cache" / "local-service" / "linuxlink_key").is_file()
    assert result.steps["cleanup"].ran and result.steps["cleanup"].returncode == 0


def test_key_content_and_server_url(harness: Harness, local_vigiles: LocalVigiles) -> None:
    text, key = key_input(local_vigiles)
    group = local_vigiles.storage.create_group("CI", "uploads from the action", None, EMAIL)
    old = os.umask(0o022)  # a loose runner umask must not loosen the secret files
    try:
        result = run(harness, key=text, **{"server-url": local_vigiles.url,
                                           "dashboard-config": json.dumps({"group": group["token"]})})
    finally:
        os.umask(old)
    assert result.failed and result.steps["upload"].returncode == 1, result.steps["upload"].stderr
    assert_report_outputs(result, harness, local_vigiles.url)
    assert key["organization_key"] in result.masks and EMAIL in result.masks
    # The runner consumes ::add-mask:: lines; nothing else may carry the key.
    printed = [line for line in result.stdout.splitlines() if not line.startswith("::add-mask::")]
    assert key["organization_key"] not in "\n".join(printed) + "".join(s.stderr for s in result.steps.values())
    # Secret files as the upload step found them and as it left them; gone after cleanup.
    workdir = Path(result.steps["secrets"].outputs["workdir"]).name
    for step in ("secrets", "upload"):
        modes = result.steps[step].temp_modes
        assert modes[workdir] == 0o700
        assert modes[f"{workdir}/linuxlink_key.json"] == 0o600 and modes[f"{workdir}/dashboard_config.json"] == 0o600
    assert not any(name.startswith("timesys-ci.") for name in result.steps["cleanup"].temp_modes)
    stored = local_vigiles.storage.manifest(result.outputs["manifest-token"])
    assert stored["owner_email"] == EMAIL and stored["group_token"] == group["token"]
    assert json.loads(stored["content"]) == json.loads(EXAMPLE.read_text())


@pytest.mark.parametrize("inputs,step_fails,gate", [
    ({}, True, "fail"),
    ({"fail-build": "false"}, False, "fail"),
    ({"severity-cutoff": "none"}, False, "pass"),
])
def test_gate_result_and_fail_build(harness: Harness, local_vigiles: LocalVigiles, inputs: dict,
                                    step_fails: bool, gate: str) -> None:
    text, _ = key_input(local_vigiles)
    result = run(harness, key=text, **inputs)
    assert result.failed is step_fails and result.outputs["gate"] == gate
    assert result.outputs["exit-code"] == ("1" if gate == "fail" else "0")
    warned = "::warning::timesys-ci: gate failed (exit 1)" in result.steps["upload"].stdout
    assert warned is (gate == "fail" and not step_fails)
    assert result.steps["cleanup"].returncode == 0


def test_pyproject_fail_on_applies_under_the_action(harness: Harness, local_vigiles: LocalVigiles) -> None:
    """Precedence under the action as in the CLI: input > policy file > pyproject.toml > default (issue 12 item 7)."""
    (harness.workdir / "pyproject.toml").write_text('[tool.timesys-ci]\nfail-on = "critical"\n')
    text, _ = key_input(local_vigiles)
    result = run(harness, key=text)
    assert result.outputs["failing"] == "1"  # pyproject's critical: busybox only, not linux-yocto's high CVE
    assert "Gate: FAIL, 1 finding(s) (fail-on critical)" in result.steps["upload"].stdout
    assert run(harness, key=text, **{"severity-cutoff": "none"}).outputs["gate"] == "pass"  # the input wins


def test_summary_and_annotations_off(harness: Harness, local_vigiles: LocalVigiles) -> None:
    text, _ = key_input(local_vigiles)
    result = run(harness, key=text, summary="false", annotations="false")
    upload = result.steps["upload"]
    assert upload.returncode == 1 and result.outputs["gate"] == "fail" and result.outputs["critical"] == "1"
    assert upload.summary == "" and "::error" not in upload.stdout
    assert "CVE-2022-48174" in upload.stdout  # the human summary in the log stays


def test_job_level_vigiles_settings_are_not_hidden_by_empty_inputs(harness: Harness,
                                                                   local_vigiles: LocalVigiles) -> None:
    """No key/server-url inputs: the workflow's own VIGILES_KEY_FILE (job env) is used."""
    harness.base_env["VIGILES_KEY_FILE"] = str(local_vigiles.add_user(EMAIL))
    result = run(harness, **{"severity-cutoff": "none"})
    assert not result.failed, result.steps["upload"].stderr
    assert local_vigiles.storage.manifest(result.outputs["manifest-token"])["owner_email"] == EMAIL


@pytest.mark.parametrize("fail_build,step_fails,exit_code", [("true", True, "3"), ("false", False, "0")])
def test_service_error(harness: Harness, local_vigiles: LocalVigiles, fail_build: str, step_fails: bool,
                       exit_code: str) -> None:
    text, _ = key_input(local_vigiles)
    result = run(harness, key=text, **{"server-url": closed_port_url(), "fail-build": fail_build})
    assert result.failed is step_fails and result.outputs["exit-code"] == exit_code
    assert result.outputs["gate"] == ""  # no report, no gate
    if not step_fails:
        assert "::warning title=Vigiles::service error, gate not evaluated" in result.steps["upload"].stdout


def test_configuration_error_fails_even_without_fail_build(harness: Harness, local_vigiles: LocalVigiles) -> None:
    text, _ = key_input(local_vigiles)
    result = run(harness, key=text, policy=str(harness.workdir / "missing.toml"), **{"fail-build": "false"})
    assert result.failed and result.outputs["exit-code"] == "2"
    assert "missing.toml" in result.steps["upload"].stderr


def test_skip_install_refuses_when_not_importable(harness: Harness, tmp_path: Path) -> None:
    # An interpreter that cannot import timesys_ci: no site-packages (-S), no PYTHONPATH (-I).
    bare = tmp_path / "bare-python"
    bare.write_text(f"#!/bin/sh\nexec {sys.executable} -I -S \"$@\"\n")
    bare.chmod(0o755)
    result = run(harness, local="true", python=str(bare))
    install = result.steps["install"]
    assert install.returncode == 2 and "TIMESYS_CI_SKIP_INSTALL is set but" in install.stdout
    assert not result.steps["upload"].ran and result.steps["cleanup"].ran

"""The composite action run step by step as the runner would, with a stand-in interpreter for pip and upload."""
from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read action.yml (test dependency)")

from .action_harness import ACTION_DIR, Harness, UnsupportedExpression, load_action  # noqa: E402
from .buildsystems_support import REPO, IMAGE, make_meta_timesys_tree, read_fake_log, write_fake_python  # noqa: E402

KEY = {"email": "ci-bot@example.com", "key": "c2VjcmV0LWtleS1kby1ub3QtbG9n", "enterprise": True}
ISSUE_INPUTS = {"manifest", "build-system", "build-dir", "image", "key", "key-file", "dashboard-config", "group-token",
                "folder-token", "server-url", "subfolder", "manifest-name", "kernel-config", "uboot-config",
                "upload-only", "fail-build", "severity-cutoff", "new-only", "baseline", "policy", "sarif", "summary",
                "annotations", "local"}
ISSUE_OUTPUTS = {"report-url", "manifest-token", "report-token", "unfixed", "fixed", "critical", "high", "gate",
                 "sarif-file", "json-file"}
UPLOAD_OUTPUTS = ("report-url=http://127.0.0.1:8000/cves/reports/RPT1;manifest-token=MNF1;report-token=RPT1;"
                  "unfixed=3;fixed=2;critical=1;high=1;gate=fail;sarif-file=vigiles.sarif;json-file=/tmp/r.json")


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    bin_dir = tmp_path / "bin"
    write_fake_python(bin_dir)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path / "home"),
           "FAKE_PY_LOG": str(tmp_path / "py.log"), "FAKE_UPLOAD_OUTPUTS": UPLOAD_OUTPUTS,
           # Stands in for what the (faked) pip install provides: timesys_ci importable.
           "PYTHONPATH": str(REPO)}
    work = tmp_path / "work"
    work.mkdir()
    return Harness(work, env)


def calls(harness: Harness, kind: str) -> list[dict]:
    return [c for c in read_fake_log(Path(harness.base_env["FAKE_PY_LOG"])) if c["kind"] == kind]


def manifest_file(harness: Harness) -> str:
    path = harness.workdir / "image-cve.json"
    path.write_text("{}")
    return str(path)


def test_declares_issue_inputs_outputs_and_no_interpolation_in_run() -> None:
    action = load_action()
    assert ISSUE_INPUTS <= set(action["inputs"]) and ISSUE_OUTPUTS <= set(action["outputs"])
    assert action["inputs"]["severity-cutoff"]["default"] == "critical"
    assert action["inputs"]["fail-build"]["default"] == "true" and action["inputs"]["sarif"]["default"] == "vigiles.sarif"
    assert action["runs"]["using"] == "composite"
    for step in action["runs"]["steps"]:
        assert "${{" not in step["run"], f"step {step['id']} interpolates into shell text"
        for script in re.findall(r"scripts/[\w.]+", step["run"]):
            assert (ACTION_DIR / script).is_file()
    assert action["runs"]["steps"][-1]["if"] == "always()"
    text = (ACTION_DIR / "action.yml").read_text()
    assert "pip install" not in text  # the install lives in scripts/install.sh
    assert '"${ACTION_PATH:-${GITHUB_ACTION_PATH:?}}/.."' in (ACTION_DIR / "scripts" / "install.sh").read_text()


def test_key_content_flow_masks_modes_cleanup(harness: Harness) -> None:
    dashboard = {"group": "GRPabc", "folder": "FLDdef"}
    result = harness.run({"manifest": manifest_file(harness), "key": json.dumps(KEY),
                          "dashboard-config": "  " + json.dumps(dashboard), "server-url": "http://127.0.0.1:8000"})
    assert not result.failed, result.steps
    assert KEY["key"] in result.masks and KEY["email"] in result.masks
    upload = calls(harness, "upload")[0]
    key_seen = upload["files"]["VIGILES_KEY_FILE"]
    assert key_seen["mode"] == 0o600 and key_seen["dir_mode"] == 0o700 and json.loads(key_seen["text"]) == KEY
    assert upload["files"]["VIGILES_DASHBOARD_CONFIG"]["mode"] == 0o600
    assert json.loads(upload["files"]["VIGILES_DASHBOARD_CONFIG"]["text"]) == dashboard
    assert upload["env"]["VIGILES_URL"] == "http://127.0.0.1:8000"
    assert upload["env"]["VIGILES_KEY_FILE"].startswith(str(harness.runner_temp))
    # Cleanup removed the private directory; nothing of the key is left or printed.
    assert list(harness.runner_temp.glob("timesys-ci.*")) == []
    assert not Path(upload["env"]["VIGILES_KEY_FILE"]).exists()
    # The runner consumes ::add-mask:: lines; everything else must be free of the key.
    printed = [line for line in result.stdout.splitlines() if not line.startswith("::add-mask::")]
    assert KEY["key"] not in "\n".join(printed) and KEY["key"] not in json.dumps(upload["argv"])


def test_outputs_mapped_and_default_arguments(harness: Harness) -> None:
    manifest = manifest_file(harness)
    result = harness.run({"manifest": manifest})
    assert result.outputs["report-url"].endswith("/RPT1") and result.outputs["gate"] == "fail"
    assert (result.outputs["critical"], result.outputs["unfixed"], result.outputs["exit-code"]) == ("1", "3", "0")
    assert result.outputs["sarif-file"] == "vigiles.sarif"
    argv = calls(harness, "upload")[0]["argv"][3:]
    assert argv == [manifest, "--fail-on", "critical", "--sarif", "vigiles.sarif",
                    "--json", str(harness.runner_temp / "timesys-ci-report.json")]
    assert [c["argv"][-1] for c in calls(harness, "pip")] == [str(ACTION_DIR) + "/.."]
    assert result.masks == []


@pytest.mark.parametrize("code", [1, 2, 3])
def test_fail_build_true_fails_step_cleanup_still_runs(harness: Harness, code: int) -> None:
    harness.base_env["FAKE_UPLOAD_EXIT"] = str(code)
    result = harness.run({"manifest": manifest_file(harness), "key": json.dumps(KEY)})
    assert result.failed and result.steps["upload"].returncode == code
    assert result.steps["cleanup"].ran and result.steps["cleanup"].returncode == 0
    assert list(harness.runner_temp.glob("timesys-ci.*")) == []
    assert result.outputs["exit-code"] == str(code)


@pytest.mark.parametrize("code,fails", [(1, False), (3, False), (2, True)])
def test_fail_build_false_only_warns(harness: Harness, code: int, fails: bool) -> None:
    harness.base_env["FAKE_UPLOAD_EXIT"] = str(code)
    result = harness.run({"manifest": manifest_file(harness), "fail-build": "false"})
    assert result.failed is fails
    assert calls(harness, "upload")[0]["argv"][-2:] == ["--on-service-error", "warn"]
    assert ("::warning::timesys-ci:" in result.steps["upload"].stdout) is not fails


def test_all_options_reach_upload(harness: Harness, tmp_path: Path) -> None:
    manifest = manifest_file(harness)
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps({"email": "owner@example.com", "organization_key": "b3JnLWtleQ=="}))
    result = harness.run({
        "manifest": manifest, "key-file": str(key_file), "group-token": "GRP1", "folder-token": "FLD1",
        "subfolder": "nightly", "manifest-name": "gw-image", "kernel-config": "k.config", "uboot-config": "u.config",
        "upload-only": "true", "severity-cutoff": "high", "new-only": "true", "baseline": "RPT0",
        "policy": "policy.toml", "sarif": "out.sarif", "json": "out.json", "local": "true"})
    assert not result.failed, result.steps["upload"].stdout
    assert "b3JnLWtleQ==" in result.masks and "owner@example.com" in result.masks
    upload = calls(harness, "upload")[0]
    assert upload["argv"][3:] == [manifest, "--kernel-config", "k.config", "--uboot-config", "u.config",
                                  "--manifest-name", "gw-image", "--subfolder-name", "nightly", "--upload-only",
                                  "--fail-on", "high", "--new-only", "--baseline", "RPT0", "--policy", "policy.toml",
                                  "--sarif", "out.sarif", "--json", "out.json", "--local"]
    assert (upload["env"]["VIGILES_GROUP_TOKEN"], upload["env"]["VIGILES_FOLDER_TOKEN"]) == ("GRP1", "FLD1")
    assert upload["env"]["VIGILES_KEY_FILE"] == str(key_file) and key_file.exists()  # user's file is not removed
    assert calls(harness, "pip")[0]["argv"][-1].endswith("/..[service]")


def test_empty_settings_are_not_passed_as_set(harness: Harness) -> None:
    harness.run({"manifest": manifest_file(harness)})
    env = calls(harness, "upload")[0]["env"]
    assert env["VIGILES_KEY_FILE"] is None and env["VIGILES_GROUP_TOKEN"] is None and env["VIGILES_URL"] is None


def test_summary_and_annotation_toggles(harness: Harness) -> None:
    harness.base_env["FAKE_UPLOAD_STDOUT"] = "::error file=image-cve.json::CVE-2024-9143 in openssl\nreport ready"
    on = harness.run({"manifest": manifest_file(harness)})
    assert "::error file=image-cve.json::" in on.stdout
    assert calls(harness, "upload")[0]["env"]["GITHUB_STEP_SUMMARY"] == str(harness.workdir / "upload.github_step_summary")
    off = harness.run({"manifest": manifest_file(harness), "summary": "false", "annotations": "false"})
    assert "::error" not in off.stdout and "report ready" in off.stdout
    summary_path = calls(harness, "upload")[1]["env"]["GITHUB_STEP_SUMMARY"]
    assert summary_path != str(harness.workdir / "upload.github_step_summary") and not Path(summary_path).exists()


def test_discovery_from_yocto_build_dir(harness: Harness, tmp_path: Path) -> None:
    build = tmp_path / "build"
    vdir = make_meta_timesys_tree(build)
    result = harness.run({"build-system": "yocto", "build-dir": str(build), "image": IMAGE})
    assert not result.failed
    argv = calls(harness, "upload")[0]["argv"][3:]
    assert argv[:5] == [str(vdir / f"{IMAGE}-cve.json"), "--kernel-config", str(vdir / "linux-yocto-6.6.21.config"),
                        "--uboot-config", str(vdir / "u-boot-2024.01.config")]


@pytest.mark.parametrize("inputs,message", [
    ({"build-system": "yocto", "build-dir": "/nonexistent"}, "input 'image' is required"),
    ({"build-system": "scons", "build-dir": "/x"}, "must be yocto or buildroot"),
    ({}, "set input 'manifest'"),
    ({"manifest": "/no/such.json"}, "input 'manifest': file not found"),
    ({"manifest": "MANIFEST", "new-only": "yes"}, "input 'new-only' must be true or false"),
])
def test_input_errors_fail_with_one_error(harness: Harness, inputs: dict, message: str) -> None:
    inputs = {k: (manifest_file(harness) if v == "MANIFEST" else v) for k, v in inputs.items()}
    result = harness.run(inputs)
    assert result.failed and result.steps["upload"].returncode == 2
    errors = [line for line in result.steps["upload"].stdout.splitlines() if line.startswith("::error::")]
    assert len(errors) == 1 and message in errors[0]
    assert calls(harness, "upload") == []


@pytest.mark.parametrize("inputs,message", [
    ({"key": "not json"}, "not valid JSON"),
    ({"key": '{"email": "a@b"}'}, "no 'key'"),
    ({"key-file": "/no/key.json"}, "key-file: file not found"),
    ({"dashboard-config": "/no/dash.json"}, "dashboard-config: not JSON content and no such file"),
])
def test_secret_input_errors_stop_before_upload(harness: Harness, inputs: dict, message: str) -> None:
    result = harness.run({"manifest": manifest_file(harness), **inputs})
    assert result.failed and message in result.steps["secrets"].stdout
    assert not result.steps["upload"].ran and result.steps["cleanup"].returncode == 0
    assert "not json" not in result.stdout.replace("not valid JSON", "")
    assert list(harness.runner_temp.glob("timesys-ci.*")) == []


def test_install_rejects_bad_local(harness: Harness) -> None:
    result = harness.run({"manifest": manifest_file(harness), "local": "sometimes"})
    assert result.failed and "input 'local' must be true or false" in result.steps["install"].stdout
    assert not result.steps["upload"].ran


def test_cleanup_refuses_foreign_paths(harness: Harness, tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    action = load_action()
    action["runs"]["steps"] = [s for s in action["runs"]["steps"] if s["id"] == "cleanup"]
    action["runs"]["steps"][0]["env"]["WORKDIR"] = str(precious)
    result = Harness(harness.workdir, harness.base_env, action).run({})
    assert precious.is_dir() and "refusing to remove" in result.steps["cleanup"].stdout


def test_harness_rejects_unknown_expressions(harness: Harness) -> None:
    action = load_action()
    action["runs"]["steps"][0]["env"]["X"] = "${{ secrets.TOKEN }}"
    with pytest.raises(UnsupportedExpression):
        Harness(harness.workdir, harness.base_env, action).run({})


def test_key_file_permissions_survive_loose_umask(harness: Harness) -> None:
    old = os.umask(0o022)
    try:
        harness.run({"manifest": manifest_file(harness), "key": json.dumps(KEY)})
    finally:
        os.umask(old)
    assert stat.S_IMODE(calls(harness, "upload")[0]["files"]["VIGILES_KEY_FILE"]["mode"]) == 0o600

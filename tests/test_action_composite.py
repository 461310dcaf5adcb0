"""The composite action with a stand-in interpreter: what a real run cannot show.

The stand-in (tests/buildsystems_support.py) records the exact argv of `pip` and
`timesys_ci upload` and exits as told. It is used here only for the argument mapping,
the pip install (a real one would go to the network), input errors that stop before
the upload, and the scripts' own guards. Outputs, summary, masks, file modes, cleanup
and exit status against the real command and service: tests/test_action_end_to_end.py.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read action.yml (test dependency)")

from .action_harness import ACTION_DIR, Harness, UnsupportedExpression, load_action  # noqa: E402
from .buildsystems_support import (REPO, IMAGE, make_buildroot_output, make_meta_timesys_tree, read_fake_log,  # noqa: E402
                                   write_fake_python)

ISSUE_INPUTS = {"manifest", "build-system", "build-dir", "image", "key", "key-file", "dashboard-config", "group-token",
                "folder-token", "server-url", "subfolder", "manifest-name", "kernel-config", "uboot-config",
                "upload-only", "fail-build", "severity-cutoff", "new-only", "baseline", "policy", "sarif", "summary",
                "annotations", "local"}
ISSUE_OUTPUTS = {"report-url", "manifest-token", "report-token", "unfixed", "fixed", "critical", "high", "gate",
                 "sarif-file", "json-file"}


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    bin_dir = tmp_path / "bin"
    write_fake_python(bin_dir)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path / "home"),
           "FAKE_PY_LOG": str(tmp_path / "py.log"),
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
    # Gate inputs default to "not set": the policy file, pyproject.toml or the CLI's default decide (issue 12).
    assert action["inputs"]["severity-cutoff"]["default"] == "" and action["inputs"]["new-only"]["default"] == ""
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


def upload_argv(harness: Harness, index: int = 0) -> list[str]:
    """What followed `python -m timesys_ci` in the index-th upload call."""
    return calls(harness, "upload")[index]["argv"][2:]


def test_default_arguments_and_pip_install(harness: Harness) -> None:
    manifest = manifest_file(harness)
    result = harness.run({"manifest": manifest})
    assert not result.failed and result.outputs["exit-code"] == "0"
    # No connection inputs: no connection flags, so job-level VIGILES_* stay in force.
    # No gate inputs: no gate flags, so --policy / pyproject.toml / the CLI's default (high) decide.
    assert upload_argv(harness) == ["upload", manifest, "--sarif", "vigiles.sarif",
                                    "--json", str(harness.runner_temp / "timesys-ci-gate-result.json")]
    assert [c["argv"][-1] for c in calls(harness, "pip")] == [str(ACTION_DIR) + "/.."]
    assert result.masks == []


def test_all_options_reach_upload(harness: Harness, tmp_path: Path) -> None:
    manifest = manifest_file(harness)
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps({"email": "owner@example.com", "organization_key": "b3JnLWtleQ=="}))
    dashboard = tmp_path / "dashboard.json"
    dashboard.write_text('{"group": "GRP0"}')
    result = harness.run({
        "manifest": manifest, "key-file": str(key_file), "dashboard-config": str(dashboard), "group-token": "GRP1",
        "folder-token": "FLD1", "server-url": "https://vigiles.example.com", "subfolder": "nightly",
        "manifest-name": "gw-image", "kernel-config": "k.config", "uboot-config": "u.config",
        "fail-build": "false", "severity-cutoff": "high", "new-only": "true", "baseline": "RPT0",
        "policy": "policy.toml", "sarif": "out.sarif", "json": "out.json", "summary": "false", "annotations": "false",
        "local": "true"})
    assert not result.failed, result.steps["upload"].stdout
    assert "b3JnLWtleQ==" in result.masks and "owner@example.com" in result.masks
    assert upload_argv(harness) == [
        "--key-file", str(key_file), "--dash-config", str(dashboard), "--url", "https://vigiles.example.com",
        "--group-token", "GRP1", "--folder-token", "FLD1",
        "upload", manifest, "--kernel-config", "k.config", "--uboot-config", "u.config",
        "--manifest-name", "gw-image", "--subfolder-name", "nightly",
        "--fail-on", "high", "--new-only", "--baseline", "RPT0", "--policy", "policy.toml",
        "--sarif", "out.sarif", "--json", "out.json", "--on-service-error", "warn", "--local",
        "--no-summary", "--no-annotations"]
    assert key_file.exists() and dashboard.exists()  # the user's own files are not removed
    assert calls(harness, "pip")[0]["argv"][-1].endswith("/..[service]")


def test_upload_only_asks_for_no_gate_outputs_and_new_only_false_is_passed(harness: Harness) -> None:
    manifest = manifest_file(harness)
    assert not harness.run({"manifest": manifest, "upload-only": "true"}).failed
    assert upload_argv(harness) == ["upload", manifest, "--upload-only"]
    assert not harness.run({"manifest": manifest, "new-only": "false"}).failed
    assert upload_argv(harness, 1)[2:3] == ["--no-new-only"]  # overrides a policy's new-only = true


def test_discovery_from_yocto_build_dir(harness: Harness, tmp_path: Path) -> None:
    build = tmp_path / "build"
    vdir = make_meta_timesys_tree(build)
    result = harness.run({"build-system": "yocto", "build-dir": str(build), "image": IMAGE})
    assert not result.failed
    argv = upload_argv(harness)[1:]
    assert argv[:5] == [str(vdir / f"{IMAGE}-cve.json"), "--kernel-config", str(vdir / "linux-yocto-6.6.21.config"),
                        "--uboot-config", str(vdir / "u-boot-2024.01.config")]


def test_kernel_triage_inputs_and_discovery(harness: Harness, tmp_path: Path) -> None:
    from .kernel_support import make_build_dir, make_source_tree
    from .test_kernel_discovery import yocto_kernel_layout

    manifest = manifest_file(harness)
    assert not harness.run({"manifest": manifest, "kernel-build-dir": "kbuild", "apply-triage": "true"}).failed
    assert upload_argv(harness)[-3:] == ["--kernel-build-dir", "kbuild", "--apply-triage"]  # named: strict
    build = tmp_path / "build"
    make_meta_timesys_tree(build)
    layout = yocto_kernel_layout(build)
    assert not harness.run({"build-system": "yocto", "build-dir": str(build), "image": IMAGE}).failed
    assert upload_argv(harness, 1)[-5:] == ["--kernel-build-dir", str(layout["build"]), "--kernel-source-dir",
                                            str(layout["source"]), "--kernel-evidence-optional"]
    out = tmp_path / "br"
    make_buildroot_output(out, with_manifest=True, home=tmp_path / "home")
    linux = make_build_dir(make_source_tree(out / "build" / "linux-custom", version="6.1.44"), release="6.1.44")
    assert not harness.run({"build-system": "buildroot", "build-dir": str(out)}).failed
    assert upload_argv(harness, 2)[-5:] == ["--kernel-build-dir", str(linux), "--kernel-source-dir", str(linux),
                                            "--kernel-evidence-optional"]


@pytest.mark.parametrize("inputs,message", [
    ({"build-system": "yocto", "build-dir": "/nonexistent"}, "input 'image' is required"),
    ({"build-system": "scons", "build-dir": "/x"}, "must be yocto or buildroot"),
    ({}, "set input 'manifest'"),
    ({"manifest": "/no/such.json"}, "input 'manifest': file not found"),
    ({"manifest": "MANIFEST", "new-only": "yes"}, "input 'new-only' must be true or false"),
    ({"manifest": "MANIFEST", "apply-triage": "true"}, "input 'apply-triage' needs the kernel"),
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

"""post-image.sh and the BR2_EXTERNAL make target, run as Buildroot runs them, with a fake interpreter."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .buildsystems_support import REPO, make_buildroot_output, read_fake_log, write_fake_python

POST_IMAGE = REPO / "hooks" / "buildroot" / "post-image.sh"


def run_post_image(env: dict[str, str], tmp_path: Path, upload_exit: int = 0, **extra: str) -> tuple[int, str, list[dict]]:
    fake = write_fake_python(tmp_path / "bin")
    log = tmp_path / "py.log"
    full_env = {"PATH": os.environ["PATH"], **env, "TIMESYS_CI_PYTHON": str(fake), "FAKE_PY_LOG": str(log),
                "FAKE_UPLOAD_EXIT": str(upload_exit), **extra}
    # Buildroot calls: <script> $(BINARIES_DIR) $(BR2_ROOTFS_POST_SCRIPT_ARGS), from its top directory.
    proc = subprocess.run([str(POST_IMAGE), env["BINARIES_DIR"], "--add-miniuart-bt-overlay"], env=full_env,
                          cwd=tmp_path, capture_output=True, text=True)
    return proc.returncode, proc.stderr, read_fake_log(log)


@pytest.fixture
def br_env(tmp_path: Path) -> dict[str, str]:
    return make_buildroot_output(tmp_path / "output", with_manifest=True, home=tmp_path / "home")


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_exit_status_propagates(br_env: dict[str, str], tmp_path: Path, code: int) -> None:
    status, stderr, calls = run_post_image(br_env, tmp_path, upload_exit=code)
    assert status == code
    assert [c["kind"] for c in calls] == ["buildroot", "upload"]
    assert ("Vigiles check failed" in stderr) == (code != 0)


def test_discovered_arguments_reach_upload(br_env: dict[str, str], tmp_path: Path) -> None:
    key = tmp_path / "home" / "timesys" / "linuxlink_key"
    key.write_text('{"email": "dev@example.com", "key": "c2VjcmV0"}')
    status, _, calls = run_post_image(br_env, tmp_path, TIMESYS_CI_FAIL_ON="high")
    assert status == 0
    buildroot_call, upload = calls
    assert buildroot_call["argv"][3:] == ["--on-failure", "fail"]  # positional Buildroot args not forwarded
    out = Path(br_env["BASE_DIR"])
    assert upload["argv"][3:] == [
        str(out / "vigiles" / "rpi4-raspberrypi4_64-manifest.json"),
        "--kernel-config", str(out / "vigiles" / "linux-6.1.44.config"),
        "--uboot-config", str(out / "build" / "uboot-2024.01" / ".config"),
        "--subfolder-name", "nightly",
        "--fail-on", "high",
    ]
    assert upload["env"]["VIGILES_KEY_FILE"] == str(key)  # from BR2_EXTERNAL_VIGILES_KEY_FILE="$(HOME)/..."


def test_warn_mode_keeps_build_going(br_env: dict[str, str], tmp_path: Path) -> None:
    status, stderr, calls = run_post_image(br_env, tmp_path, upload_exit=1, TIMESYS_CI_ON_FAILURE="warn")
    assert status == 0 and "WARNING: gate failed (exit 1)" in stderr
    assert calls[-1]["argv"][-2:] == ["--on-service-error", "warn"]


def test_warn_mode_when_interpreter_missing(br_env: dict[str, str], tmp_path: Path) -> None:
    env = {**br_env, "PATH": os.environ["PATH"], "TIMESYS_CI_PYTHON": str(tmp_path / "no-python"),
           "TIMESYS_CI_ON_FAILURE": "warn"}
    proc = subprocess.run([str(POST_IMAGE), br_env["BINARIES_DIR"]], env=env, capture_output=True, text=True)
    assert proc.returncode == 0 and "continuing" in proc.stderr
    env["TIMESYS_CI_ON_FAILURE"] = "fail"
    assert subprocess.run([str(POST_IMAGE)], env=env, capture_output=True).returncode == 127


def test_bad_on_failure_value(br_env: dict[str, str], tmp_path: Path) -> None:
    status, stderr, calls = run_post_image(br_env, tmp_path, TIMESYS_CI_ON_FAILURE="ignore")
    assert status == 2 and "must be 'fail' or 'warn'" in stderr and calls == []


def test_discovery_error_is_config_error(tmp_path: Path) -> None:
    env = {"BASE_DIR": str(tmp_path / "missing"), "BINARIES_DIR": str(tmp_path)}
    status, stderr, calls = run_post_image(env, tmp_path)
    assert status == 2 and "Buildroot output directory not found" in stderr
    assert [c["kind"] for c in calls] == ["buildroot"]


def test_external_mk_target(br_env: dict[str, str], tmp_path: Path) -> None:
    """`make timesys-ci-check` through the BR2_EXTERNAL makefile, with Buildroot's make variables."""
    fake = write_fake_python(tmp_path / "bin")
    log = tmp_path / "py.log"
    top = tmp_path / "Makefile"
    top.write_text(
        "MESSAGE = echo '>>> '$(1)\n"
        f"include {REPO / 'hooks' / 'buildroot' / 'external.mk'}\n"
    )
    variables = [f"{name}={br_env[name]}" for name in ("BR2_CONFIG", "BASE_DIR", "BUILD_DIR", "BINARIES_DIR",
                                                      "TARGET_DIR", "HOST_DIR")]
    variables.append(f"BR2_EXTERNAL_TIMESYS_CI_PATH={REPO / 'hooks' / 'buildroot'}")
    env = {"PATH": os.environ["PATH"], "HOME": br_env["HOME"], "TIMESYS_CI_PYTHON": str(fake),
           "FAKE_PY_LOG": str(log), "FAKE_UPLOAD_EXIT": "1"}
    proc = subprocess.run(["make", "-s", "-f", str(top), "timesys-ci-check", *variables], env=env,
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode != 0 and "Running timesys-ci check" in proc.stdout
    upload = read_fake_log(log)[-1]
    assert upload["kind"] == "upload" and upload["argv"][3].endswith("rpi4-raspberrypi4_64-manifest.json")
    proc = subprocess.run(["make", "-s", "-f", str(top), "timesys-ci-check", "TIMESYS_CI_ON_FAILURE=warn", *variables],
                          env=env, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr

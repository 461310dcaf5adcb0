"""post-image.sh with a stand-in interpreter: only what the real runs cannot show.

The exact upload argv (positional Buildroot arguments not forwarded, settings from
`.config` and the environment) and the script's own guards. Exit status propagation,
warn mode and the make target against the real command and service are in
tests/test_hooks_end_to_end.py.
"""
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
        # Buildroot builds the kernel in its source tree, $(O)/build/linux-*: the evidence for kernel triage.
        "--kernel-build-dir", str(out / "build" / "linux-custom"), "--kernel-source-dir", str(out / "build" / "linux-custom"),
        "--kernel-evidence-optional",
    ]
    assert upload["env"]["VIGILES_KEY_FILE"] == str(key)  # from BR2_EXTERNAL_VIGILES_KEY_FILE="$(HOME)/..."


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

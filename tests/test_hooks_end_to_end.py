"""The build-system entries run for real: `python -m timesys_ci yocto` and Buildroot's post-image.sh
(and the BR2_EXTERNAL make target) on synthetic build trees, uploading to the `local_vigiles` service.

No stand-in interpreter: the real `upload` runs, the service scans with its bundled data, and the
tests read back what it stored. The manifests (a copy of examples/core-image-minimal.vigiles.json,
the vigiles-buildroot fixture, one generated from show-info) each carry busybox 1.36.1 with the
critical CVE-2022-48174 unfixed, so the default policy fails the gate.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest

from .buildsystems_support import (IMAGE, closed_port_url, fixture, make_buildroot_output, make_meta_timesys_tree,
                                  make_spdx_tree)
from .cli_helpers import Run, clean_env, run_cli
from .conftest import LocalVigiles

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "core-image-minimal.vigiles.json"
POST_IMAGE = REPO / "hooks" / "buildroot" / "post-image.sh"
EXTERNAL_MK = REPO / "hooks" / "buildroot" / "external.mk"
EMAIL = "builder@example.com"


class Account:
    """A user of the local service: key file, API key (must never be printed) and their stored manifests."""

    def __init__(self, service: LocalVigiles, key_file: Path) -> None:
        self.service = service
        self.key_file = key_file
        self.api_key = json.loads(key_file.read_text())["organization_key"]

    def stored(self, gate_json: Path) -> dict:
        """The service's stored row for the manifest named in a `--json` gate result."""
        token = json.loads(gate_json.read_text())["report"]["manifest_token"]
        row = self.service.storage.manifest(token)
        assert row is not None and row["owner_email"] == EMAIL
        return dict(row)

    def manifest_count(self) -> int:
        groups = self.service.storage.visible_groups(EMAIL, archived=False, include_workspaces=True, is_admin=False)
        return len(self.service.storage.manifests(group_tokens=[g["token"] for g in groups]))


@pytest.fixture
def account(local_vigiles: LocalVigiles) -> Account:
    return Account(local_vigiles, local_vigiles.add_user(EMAIL))


# -- Yocto ---------------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def yocto(build: Path, home: Path, account: Account, **env: str) -> Run:
    """The hook's entry point as a process (it starts `python -m timesys_ci upload`, whose output is the test's)."""
    return run_cli("yocto", "--build-dir", str(build), "--image", IMAGE, home=home, secret=account.api_key,
                   env={"VIGILES_KEY_FILE": str(account.key_file), "TIMESYS_CI_JSON": str(home / "gate.json"), **env},
                   process=True)


@pytest.fixture
def meta_timesys_build(tmp_path: Path) -> Path:
    build = tmp_path / "build"
    vdir = make_meta_timesys_tree(build, manifest=EXAMPLE)
    assert (vdir / f"{IMAGE}-cve.json").is_symlink() and (vdir / "linux-yocto-6.6.21.config").is_symlink()
    return build


def test_yocto_default_policy_fails_and_uploads_the_kernel_config(meta_timesys_build: Path, home: Path,
                                                                 account: Account) -> None:
    run = yocto(meta_timesys_build, home, account)
    assert run.returncode == 1, run.stderr
    assert "CVE-2022-48174" in run.stdout and "Gate: FAIL" in run.stdout
    stored = account.stored(home / "gate.json")
    assert json.loads(stored["content"]) == json.loads(EXAMPLE.read_text())
    # What the kernel/U-Boot config links point at is what the service received.
    assert stored["kernel_config"] == fixture("linux-yocto.config").read_text()
    assert stored["uboot_config"] == fixture("u-boot.config").read_text()


def test_yocto_fail_on_none_passes(meta_timesys_build: Path, home: Path, account: Account) -> None:
    run = yocto(meta_timesys_build, home, account, TIMESYS_CI_FAIL_ON="none")
    assert run.returncode == 0, run.stderr
    assert json.loads((home / "gate.json").read_text())["gate"]["result"] == "pass"


def test_yocto_warn_mode_reports_but_passes(meta_timesys_build: Path, home: Path, account: Account) -> None:
    run = yocto(meta_timesys_build, home, account, TIMESYS_CI_ON_FAILURE="warn")
    assert run.returncode == 0
    assert "WARNING: gate failed (exit 1)" in run.stderr
    assert json.loads((home / "gate.json").read_text())["gate"]["result"] == "fail"


def test_yocto_meta_timesys_settings_reach_the_service(meta_timesys_build: Path, home: Path,
                                                       account: Account) -> None:
    run = yocto(meta_timesys_build, home, account, TIMESYS_CI_FAIL_ON="none", VIGILES_MANIFEST_NAME="",
                VIGILES_KERNEL_CONFIG="none", VIGILES_UPLOAD_ONLY="0")
    assert run.returncode == 0, run.stderr
    stored = account.stored(home / "gate.json")
    assert stored["kernel_config"] is None and stored["uboot_config"] is not None
    assert stored["name"] == IMAGE  # an empty VIGILES_MANIFEST_NAME is unset: the manifest's own name


def test_yocto_spdx_only_tree_is_scanned_by_the_service(tmp_path: Path, home: Path, account: Account) -> None:
    """Discovery finds the create-spdx (SPDX 3) document and uploads it; the local service reads and scans
    it (its busybox 1.37.0 is past every busybox range in the bundled sample), so the default policy passes."""
    build = tmp_path / "build"
    make_spdx_tree(build)
    run = yocto(build, home, account, MACHINE="qemux86-64")
    assert run.returncode == 0, run.stderr
    assert "Gate: PASS" in run.stdout and account.manifest_count() == 1
    stored = account.stored(home / "gate.json")
    assert json.loads(stored["content"]) == json.loads(fixture("core-image-minimal-qemux86-64.rootfs.spdx.json").read_text())


def test_yocto_service_down_is_exit_3(meta_timesys_build: Path, home: Path, account: Account) -> None:
    run = yocto(meta_timesys_build, home, account, VIGILES_URL=closed_port_url())
    assert run.returncode == 3 and "connection to 127.0.0.1" in run.stderr


# -- Buildroot -------------------------------------------------------------------------------


def buildroot_output(tmp_path: Path, account: Account, *, with_manifest: bool) -> dict[str, str]:
    """A Buildroot O= tree and the environment Buildroot gives post-image scripts; the key sits where the
    tree's vigiles-buildroot .config says (BR2_EXTERNAL_VIGILES_KEY_FILE="$(HOME)/timesys/linuxlink_key")."""
    home = tmp_path / "home"
    env = make_buildroot_output(tmp_path / "output", with_manifest=with_manifest, home=home)
    shutil.copy(account.key_file, home / "timesys" / "linuxlink_key")
    os.chmod(home / "timesys" / "linuxlink_key", 0o600)
    return env


def post_image(br_env: dict[str, str], account: Account, **extra: str) -> subprocess.CompletedProcess:
    buildroot_vars = {k: v for k, v in br_env.items() if k != "HOME"}
    env = clean_env(Path(br_env["HOME"]), **buildroot_vars, TIMESYS_CI_PYTHON=sys.executable,
                    TIMESYS_CI_JSON=str(Path(br_env["HOME"]) / "gate.json"), **extra)
    # As Buildroot runs it: <script> $(BINARIES_DIR) $(BR2_ROOTFS_POST_SCRIPT_ARGS), from its top directory.
    proc = subprocess.run([str(POST_IMAGE), br_env["BINARIES_DIR"], "--add-miniuart-bt-overlay"], env=env,
                          cwd=br_env["HOME"], capture_output=True, text=True, timeout=120)
    assert account.api_key not in proc.stdout + proc.stderr
    return proc


@pytest.mark.parametrize("extra,status", [({}, 1), ({"TIMESYS_CI_FAIL_ON": "none"}, 0),
                                          ({"TIMESYS_CI_ON_FAILURE": "warn"}, 0)])
def test_post_image_with_vigiles_buildroot_manifest(tmp_path: Path, account: Account, extra: dict,
                                                    status: int) -> None:
    br_env = buildroot_output(tmp_path, account, with_manifest=True)
    proc = post_image(br_env, account, **extra)
    assert proc.returncode == status, proc.stderr
    gate = json.loads((tmp_path / "home" / "gate.json").read_text())
    assert gate["gate"]["result"] == ("pass" if extra.get("TIMESYS_CI_FAIL_ON") == "none" else "fail")
    assert ("Vigiles check failed (exit 1)" in proc.stderr) is (status == 1)
    stored = account.stored(tmp_path / "home" / "gate.json")
    out = Path(br_env["BASE_DIR"])
    assert stored["content"] == (out / "vigiles" / "rpi4-raspberrypi4_64-manifest.json").read_text()
    assert stored["kernel_config"] == (out / "vigiles" / "linux-6.1.44.config").read_text()
    assert stored["uboot_config"] == (out / "build" / "uboot-2024.01" / ".config").read_text()


@pytest.mark.parametrize("fail_on,status", [(None, 1), ("none", 0)])
def test_post_image_with_show_info_only(tmp_path: Path, account: Account, fail_on: Optional[str], status: int) -> None:
    br_env = buildroot_output(tmp_path, account, with_manifest=False)
    extra = {"TIMESYS_CI_SHOW_INFO": str(fixture("show-info.json"))}
    if fail_on:
        extra["TIMESYS_CI_FAIL_ON"] = fail_on
    proc = post_image(br_env, account, **extra)
    assert proc.returncode == status, proc.stderr
    generated = list((Path(br_env["BASE_DIR"]) / "timesys-ci").glob("*-manifest.json"))
    assert len(generated) == 1
    stored = account.stored(tmp_path / "home" / "gate.json")
    assert stored["content"] == generated[0].read_text()
    assert json.loads(stored["content"])["packages"]["busybox"]["version"] == "1.36.1"
    assert stored["kernel_config"] == fixture("linux-yocto.config").read_text()  # build/linux-custom/.config


def test_post_image_service_and_config_errors(tmp_path: Path, account: Account) -> None:
    br_env = buildroot_output(tmp_path, account, with_manifest=True)
    down = post_image(br_env, account, VIGILES_URL=closed_port_url())
    assert down.returncode == 3 and "Vigiles check failed (exit 3)" in down.stderr
    missing = post_image({**br_env, "BASE_DIR": str(tmp_path / "missing"), "BR2_CONFIG": ""}, account)
    assert missing.returncode == 2 and "Buildroot output directory not found" in missing.stderr


def test_br2_external_make_target(tmp_path: Path, account: Account) -> None:
    """`make timesys-ci-check` through the BR2_EXTERNAL makefile, with Buildroot's make variables."""
    br_env = buildroot_output(tmp_path, account, with_manifest=True)
    top = tmp_path / "Makefile"
    top.write_text(f"MESSAGE = echo '>>> '$(1)\ninclude {EXTERNAL_MK}\n")
    variables = [f"{name}={br_env[name]}" for name in ("BR2_CONFIG", "BASE_DIR", "BUILD_DIR", "BINARIES_DIR",
                                                      "TARGET_DIR", "HOST_DIR")]
    variables.append(f"BR2_EXTERNAL_TIMESYS_CI_PATH={POST_IMAGE.parent}")
    env = clean_env(Path(br_env["HOME"]), TIMESYS_CI_PYTHON=sys.executable)

    def make(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["make", "-s", "-f", str(top), "timesys-ci-check", *args, *variables], env=env,
                              capture_output=True, text=True, cwd=tmp_path, timeout=120)

    failed = make()
    assert failed.returncode != 0 and "Running timesys-ci check" in failed.stdout
    assert "CVE-2022-48174" in failed.stdout and "Vigiles check failed (exit 1)" in failed.stderr
    warned = make("TIMESYS_CI_ON_FAILURE=warn")
    assert warned.returncode == 0 and "WARNING: gate failed (exit 1)" in warned.stderr
    assert account.manifest_count() == 2

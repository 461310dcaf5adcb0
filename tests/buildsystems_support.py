"""Synthetic Yocto and Buildroot build trees for the buildsystems tests, laid out like the real tools do."""
from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "buildsystems"
IMAGE = "core-image-minimal"


def fixture(name: str) -> Path:
    return FIXTURES / name


def closed_port_url() -> str:
    """A loopback URL nothing listens on (the port was just free): a service that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def make_meta_timesys_tree(build: Path, *, vigiles_dir: "Path | None" = None, link: bool = True,
                           stamps: tuple[str, ...] = ("2025-07-14_09.12.44",),
                           manifest: "Path | None" = None) -> Path:
    """TOPDIR with meta-timesys output: timestamped manifests (copies of `manifest`), the -cve.json link,
    kconfig copies and their links."""
    vdir = vigiles_dir or build / "vigiles"
    image_dir = vdir / IMAGE
    image_dir.mkdir(parents=True)
    (build / "conf").mkdir(parents=True, exist_ok=True)
    (build / "conf" / "local.conf").write_text('INHERIT += "vigiles"\n')
    newest = None
    for stamp in stamps:
        newest = image_dir / f"{IMAGE}-{stamp}-cve.json"
        shutil.copy(manifest or fixture("meta-timesys-core-image-minimal-cve.json"), newest)
    assert newest is not None
    if link:
        os.symlink(os.path.relpath(newest, vdir), vdir / f"{IMAGE}-cve.json")
    kconfig = vdir / "kconfig"
    kconfig.mkdir()
    for pf, source in (("linux-yocto-6.6.21", "linux-yocto.config"), ("u-boot-2024.01", "u-boot.config")):
        copied = kconfig / f"{pf}_{stamps[-1]}.config"
        shutil.copy(fixture(source), copied)
        os.symlink(os.path.relpath(copied, vdir), vdir / f"{pf}.config")
    return vdir


def make_spdx_tree(build: Path, machine: str = "qemux86-64") -> Path:
    """Yocto create-spdx deploy output only (no meta-timesys)."""
    deploy = build / "tmp" / "deploy" / "images" / machine
    deploy.mkdir(parents=True)
    real = deploy / f"{IMAGE}-{machine}.rootfs-20250714091244.spdx.json"
    shutil.copy(fixture("core-image-minimal-qemux86-64.rootfs.spdx.json"), real)
    os.symlink(real.name, deploy / f"{IMAGE}-{machine}.rootfs.spdx.json")
    # A different image sharing the name prefix must not be picked.
    (deploy / f"{IMAGE}-dev-{machine}.rootfs.spdx.json").write_text("{}")
    return deploy


def make_buildroot_output(out: Path, *, with_manifest: bool, home: Path) -> dict[str, str]:
    """A Buildroot O= tree; returns the environment Buildroot gives post-image scripts."""
    for sub in ("build", "images", "target", "host"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy(fixture("buildroot.config"), out / ".config")
    linux = out / "build" / "linux-custom"
    linux.mkdir()
    shutil.copy(fixture("linux-yocto.config"), linux / ".config")
    shutil.copy(fixture("linux-Makefile"), linux / "Makefile")
    headers = out / "build" / "linux-headers-6.1.44"
    headers.mkdir()
    (headers / ".config").write_text("# headers build, not the kernel\n")
    uboot = out / "build" / "uboot-2024.01"
    uboot.mkdir()
    shutil.copy(fixture("u-boot.config"), uboot / ".config")
    busybox = out / "build" / "busybox-1.36.1"
    busybox.mkdir()
    patch_dir = out / "patches"
    patch_dir.mkdir()
    patch = patch_dir / "0001-libbb-sockaddr2str-ensure-only-printable-characters.patch"
    patch.write_text("Fixes CVE-2022-48174 and cve-2023-42363 in the shell.\n--- a/x\n+++ b/x\n")
    plain = patch_dir / "0002-build-fix.patch"
    plain.write_text("--- a/Makefile\n+++ b/Makefile\n")
    (busybox / ".applied_patches_list").write_text(f"{patch}\n{plain}\n")
    if with_manifest:
        vdir = out / "vigiles"
        vdir.mkdir()
        shutil.copy(fixture("vigiles-buildroot-rpi4-manifest.json"), vdir / "rpi4-raspberrypi4_64-manifest.json")
        (vdir / "linux-6.1.44.config").write_text("# trimmed by vigiles-buildroot\nCONFIG_NET=y\n")
    key_dir = home / "timesys"
    key_dir.mkdir(parents=True, exist_ok=True)
    return {
        "HOME": str(home),
        "BR2_CONFIG": str(out / ".config"),
        "BASE_DIR": str(out),
        "BUILD_DIR": str(out / "build"),
        "BINARIES_DIR": str(out / "images"),
        "TARGET_DIR": str(out / "target"),
        "HOST_DIR": str(out / "host"),
        "STAGING_DIR": str(out / "host" / "aarch64-buildroot-linux-gnu" / "sysroot"),
    }


REPO = Path(__file__).resolve().parent.parent
RECORDED_ENV = ("VIGILES_KEY_FILE", "VIGILES_DASHBOARD_CONFIG", "VIGILES_GROUP_TOKEN", "VIGILES_FOLDER_TOKEN",
                "VIGILES_URL", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "VIGILES_KEY")

# A stand-in interpreter, for tests of exact argument mapping only (end-to-end tests use the real
# command): records `-m timesys_ci [global flags] upload ...` calls and exits with FAKE_UPLOAD_EXIT;
# runs the real yocto/buildroot entries and the action's run_upload.py in-process, with the CLI's
# `main` (which they call in-process for the upload) replaced by the same recorder;
# records and accepts `-m pip`; hands everything else to the real interpreter.
_FAKE_PYTHON = '''#!{real}
import json, os, sys
sys.path.insert(0, {repo!r})
argv = sys.argv[1:]
def record(kind):
    with open(os.environ["FAKE_PY_LOG"], "a") as log:
        files = {{}}
        for name in ("VIGILES_KEY_FILE", "VIGILES_DASHBOARD_CONFIG"):
            path = os.environ.get(name)
            if path and os.path.isfile(path):
                files[name] = {{"mode": os.stat(path).st_mode & 0o777, "text": open(path).read(),
                               "dir_mode": os.stat(os.path.dirname(path)).st_mode & 0o777}}
        log.write(json.dumps({{"kind": kind, "argv": argv, "cwd": os.getcwd(), "files": files,
                              "env": {{k: os.environ.get(k) for k in {recorded!r}}}}}) + "\\n")
def fake_upload(cli_argv):
    global argv
    argv = ["-m", "timesys_ci", *cli_argv]
    record("upload")
    print("fake upload")
    return int(os.environ.get("FAKE_UPLOAD_EXIT", "0"))
def stub_cli():
    import timesys_ci.cli
    timesys_ci.cli.main = fake_upload
entry = argv[2:3] in (["yocto"], ["buildroot"])
if argv[:2] == ["-m", "timesys_ci"] and not entry and "upload" in argv[2:]:  # global flags may precede it
    sys.exit(fake_upload(argv[2:]))
if argv[:2] == ["-m", "timesys_ci"] and entry:
    record(argv[2])
    stub_cli()
    from timesys_ci.buildsystems import entry
    sys.exit(getattr(entry, argv[2] + "_main")(argv[3:]))
if argv[:1] and argv[0].endswith("run_upload.py"):
    import runpy
    stub_cli()
    sys.argv = argv
    runpy.run_path(argv[0], run_name="__main__")
if argv[:2] == ["-m", "pip"]:
    record("pip")
    sys.exit(0)
os.execv({real!r}, [{real!r}] + argv)
'''


def write_fake_python(bin_dir: Path, names: tuple[str, ...] = ("python3", "python")) -> Path:
    import sys

    bin_dir.mkdir(parents=True, exist_ok=True)
    text = _FAKE_PYTHON.format(real=sys.executable, repo=str(REPO), recorded=RECORDED_ENV)
    first = None
    for name in names:
        path = bin_dir / name
        path.write_text(text)
        path.chmod(0o755)
        first = first or path
    assert first is not None
    return first


def read_fake_log(log: Path) -> list[dict]:
    import json

    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

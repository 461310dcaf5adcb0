"""Where Yocto and Buildroot leave the kernel's build directory, sources and .config."""
from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from .buildsystems_support import IMAGE, fixture, make_buildroot_output, make_meta_timesys_tree
from .kernel_support import FIXTURES, config_text, make_build_dir, make_source_tree, write
from .test_kernel_triage import MAC, contract_report
from timesys_ci.buildsystems import DiscoveryError, KernelTree, entry
from timesys_ci.buildsystems.buildroot import find_buildroot_kernel
from timesys_ci.buildsystems.yocto import find_yocto_kernel
from timesys_ci.cli import main

MACHINE = "qemux86-64"


def yocto_kernel_layout(top: Path, *, rm_work: bool = False) -> dict[str, Path]:
    """TOPDIR/tmp as linux-yocto leaves it: B under tmp/work, S and the build artifacts under work-shared."""
    shared = top / "tmp" / "work-shared" / MACHINE
    source = make_source_tree(shared / "kernel-source")
    write(shared / "kernel-build-artifacts" / ".config", config_text())
    build = top / "tmp" / "work" / "qemux86_64-poky-linux" / "linux-yocto" / "6.6.21+git" / \
        "linux-qemux86_64-standard-build"
    make_build_dir(build, source_dir=source)
    # Recipes that are not the kernel, with .config files of their own.
    write(top / "tmp" / "work" / "qemux86_64-poky-linux" / "linux-libc-headers" / "6.6" / "linux-libc-headers-build"
          / ".config", "")
    write(top / "tmp" / "work" / "core2-64-poky-linux" / "linux-firmware" / "1.0" / "linux-firmware-build" / ".config",
          "")
    if rm_work:
        for path in sorted(build.rglob("*"), reverse=True):
            path.unlink() if not path.is_dir() or path.is_symlink() else path.rmdir()
        build.rmdir()
    return {"source": source, "build": build, "artifacts": shared / "kernel-build-artifacts"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TIMESYS_CI_KERNEL_BUILD_DIR", "TIMESYS_CI_KERNEL_SOURCE_DIR", "TIMESYS_CI_ON_FAILURE", "VIGILES_DIR",
                 "VIGILES_MANIFEST_NAME", "O", "BASE_DIR", "BR2_CONFIG", "MACHINE"):
        monkeypatch.delenv(name, raising=False)


def test_yocto_layout(tmp_path: Path) -> None:
    layout = yocto_kernel_layout(tmp_path)
    for machine in (MACHINE, None):
        found = find_yocto_kernel(tmp_path, {}, machine=machine)
        assert found == KernelTree(layout["build"], layout["source"], layout["build"] / ".config")
    # Another machine's tree is not this one's.
    assert find_yocto_kernel(tmp_path, {}, machine="raspberrypi4-64") == KernelTree()


def test_yocto_after_rm_work_uses_sources_and_build_artifacts(tmp_path: Path) -> None:
    layout = yocto_kernel_layout(tmp_path, rm_work=True)
    found = find_yocto_kernel(tmp_path, {}, machine=MACHINE)
    assert found == KernelTree(None, layout["source"], layout["artifacts"] / ".config")


def test_yocto_explicit_directories_and_bitbake_variables(tmp_path: Path) -> None:
    layout = yocto_kernel_layout(tmp_path)
    other = make_source_tree(tmp_path / "elsewhere")
    env = {"TIMESYS_CI_KERNEL_BUILD_DIR": str(layout["build"]), "STAGING_KERNEL_DIR": str(other)}
    assert find_yocto_kernel(tmp_path / "nowhere", env) == KernelTree(layout["build"], other,
                                                                        layout["build"] / ".config")
    with pytest.raises(DiscoveryError, match="TIMESYS_CI_KERNEL_BUILD_DIR: not a directory"):
        find_yocto_kernel(tmp_path, {"TIMESYS_CI_KERNEL_BUILD_DIR": str(tmp_path / "missing")})


def test_yocto_tmpdir_is_not_the_shells_tmpdir(tmp_path: Path) -> None:
    layout = yocto_kernel_layout(tmp_path)
    assert find_yocto_kernel(tmp_path, {"TMPDIR": "/tmp"}, machine=MACHINE).build_dir == layout["build"]
    moved = tmp_path / "tmp-glibc"
    (tmp_path / "tmp").rename(moved)
    assert find_yocto_kernel(tmp_path, {}, tmpdir=moved, machine=MACHINE).source_dir == \
        moved / "work-shared" / MACHINE / "kernel-source"


def test_buildroot_layout(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = make_buildroot_output(out, with_manifest=False, home=tmp_path / "home")
    linux = out / "build" / "linux-custom"
    make_source_tree(linux)
    make_build_dir(linux)
    assert find_buildroot_kernel(env) == KernelTree(linux, linux, linux / ".config")
    explicit = dict(env, TIMESYS_CI_KERNEL_BUILD_DIR=str(tmp_path))
    assert find_buildroot_kernel(explicit).build_dir == tmp_path


def test_print_args_shows_the_kernel_evidence_and_kernel_triage_reads_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    yocto_kernel_layout(tmp_path)
    make_meta_timesys_tree(tmp_path)
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE, "--machine", MACHINE,
                             "--print-args"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)[0].endswith(f"{IMAGE}-cve.json")  # the upload arguments, unchanged
    line = captured.err.strip()
    assert line.startswith("timesys_ci yocto: kernel evidence for `timesys-ci kernel-triage`: --kernel-build-dir ")
    kernel_args = shlex.split(line.split(": ", 2)[2])
    report = write(tmp_path / "report.json", json.dumps(contract_report()))
    assert main(["kernel-triage", str(report), *kernel_args, "--cve-records", str(FIXTURES), "--json",
                 "--fail-on", "none"]) == 0
    decisions = {d["cve_id"]: d["outcome"] for d in json.loads(capsys.readouterr().out)["decisions"]}
    assert decisions[MAC] == "set_aside"


def test_explicit_kernel_flag_says_upload_does_not_apply_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(entry, "run_upload", lambda args, env=None: calls.append(args) or 0)
    layout = yocto_kernel_layout(tmp_path)
    make_meta_timesys_tree(tmp_path)
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE,
                             "--kernel-build-dir", str(layout["build"])]) == 0
    assert "not applied by upload" in capsys.readouterr().err
    assert all("--kernel-build-dir" not in args for args in calls)
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE,
                             "--kernel-build-dir", str(tmp_path / "missing")]) == 2
    assert "TIMESYS_CI_KERNEL_BUILD_DIR: not a directory" in capsys.readouterr().err
    # Without explicit kernel settings a normal run neither searches nor prints anything about the kernel.
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE]) == 0
    assert "kernel" not in capsys.readouterr().err


def test_buildroot_print_args(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    make_buildroot_output(out, with_manifest=True, home=tmp_path / "home")
    linux = out / "build" / "linux-custom"
    make_build_dir(linux)
    assert entry.buildroot_main(["--output-dir", str(out), "--br2-config", str(out / ".config"),
                                 "--show-info", str(fixture("show-info.json")), "--print-args"]) == 0
    assert f"--kernel-build-dir {linux} --kernel-source-dir {linux}" in capsys.readouterr().err

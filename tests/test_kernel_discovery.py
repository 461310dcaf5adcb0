"""Where Yocto and Buildroot leave the kernel's build directory, sources and .config."""
from __future__ import annotations

import json
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
    for name in ("TIMESYS_CI_KERNEL_BUILD_DIR", "TIMESYS_CI_KERNEL_SOURCE_DIR", "TIMESYS_CI_KERNEL_CONFIG",
                 "TIMESYS_CI_KERNEL_TRIAGE", "TIMESYS_CI_APPLY_TRIAGE", "TIMESYS_CI_ON_FAILURE", "VIGILES_DIR",
                 "VIGILES_MANIFEST_NAME", "VIGILES_UPLOAD_ONLY", "O", "BASE_DIR", "BR2_CONFIG", "MACHINE"):
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


def test_print_args_includes_the_kernel_evidence_and_kernel_triage_reads_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    layout = yocto_kernel_layout(tmp_path)
    make_meta_timesys_tree(tmp_path)
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE, "--machine", MACHINE,
                             "--print-args"]) == 0
    captured = capsys.readouterr()
    args = json.loads(captured.out)
    assert args[0].endswith(f"{IMAGE}-cve.json") and captured.err == ""
    assert args[-5:] == ["--kernel-build-dir", str(layout["build"]), "--kernel-source-dir", str(layout["source"]),
                         "--kernel-evidence-optional"]
    report = write(tmp_path / "report.json", json.dumps(contract_report()))
    assert main(["kernel-triage", str(report), *args[-5:-1], "--cve-records", str(FIXTURES), "--json",
                 "--fail-on", "none"]) == 0
    decisions = {d["cve_id"]: d["outcome"] for d in json.loads(capsys.readouterr().out)["decisions"]}
    assert decisions[MAC] == "set_aside"


def test_entries_pass_the_kernel_to_upload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[tuple[list[str], dict]] = []
    monkeypatch.setattr(entry, "run_upload", lambda args, env=None: calls.append((args, env or {})) or 0)
    layout = yocto_kernel_layout(tmp_path)
    make_meta_timesys_tree(tmp_path)
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE, "--machine", MACHINE]) == 0
    assert calls[-1][0][-5:] == ["--kernel-build-dir", str(layout["build"]), "--kernel-source-dir",
                                 str(layout["source"]), "--kernel-evidence-optional"]
    other = make_build_dir(tmp_path / "elsewhere")
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE, "--kernel-build-dir", str(other)]) == 0
    assert calls[-1][0][calls[-1][0].index("--kernel-build-dir") + 1] == str(other)  # the flag wins
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE,
                             "--kernel-build-dir", str(tmp_path / "missing")]) == 2
    assert "TIMESYS_CI_KERNEL_BUILD_DIR: not a directory" in capsys.readouterr().err
    # Switched off; and with upload-only there is no report to triage.
    monkeypatch.setenv("TIMESYS_CI_KERNEL_TRIAGE", "no")
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE]) == 0
    assert "--kernel-build-dir" not in calls[-1][0]
    monkeypatch.delenv("TIMESYS_CI_KERNEL_TRIAGE")
    monkeypatch.setenv("VIGILES_UPLOAD_ONLY", "1")
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE]) == 0
    assert "--upload-only" in calls[-1][0] and "--kernel-build-dir" not in calls[-1][0]
    monkeypatch.delenv("VIGILES_UPLOAD_ONLY")
    monkeypatch.setenv("TIMESYS_CI_APPLY_TRIAGE", "1")
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE]) == 0
    assert "--apply-triage" in calls[-1][0]


def test_after_rm_work_the_config_goes_as_evidence_not_upload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[tuple[list[str], dict]] = []
    monkeypatch.setattr(entry, "run_upload", lambda args, env=None: calls.append((args, env or {})) or 0)
    layout = yocto_kernel_layout(tmp_path, rm_work=True)
    make_meta_timesys_tree(tmp_path)
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE, "--machine", MACHINE]) == 0
    args, env = calls[-1]
    # meta-timesys' kernel config is uploaded: it is the .config the triage evaluates too.
    assert "--kernel-config" in args and "TIMESYS_CI_KERNEL_CONFIG" not in env
    assert "--kernel-build-dir" not in args and args[-3:-1] == ["--kernel-source-dir", str(layout["source"])]
    monkeypatch.setenv("VIGILES_KERNEL_CONFIG", "none")  # none uploaded: the build's .config is only evidence
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE, "--machine", MACHINE]) == 0
    args, env = calls[-1]
    assert "--kernel-config" not in args and env["TIMESYS_CI_KERNEL_CONFIG"] == str(layout["artifacts"] / ".config")
    assert "the build directory is gone" in capsys.readouterr().err


def test_no_kernel_found_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr(entry, "run_upload", lambda args, env=None: calls.append(args) or 0)
    make_meta_timesys_tree(tmp_path)
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE]) == 0
    assert "kernel triage: no kernel build directory or sources found" in capsys.readouterr().err
    assert not any(arg.startswith("--kernel-") and arg != "--kernel-config" for arg in calls[-1])


def test_buildroot_print_args(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    make_buildroot_output(out, with_manifest=True, home=tmp_path / "home")
    linux = out / "build" / "linux-custom"
    make_build_dir(linux)
    assert entry.buildroot_main(["--output-dir", str(out), "--br2-config", str(out / ".config"),
                                 "--show-info", str(fixture("show-info.json")), "--print-args"]) == 0
    args = json.loads(capsys.readouterr().out)
    assert args[-5:] == ["--kernel-build-dir", str(linux), "--kernel-source-dir", str(linux),
                         "--kernel-evidence-optional"]

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from .buildsystems_support import fixture, make_buildroot_output
from timesys_ci.buildsystems import DiscoveryError, SettingError
from timesys_ci.buildsystems.br_manifest import build_manifest, clean_version, cpe_fields, load_show_info
from timesys_ci.buildsystems.buildroot import buildroot_upload_args, buildroot_upload_env, discover_buildroot
from timesys_ci.buildsystems.kconfig import BuildrootConfig, makefile_version


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    out = tmp_path / "output"
    return out, make_buildroot_output(out, with_manifest=True, home=tmp_path / "home")


@pytest.fixture
def bare_tree(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    out = tmp_path / "output"
    env = make_buildroot_output(out, with_manifest=False, home=tmp_path / "home")
    env["TIMESYS_CI_SHOW_INFO"] = str(fixture("show-info.json"))
    return out, env


def test_vigiles_buildroot_manifest_and_trimmed_kernel_config(tree: tuple[Path, dict[str, str]]) -> None:
    out, env = tree
    found = discover_buildroot(env)
    assert found.kind == "vigiles"
    assert found.manifest == out / "vigiles" / "rpi4-raspberrypi4_64-manifest.json"
    assert found.kernel_config == out / "vigiles" / "linux-6.1.44.config"
    assert found.uboot_config == out / "build" / "uboot-2024.01" / ".config"


def test_vigiles_output_dir_setting(tree: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    out, env = tree
    custom = tmp_path / "reports"
    custom.mkdir()
    (custom / "board-manifest.json").write_text("{}")
    assert discover_buildroot({**env, "VIGILES_OUTPUT_DIR": str(custom)}).manifest == custom / "board-manifest.json"
    config = Path(env["BR2_CONFIG"])
    config.write_text(config.read_text() + 'BR2_EXTERNAL_VIGILES_OUTPUT="$(HOME)/../reports"\n')
    assert discover_buildroot(env).manifest.resolve() == (custom / "board-manifest.json").resolve()


def test_named_manifest_preferred(tree: tuple[Path, dict[str, str]]) -> None:
    out, env = tree
    (out / "vigiles" / "zzz-manifest.json").write_text("{}")
    os.utime(out / "vigiles" / "zzz-manifest.json", (4e9, 4e9))
    assert discover_buildroot(env).manifest.name == "zzz-manifest.json"
    named = discover_buildroot({**env, "VIGILES_MANIFEST_NAME": "rpi4-raspberrypi4_64"})
    assert named.manifest.name == "rpi4-raspberrypi4_64-manifest.json"


def test_generated_manifest_from_show_info(bare_tree: tuple[Path, dict[str, str]]) -> None:
    out, env = bare_tree
    found = discover_buildroot(env)
    assert found.kind == "vigiles-generated"
    assert found.manifest == out / "timesys-ci" / "rpi4-raspberrypi4_64-manifest.json"
    assert found.kernel_config == out / "build" / "linux-custom" / ".config"  # not linux-headers-*
    assert found.uboot_config == out / "build" / "uboot-2024.01" / ".config"
    text = found.manifest.read_text()
    assert text.endswith("}\n") and text.startswith('{\n    "arch"')  # indent 4, sorted keys
    data = json.loads(text)
    assert data["manifest_version"] == "1.23" and data["distro"] == "buildroot"
    assert data["distro_version"] == "2024.02.1" and data["machine"] == "raspberrypi4_64"
    assert (data["arch"], data["cpu"], data["hostname"], data["image"]) == ("aarch64", "cortex-a72", "rpi4", "rootfs")
    packages = data["packages"]
    # Target, non-virtual packages only.
    assert "host-gcc-final" not in packages and "toolchain" not in packages and "rootfs-ext2" not in packages
    assert {"busybox", "glibc", "linux", "uboot", "libopenssl", "libzlib", "kmod"} <= set(packages)
    busybox = packages["busybox"]
    assert busybox["patched_cves"] == {
        "CVE-2022-48174": ["0001-libbb-sockaddr2str-ensure-only-printable-characters.patch"],
        "CVE-2023-42363": ["0001-libbb-sockaddr2str-ensure-only-printable-characters.patch"],
    }
    assert busybox["patches"] == ["0001-libbb-sockaddr2str-ensure-only-printable-characters.patch",
                                  "0002-build-fix.patch"]
    assert busybox["download_location"] == "https://www.busybox.net/downloads/busybox-1.36.1.tar.bz2"
    assert busybox["ignore_cves"] == "CVE-2022-28391" and "CVE-2022-28391" in data["whitelist"]
    glibc = packages["glibc"]
    assert glibc["version"] == "2.40-18" and glibc["cve_version"] == "2.40"
    assert glibc["cpe_id"] == "cpe:2.3:a:gnu:glibc:2.40:*:*:*:*:*:*:*"
    linux = packages["linux"]
    assert linux["cve_product"] == "linux_kernel" and linux["version"] == "custom"
    assert linux["cve_version"] == "6.1.44-rt13"
    assert linux["cpe_id"] == "cpe:2.3:o:linux:linux_kernel:6.1.44-rt13:*:*:*:*:*:*:*"
    assert packages["uboot"]["cve_product"] == "u-boot"
    assert packages["libopenssl"]["cve_product"] == "openssl"
    assert packages["kmod"]["dependencies"] == {"build": ["libzlib", "xz"]}  # host deps and virtuals left out
    assert "patched_cves" not in packages["xz"]  # empty fields dropped
    assert packages["skeleton-init-common"]["cpe_id"] == "UNKNOWN"
    assert packages["skeleton-init-common"]["version"] == "unset" and packages["skeleton-init-common"]["license"] == "unknown"


def fake_make(tmp_path: Path, script: str) -> Path:
    """A `make` stand-in running `script`; returns the directory to put first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "make").write_text("#!/bin/sh\n" + script)
    (bin_dir / "make").chmod(0o755)
    return bin_dir


def test_show_info_through_make(bare_tree: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """Without a saved show-info, the out-of-tree wrapper Makefile is asked, with the parent's MAKEFLAGS removed."""
    out, env = bare_tree
    del env["TIMESYS_CI_SHOW_INFO"]
    (out / "Makefile").write_text("# generated by Buildroot\n")
    record = tmp_path / "make-argv"
    bin_dir = fake_make(tmp_path, f"printf '%s\\n' \"$@\" \"MAKEFLAGS=${{MAKEFLAGS:-}}\" > '{record}'\n"
                                  "echo 'make[1]: chatter'\n"
                                  f"cat '{fixture('show-info.json')}'\n")
    env.update({"PATH": f"{bin_dir}:{os.environ['PATH']}", "MAKEFLAGS": "-j8 --jobserver-auth=3,4"})
    found = discover_buildroot(env)
    assert found.kind == "vigiles-generated" and "busybox" in json.loads(found.manifest.read_text())["packages"]
    argv = record.read_text().splitlines()
    assert argv == ["--no-print-directory", "-s", "-C", str(out), "show-info", "MAKEFLAGS="]


def test_make_failure_is_one_line(bare_tree: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    out, env = bare_tree
    del env["TIMESYS_CI_SHOW_INFO"]
    (out / "Makefile").write_text("")
    bin_dir = fake_make(tmp_path, "echo 'first' >&2\necho '*** No rule to make target show-info' >&2\nexit 2\n")
    with pytest.raises(DiscoveryError, match=r"failed with exit 2: \*\*\* No rule to make target show-info$"):
        discover_buildroot({**env, "PATH": f"{bin_dir}:{os.environ['PATH']}"})


def test_no_manifest_no_make_names_remedy(bare_tree: tuple[Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    _, env = bare_tree
    del env["TIMESYS_CI_SHOW_INFO"]
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DiscoveryError, match="TIMESYS_CI_SHOW_INFO"):
        discover_buildroot(env)


def test_bad_show_info_json(bare_tree: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    _, env = bare_tree
    bad = tmp_path / "show.json"
    bad.write_text('["not", "an", "object"]')
    with pytest.raises(SettingError, match=r"show.json: show-info must be an object"):
        discover_buildroot({**env, "TIMESYS_CI_SHOW_INFO": str(bad)})
    bad.write_text("{")
    with pytest.raises(SettingError, match="not valid show-info JSON"):
        load_show_info(bad)


def test_missing_environment_and_files(tmp_path: Path) -> None:
    with pytest.raises(SettingError, match="BASE_DIR/O/BR2_CONFIG"):
        discover_buildroot({})
    with pytest.raises(DiscoveryError, match="output directory not found"):
        discover_buildroot({"O": str(tmp_path / "nope")})
    with pytest.raises(SettingError, match="BR2_CONFIG: file not found"):
        discover_buildroot({"BASE_DIR": str(tmp_path), "BR2_CONFIG": str(tmp_path / "missing.config")})


def test_config_settings_from_dot_config(bare_tree: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    _, env = bare_tree
    config = Path(env["BR2_CONFIG"])
    text = config.read_text().replace("VIGILES_ENABLE_UBOOT_CONFIG=y", "# VIGILES_ENABLE_UBOOT_CONFIG is not set")
    own = tmp_path / "kernel.config"
    own.write_text("CONFIG_X=y\n")
    text = text.replace('BR2_EXTERNAL_VIGILES_KERNEL_CONFIG="auto"', f'BR2_EXTERNAL_VIGILES_KERNEL_CONFIG="{own}"')
    config.write_text(text)
    found = discover_buildroot(env)
    assert found.kernel_config == own and found.uboot_config is None
    assert discover_buildroot({**env, "VIGILES_UBOOT_CONFIG": "auto"}).uboot_config is not None
    config.write_text(text.replace(str(own), str(tmp_path / "absent")))
    with pytest.raises(DiscoveryError, match="BR2_EXTERNAL_VIGILES_KERNEL_CONFIG: config file not found"):
        discover_buildroot(env)


def test_upload_args_and_env(bare_tree: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    out, env = bare_tree
    env.update({"TIMESYS_CI_FAIL_ON": "high", "TIMESYS_CI_SARIF": "v.sarif"})
    args = buildroot_upload_args(env)
    assert args == [
        str(out / "timesys-ci" / "rpi4-raspberrypi4_64-manifest.json"),
        "--kernel-config", str(out / "build" / "linux-custom" / ".config"),
        "--uboot-config", str(out / "build" / "uboot-2024.01" / ".config"),
        "--subfolder-name", "nightly",
        "--fail-on", "high",
        "--sarif", "v.sarif",
    ]
    # Default key path from .config ($(HOME)/timesys/linuxlink_key) only counts once the file exists.
    assert buildroot_upload_env(env) == {}
    key = Path(env["HOME"]) / "timesys" / "linuxlink_key"
    key.write_text('{"email": "a@b", "key": "k"}')
    assert buildroot_upload_env(env) == {"VIGILES_KEY_FILE": str(key)}
    dash = tmp_path / "dash.json"
    dash.write_text("{}")
    assert buildroot_upload_env({**env, "VIGILES_DASHBOARD_CONFIG": str(dash)})["VIGILES_DASHBOARD_CONFIG"] == str(dash)
    config = Path(env["BR2_CONFIG"])
    config.write_text(config.read_text() + "BR2_EXTERNAL_VIGILES_UPLOAD_ONLY=y\nBR2_EXTERNAL_VIGILES_MANIFEST_NAME=\"gw\"\n")
    args = buildroot_upload_args(env)
    assert "--upload-only" in args and args[args.index("--manifest-name") + 1] == "gw"
    assert args[0].endswith("/timesys-ci/gw-manifest.json")
    assert "--upload-only" not in buildroot_upload_args({**env, "VIGILES_UPLOAD_ONLY": "no"})


def test_generated_manifest_written_atomically_no_leftovers(bare_tree: tuple[Path, dict[str, str]]) -> None:
    out, env = bare_tree
    discover_buildroot(env)
    discover_buildroot(env)
    assert sorted(p.name for p in (out / "timesys-ci").iterdir()) == ["rpi4-raspberrypi4_64-manifest.json"]
    assert stat.S_ISREG((out / "timesys-ci" / "rpi4-raspberrypi4_64-manifest.json").stat().st_mode)


def test_helpers() -> None:
    assert clean_version("2.40-18-g5641780762723156b0d20a0b9f7df1d76831bab0") == "2.40-18"
    assert clean_version("") == "unset"
    assert cpe_fields("cpe:2.3:a:x\\:y:p:1:*:*:*:*:*:*:*")[3] == "x\\:y"
    assert cpe_fields("cpe:/a:openssl:openssl") is None
    assert makefile_version(fixture("linux-Makefile").parent / "nowhere") is None
    config = BuildrootConfig.read(fixture("buildroot.config"))
    assert config.version == "2024.02.1" and config.get("BR2_PACKAGE_DROPBEAR") is None
    assert config.get("BR2_ROOTFS_POST_IMAGE_SCRIPT").endswith("/post-image.sh")


def test_manifest_name_default_without_defconfig() -> None:
    config = BuildrootConfig({"BR2_ARCH": "arm"}, "2023.02")
    data = build_manifest({}, config, base_dir=Path("/nonexistent"))
    assert data["manifest_name"] == "buildroot-arm" and data["packages"] == {} and "whitelist" not in data

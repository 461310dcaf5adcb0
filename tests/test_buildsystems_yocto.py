from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from .buildsystems_support import IMAGE, fixture, make_meta_timesys_tree, make_spdx_tree
from timesys_ci.buildsystems import DiscoveryError, SettingError
from timesys_ci.buildsystems.yocto import discover_yocto, yocto_upload_args


def test_meta_timesys_link_and_config_links(tmp_path: Path) -> None:
    vdir = make_meta_timesys_tree(tmp_path)
    found = discover_yocto(tmp_path, IMAGE, {})
    assert found.kind == "vigiles"
    assert found.manifest == vdir / f"{IMAGE}-cve.json" and found.manifest.is_symlink()
    assert found.kernel_config == vdir / "linux-yocto-6.6.21.config"
    assert found.uboot_config == vdir / "u-boot-2024.01.config"
    assert "CONFIG_BT=y" in found.kernel_config.read_text()


def test_newest_timestamped_manifest_when_link_missing(tmp_path: Path) -> None:
    vdir = make_meta_timesys_tree(tmp_path, link=False,
                                  stamps=("2025-07-14_09.12.44", "2025-12-01_08.00.00", "2025-09-30_23.59.59"))
    found = discover_yocto(tmp_path, IMAGE, {})
    assert found.manifest == vdir / IMAGE / f"{IMAGE}-2025-12-01_08.00.00-cve.json"


def test_dangling_link_falls_back_to_timestamped(tmp_path: Path) -> None:
    vdir = make_meta_timesys_tree(tmp_path, link=False)
    os.symlink("core-image-minimal/gone-cve.json", vdir / f"{IMAGE}-cve.json")
    assert discover_yocto(tmp_path, IMAGE, {}).manifest.parent == vdir / IMAGE


def test_vigiles_dir_under_tmpdir_and_env_override(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    make_meta_timesys_tree(build, vigiles_dir=build / "tmp" / "vigiles")
    assert discover_yocto(build, IMAGE, {}).manifest.parent == build / "tmp" / "vigiles"
    elsewhere = tmp_path / "shared-vigiles"
    make_meta_timesys_tree(build, vigiles_dir=elsewhere)
    assert discover_yocto(build, IMAGE, {"VIGILES_DIR": str(elsewhere)}).manifest.parent == elsewhere
    custom_tmp = tmp_path / "tmp-glibc"
    make_meta_timesys_tree(tmp_path / "b2", vigiles_dir=custom_tmp / "vigiles")
    assert discover_yocto(tmp_path / "b2", IMAGE, {}, tmpdir=custom_tmp).manifest.parent == custom_tmp / "vigiles"


def test_manifest_name_setting_selects_link(tmp_path: Path) -> None:
    vdir = make_meta_timesys_tree(tmp_path)
    env = {"VIGILES_MANIFEST_NAME": "product-x"}
    with pytest.raises(DiscoveryError, match="product-x-cve.json"):
        discover_yocto(tmp_path, IMAGE, env)
    os.symlink(os.readlink(vdir / f"{IMAGE}-cve.json"), vdir / "product-x-cve.json")
    assert discover_yocto(tmp_path, IMAGE, env).manifest.name == "product-x-cve.json"


def test_config_links_matched_through_manifest_not_name(tmp_path: Path) -> None:
    """A custom kernel recipe name is recognised because the manifest says its cve_product is linux_kernel."""
    vdir = make_meta_timesys_tree(tmp_path)
    os.rename(vdir / "linux-yocto-6.6.21.config", vdir / "kernel-acme-6.6.21.config")
    manifest = (vdir / f"{IMAGE}-cve.json").resolve()
    manifest.write_text(manifest.read_text().replace('"linux-yocto": {', '"kernel-acme": {'))
    assert discover_yocto(tmp_path, IMAGE, {}).kernel_config == vdir / "kernel-acme-6.6.21.config"


def test_stale_kernel_link_loses_to_the_one_in_the_manifest(tmp_path: Path) -> None:
    vdir = make_meta_timesys_tree(tmp_path)
    stale = vdir / "linux-yocto-6.1.80.config"
    stale.write_text("CONFIG_OLD=y\n")
    future = time.time() + 100
    os.utime(stale, (future, future))
    assert discover_yocto(tmp_path, IMAGE, {}).kernel_config == vdir / "linux-yocto-6.6.21.config"


def test_kernel_and_uboot_config_settings(tmp_path: Path) -> None:
    make_meta_timesys_tree(tmp_path)
    own = tmp_path / "my.config"
    own.write_text("CONFIG_X=y\n")
    found = discover_yocto(tmp_path, IMAGE, {"VIGILES_KERNEL_CONFIG": str(own), "VIGILES_UBOOT_CONFIG": ""})
    assert found.kernel_config == own and found.uboot_config is None
    assert discover_yocto(tmp_path, IMAGE, {"VIGILES_KERNEL_CONFIG": "auto"}).kernel_config is not None
    with pytest.raises(DiscoveryError, match=r"VIGILES_UBOOT_CONFIG: config file not found: .*nope"):
        discover_yocto(tmp_path, IMAGE, {"VIGILES_UBOOT_CONFIG": str(tmp_path / "nope")})


def test_spdx_only_tree(tmp_path: Path) -> None:
    deploy = make_spdx_tree(tmp_path)
    found = discover_yocto(tmp_path, IMAGE, {})
    assert found.kind == "spdx"
    assert found.manifest == deploy / f"{IMAGE}-qemux86-64.rootfs.spdx.json"
    assert found.kernel_config is None and found.uboot_config is None


def test_spdx_archive_scarthgap(tmp_path: Path) -> None:
    deploy = tmp_path / "tmp" / "deploy" / "images" / "beaglebone-yocto"
    deploy.mkdir(parents=True)
    archive = deploy / f"{IMAGE}-beaglebone-yocto.rootfs.spdx.tar.zst"
    archive.write_bytes(b"(\xb5/\xfd")
    (deploy / "core-image-sato-beaglebone-yocto.rootfs.spdx.tar.zst").write_bytes(b"x")
    assert discover_yocto(tmp_path, IMAGE, {}).manifest == archive
    gz_dir = tmp_path / "deploy-elsewhere"
    gz_dir.mkdir()
    gz = gz_dir / f"{IMAGE}.spdx.tar.gz"
    gz.write_bytes(b"\x1f\x8b")
    assert discover_yocto(tmp_path, IMAGE, {"DEPLOY_DIR_IMAGE": str(gz_dir)}).manifest == gz


def test_spdx_json_preferred_and_machine_narrows(tmp_path: Path) -> None:
    make_spdx_tree(tmp_path, "qemux86-64")
    other = make_spdx_tree(tmp_path, "qemuarm64")
    (other / f"{IMAGE}-qemuarm64.rootfs.spdx.tar.zst").write_bytes(b"x")
    assert discover_yocto(tmp_path, IMAGE, {}, machine="qemuarm64").manifest.parent == other
    assert discover_yocto(tmp_path, IMAGE, {"MACHINE": "qemuarm64"}).manifest.name.endswith(".spdx.json")


def test_vigiles_manifest_preferred_over_spdx(tmp_path: Path) -> None:
    make_spdx_tree(tmp_path)
    make_meta_timesys_tree(tmp_path)
    assert discover_yocto(tmp_path, IMAGE, {}).kind == "vigiles"


def test_nothing_found_lists_places(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError) as err:
        discover_yocto(tmp_path, IMAGE, {})
    message = str(err.value)
    assert "\n" not in message
    assert f"{tmp_path}/vigiles/{IMAGE}-cve.json" in message
    assert f"{tmp_path}/tmp/vigiles/{IMAGE}-cve.json" in message
    assert f"{tmp_path}/tmp/deploy/images/<machine>" in message


def test_missing_build_dir_and_manifest(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError, match="--build-dir: not a directory"):
        discover_yocto(tmp_path / "absent", IMAGE, {})
    with pytest.raises(DiscoveryError, match="--manifest: file not found"):
        discover_yocto(tmp_path, IMAGE, {}, manifest=tmp_path / "x-cve.json")


def test_explicit_manifest_still_gets_configs(tmp_path: Path) -> None:
    vdir = make_meta_timesys_tree(tmp_path)
    chosen = next((vdir / IMAGE).glob("*-cve.json"))
    found = discover_yocto(tmp_path, IMAGE, {}, manifest=chosen)
    assert found.manifest == chosen and found.kernel_config == vdir / "linux-yocto-6.6.21.config"


def test_upload_args_from_meta_timesys_and_gate_env(tmp_path: Path) -> None:
    vdir = make_meta_timesys_tree(tmp_path)
    env = {
        "VIGILES_KEY_FILE": "/secret/key.json",
        "VIGILES_DASHBOARD_CONFIG": "/secret/dash.json",
        "VIGILES_SUBFOLDER_NAME": "nightly",
        "VIGILES_MANIFEST_NAME": IMAGE,
        "VIGILES_UPLOAD_ONLY": "1",
        "TIMESYS_CI_FAIL_ON": "high",
        "TIMESYS_CI_POLICY": "policy.toml",
        "TIMESYS_CI_SARIF": "out/v.sarif",
        "TIMESYS_CI_JSON": "out/v.json",
        "TIMESYS_CI_NEW_ONLY": "yes",
        "TIMESYS_CI_BASELINE": "RPT123",
        "TIMESYS_CI_ON_FAILURE": "warn",
    }
    args = yocto_upload_args(tmp_path, IMAGE, env)
    assert args == [
        str(vdir / f"{IMAGE}-cve.json"),
        "--kernel-config", str(vdir / "linux-yocto-6.6.21.config"),
        "--uboot-config", str(vdir / "u-boot-2024.01.config"),
        "--manifest-name", IMAGE,
        "--subfolder-name", "nightly",
        "--upload-only",
        "--fail-on", "high",
        "--policy", "policy.toml",
        "--baseline", "RPT123",
        "--sarif", "out/v.sarif",
        "--json", "out/v.json",
        "--new-only",
        "--on-service-error", "warn",
    ]
    assert not any("secret" in a for a in args)  # key/dashboard reach upload through its env, not argv


def test_upload_args_minimal_and_explicit_service_error(tmp_path: Path) -> None:
    make_meta_timesys_tree(tmp_path)
    args = yocto_upload_args(tmp_path, IMAGE, {"VIGILES_UPLOAD_ONLY": "0", "TIMESYS_CI_ON_SERVICE_ERROR": "fail",
                                                "TIMESYS_CI_ON_FAILURE": "warn", "TIMESYS_CI_LOCAL": "true"})
    assert "--upload-only" not in args
    assert args.count("--on-service-error") == 1 and "--local" in args
    assert args[args.index("--on-service-error") + 1] == "fail"


@pytest.mark.parametrize("name,value", [("VIGILES_UPLOAD_ONLY", "maybe"), ("TIMESYS_CI_NEW_ONLY", "2"),
                                        ("TIMESYS_CI_ON_FAILURE", "ignore")])
def test_bad_settings_are_named(tmp_path: Path, name: str, value: str) -> None:
    make_meta_timesys_tree(tmp_path)
    with pytest.raises(SettingError, match=name):
        yocto_upload_args(tmp_path, IMAGE, {name: value})


def test_fixture_manifest_is_meta_timesys_shaped() -> None:
    import json

    data = json.loads(fixture("meta-timesys-core-image-minimal-cve.json").read_text())
    assert data["manifest_version"] == "1.19" and isinstance(data["packages"]["busybox"]["cpe_id"], list)

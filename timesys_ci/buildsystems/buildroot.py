"""Find what vigiles-buildroot wrote in a Buildroot output tree, or generate a manifest.

Inputs are the variables Buildroot exports to post-build/post-image scripts
(`BR2_CONFIG`, `BASE_DIR`, `BUILD_DIR`, `BINARIES_DIR`, ...) plus `O`. Settings a
vigiles-buildroot user already has live in the `.config` at `BR2_CONFIG`
(`BR2_EXTERNAL_VIGILES_*`); environment variables of the same meaning win.
"""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from timesys_ci.buildsystems import KERNEL_BUILD_DIR_ENV, KERNEL_SOURCE_DIR_ENV, BuildArtifacts, DiscoveryError, \
    KernelTree, SettingError, explicit_kernel_dir
from timesys_ci.buildsystems.br_manifest import build_manifest, check_show_info, load_show_info, manifest_text
from timesys_ci.buildsystems.envargs import add_gate_settings, env_value, parse_flag, start_options
from timesys_ci.buildsystems.files import write_text_atomic
from timesys_ci.buildsystems.kconfig import BuildrootConfig, expand_make_vars
from timesys_ci.job.arguments import UploadRequest, upload_argv

GENERATED_DIR = "timesys-ci"
# linux-* build directories that are not the kernel.
_NOT_KERNEL_PREFIXES = ("linux-headers-", "linux-firmware-", "linux-tools-", "linux-pam-", "linux-backports-")
# Make variables of the calling Buildroot make that must not leak into a nested `make show-info`.
_PARENT_MAKE_VARS = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")


@dataclass(frozen=True)
class BuildrootTree:
    output_dir: Path
    build_dir: Path
    config: BuildrootConfig

    def setting(self, env: Mapping[str, str], env_name: str, config_name: str) -> Optional[str]:
        """Environment first, then the `.config` value with `$(VAR)` expanded like make would."""
        if env_value(env, env_name):
            return env_value(env, env_name)
        value = self.config.get(config_name)
        return expand_make_vars(value, env) if value else None


def buildroot_tree(env: Mapping[str, str]) -> BuildrootTree:
    """Locate the output tree from the post-image environment."""
    config_path = env_value(env, "BR2_CONFIG")
    output = env_value(env, "O") or env_value(env, "BASE_DIR") or (str(Path(config_path).parent) if config_path else None)
    if not output:
        raise SettingError("BASE_DIR/O/BR2_CONFIG: none set; run from a Buildroot post-image script or set O")
    output_dir = Path(output)
    if not output_dir.is_dir():
        raise DiscoveryError(f"Buildroot output directory not found: {output_dir}")
    config_file = Path(config_path) if config_path else output_dir / ".config"
    config = BuildrootConfig.read(config_file) if config_file.is_file() else BuildrootConfig({})
    if config_path and not config_file.is_file():
        raise SettingError(f"BR2_CONFIG: file not found: {config_file}")
    build_dir = Path(env_value(env, "BUILD_DIR") or output_dir / "build")
    return BuildrootTree(output_dir, build_dir, config)


def vigiles_output_dir(tree: BuildrootTree, env: Mapping[str, str]) -> Path:
    custom = tree.setting(env, "VIGILES_OUTPUT_DIR", "BR2_EXTERNAL_VIGILES_OUTPUT")
    return Path(custom) if custom else tree.output_dir / "vigiles"


def manifest_name_setting(tree: BuildrootTree, env: Mapping[str, str]) -> Optional[str]:
    return tree.setting(env, "VIGILES_MANIFEST_NAME", "BR2_EXTERNAL_VIGILES_MANIFEST_NAME")


def find_buildroot_manifest(vigiles_dir: Path, name: Optional[str], searched: list[str]) -> Optional[Path]:
    """`<name>-manifest.json` when the name is known, else the newest `*-manifest.json` (older tools: `*-cve.json`)."""
    patterns = ([f"{name}-manifest.json"] if name else []) + ["*-manifest.json", "*-cve.json"]
    for pattern in patterns:
        searched.append(str(vigiles_dir / pattern))
        hits = [p for p in vigiles_dir.glob(pattern) if p.is_file()] if vigiles_dir.is_dir() else []
        if hits:
            return max(hits, key=lambda p: p.stat().st_mtime)
    return None


def _newest(paths: list[Path]) -> Optional[Path]:
    existing = [p for p in paths if p.is_file()]
    return max(existing, key=lambda p: p.stat().st_mtime) if existing else None


def _kernel_build_dirs(tree: BuildrootTree) -> list[Path]:
    """`$(O)/build/linux-<version>` (or `linux-custom`): where Buildroot builds the kernel, in-tree."""
    return [d for d in tree.build_dir.glob("linux-*") if not d.name.startswith(_NOT_KERNEL_PREFIXES) and d.is_dir()]


def find_kernel_config(tree: BuildrootTree, vigiles_dir: Path) -> Optional[Path]:
    in_vigiles = _newest(list(vigiles_dir.glob("linux-*.config"))) if vigiles_dir.is_dir() else None
    if in_vigiles:
        return in_vigiles
    return _newest([d / ".config" for d in _kernel_build_dirs(tree)])


def find_buildroot_kernel(env: Mapping[str, str]) -> KernelTree:
    """The kernel build directory under `$(O)/build/linux-*`; Buildroot builds in the source tree, so it is
    both. `TIMESYS_CI_KERNEL_BUILD_DIR` / `TIMESYS_CI_KERNEL_SOURCE_DIR` win."""
    tree = buildroot_tree(env)
    build = explicit_kernel_dir(env, KERNEL_BUILD_DIR_ENV)
    source = explicit_kernel_dir(env, KERNEL_SOURCE_DIR_ENV)
    if build is None:
        configured = [d / ".config" for d in _kernel_build_dirs(tree)]
        newest = _newest(configured)
        build = newest.parent if newest else None
        source = source or build
    config = build / ".config" if build is not None and (build / ".config").is_file() else None
    return KernelTree(build, source, config)


def find_uboot_config(tree: BuildrootTree, vigiles_dir: Path) -> Optional[Path]:
    in_vigiles = _newest(list(vigiles_dir.glob("uboot-*.config"))) if vigiles_dir.is_dir() else None
    if in_vigiles:
        return in_vigiles
    return _newest([d / ".config" for d in tree.build_dir.glob("uboot-*")])


def _config_choice(tree: BuildrootTree, env: Mapping[str, str], role: str, found: Optional[Path]) -> Optional[Path]:
    """vigiles-buildroot semantics: 'auto' finds it, '' / 'none' disables, a path must exist."""
    env_name, config_name, enable = {
        "kernel": ("VIGILES_KERNEL_CONFIG", "BR2_EXTERNAL_VIGILES_KERNEL_CONFIG", "VIGILES_ENABLE_KERNEL_CONFIG"),
        "uboot": ("VIGILES_UBOOT_CONFIG", "BR2_EXTERNAL_VIGILES_UBOOT_CONFIG", "VIGILES_ENABLE_UBOOT_CONFIG"),
    }[role]
    if env_name in env:
        value: Optional[str] = env[env_name].strip()
    elif tree.config.enabled("BR2_EXTERNAL_TIMESYS_VIGILES") and not tree.config.enabled(enable):
        return None  # the user switched config filtering off in menuconfig
    else:
        value = tree.setting(env, env_name, config_name) or "auto"
    if value is None or value.lower() == "auto":
        return found
    if value.lower() in ("", "none"):
        return None
    path = Path(expand_make_vars(value, env))
    if not path.is_file():
        raise DiscoveryError(f"{env_name if env_name in env else config_name}: config file not found: {path}")
    return path


def show_info_json(tree: BuildrootTree, env: Mapping[str, str]) -> dict:
    """`make show-info` for this output tree, or the file named by TIMESYS_CI_SHOW_INFO."""
    given = env_value(env, "TIMESYS_CI_SHOW_INFO")
    if given:
        return load_show_info(Path(given))
    if (tree.output_dir / "Makefile").is_file():  # out-of-tree O= builds get a wrapper Makefile
        command = ["make", "--no-print-directory", "-s", "-C", str(tree.output_dir), "show-info"]
    elif (Path.cwd() / "Makefile").is_file() and (Path.cwd() / "package").is_dir():
        command = ["make", "--no-print-directory", "-s", f"O={tree.output_dir}", "show-info"]
    else:
        raise DiscoveryError(
            f"no vigiles manifest and cannot run 'make show-info' (no {tree.output_dir / 'Makefile'}, "
            "not in a Buildroot tree); set TIMESYS_CI_SHOW_INFO to a saved show-info JSON"
        )
    child_env = {k: v for k, v in os.environ.items() if k not in _PARENT_MAKE_VARS}
    child_env.update({k: v for k, v in env.items() if k not in _PARENT_MAKE_VARS})
    result = subprocess.run(command, capture_output=True, text=True, env=child_env, check=False)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise DiscoveryError(f"'{' '.join(command)}' failed with exit {result.returncode}: {last}")
    try:
        return check_show_info(_json_object_in(result.stdout), "make show-info")
    except ValueError as exc:
        raise SettingError(f"make show-info: output is not JSON: {exc}") from exc


def _json_object_in(text: str) -> object:
    """show-info prints one JSON line; tolerate make chatter around it."""
    import json

    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in output")
    return json.JSONDecoder().raw_decode(text[start:])[0]


def generate_manifest(tree: BuildrootTree, env: Mapping[str, str]) -> Path:
    manifest = build_manifest(show_info_json(tree, env), tree.config, base_dir=tree.output_dir,
                              name=manifest_name_setting(tree, env))
    path = tree.output_dir / GENERATED_DIR / f"{manifest['manifest_name']}-manifest.json"
    write_text_atomic(path, manifest_text(manifest))
    return path


def discover_buildroot(env: Mapping[str, str]) -> BuildArtifacts:
    tree = buildroot_tree(env)
    vigiles_dir = vigiles_output_dir(tree, env)
    searched: list[str] = []
    manifest = find_buildroot_manifest(vigiles_dir, manifest_name_setting(tree, env), searched)
    kind = "vigiles"
    if manifest is None:
        manifest = generate_manifest(tree, env)
        kind = "vigiles-generated"
    kernel = _config_choice(tree, env, "kernel", find_kernel_config(tree, vigiles_dir))
    uboot = _config_choice(tree, env, "uboot", find_uboot_config(tree, vigiles_dir))
    return BuildArtifacts(manifest, kernel, uboot, kind)  # type: ignore[arg-type]


def buildroot_upload_options(env: Mapping[str, str]) -> UploadRequest:
    """Discovery plus vigiles-buildroot (.config / VIGILES_*) and TIMESYS_CI_* settings."""
    artifacts = discover_buildroot(env)
    tree = buildroot_tree(env)
    options = start_options(artifacts)
    options.manifest_name = manifest_name_setting(tree, env)
    options.subfolder_name = tree.setting(env, "VIGILES_SUBFOLDER_NAME", "BR2_EXTERNAL_VIGILES_SUBFOLDER_NAME")
    upload_only = env.get("VIGILES_UPLOAD_ONLY")
    options.upload_only = (parse_flag(upload_only, "VIGILES_UPLOAD_ONLY") if upload_only is not None
                           else tree.config.enabled("BR2_EXTERNAL_VIGILES_UPLOAD_ONLY"))
    add_gate_settings(options, env)
    return options


def buildroot_upload_args(env: Mapping[str, str]) -> list[str]:
    """`buildroot_upload_options` as upload arguments."""
    return upload_argv(buildroot_upload_options(env))


def buildroot_upload_env(env: Mapping[str, str]) -> dict[str, str]:
    """Key file and dashboard config paths from `.config`, for the upload's environment.

    Only paths that exist are passed: vigiles-buildroot's default key path
    (`$(HOME)/timesys/linuxlink_key`) is set even when the user has no key.
    """
    tree = buildroot_tree(env)
    extra: dict[str, str] = {}
    key_file = tree.setting(env, "VIGILES_KEY_FILE", "BR2_EXTERNAL_VIGILES_KEY_FILE")
    if key_file and Path(key_file).is_file():
        extra["VIGILES_KEY_FILE"] = key_file
    dashboard_enabled = "VIGILES_DASHBOARD_CONFIG" in env or tree.config.enabled("VIGILES_ENABLE_DASHBOARD_CONFIG")
    dashboard = tree.setting(env, "VIGILES_DASHBOARD_CONFIG", "BR2_EXTERNAL_VIGILES_DASHBOARD_CONFIG")
    if dashboard_enabled and dashboard and Path(dashboard).is_file():
        extra["VIGILES_DASHBOARD_CONFIG"] = dashboard
    return extra

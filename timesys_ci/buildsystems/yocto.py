"""Find what meta-timesys (or Yocto's own create-spdx) wrote for an image.

meta-timesys layout (classes/vigiles.bbclass):
  <VIGILES_DIR>/<name>-cve.json                      link to the newest manifest
  <VIGILES_DIR>/<name>/<name>-<YYYY-MM-DD_HH.MM.SS>-cve.json
  <VIGILES_DIR>/<kernel-pn>-<cve_version>.config     link into <VIGILES_DIR>/kconfig/
  <VIGILES_DIR>/<uboot-pn>-<cve_version>.config
`VIGILES_DIR` defaults to `${TOPDIR}/vigiles` in current meta-timesys; older set-ups
keep it under `${TMPDIR}`, so both are searched. Without a Vigiles manifest we fall
back to create-spdx output in `<DEPLOY_DIR>/images/<machine>/`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Optional

from timesys_ci.buildsystems import KERNEL_BUILD_DIR_ENV, KERNEL_SOURCE_DIR_ENV, BuildArtifacts, DiscoveryError, \
    KernelTree, explicit_kernel_dir, searched_message
from timesys_ci.buildsystems.envargs import add_gate_settings, env_flag, env_value, start_options
from timesys_ci.job.arguments import UploadRequest, upload_argv
from timesys_ci.scope import package_scope

MANIFEST_SUFFIX = "-cve.json"
SPDX_SUFFIXES: tuple[str, ...] = (".spdx.json", ".spdx.tar.zst", ".spdx.tar.gz")
_CONFIG_DISABLED = ("", "none")


def vigiles_dirs(build_dir: Path, env: Mapping[str, str], tmpdir: Optional[Path] = None) -> list[Path]:
    """An explicit VIGILES_DIR wins; otherwise meta-timesys's current and older defaults."""
    explicit = env_value(env, "VIGILES_DIR")
    if explicit:
        return [Path(explicit)]
    return [build_dir / "vigiles", (tmpdir or build_dir / "tmp") / "vigiles"]


def manifest_name(image: str, env: Mapping[str, str]) -> str:
    """meta-timesys names files after VIGILES_MANIFEST_NAME (default IMAGE_BASENAME), cut to 256 chars."""
    return (env_value(env, "VIGILES_MANIFEST_NAME") or image)[:256]


def find_vigiles_manifest(vigiles_dir: Path, name: str, searched: list[str]) -> Optional[Path]:
    """The `<name>-cve.json` link, else the newest timestamped manifest in `<name>/`."""
    link = vigiles_dir / f"{name[:256 - len(MANIFEST_SUFFIX) - 1]}{MANIFEST_SUFFIX}"
    searched.append(str(link))
    if link.is_file():  # follows the symlink; a dangling link falls through
        return link
    image_dir = vigiles_dir / name[:255]
    searched.append(str(image_dir / f"{name}-<timestamp>{MANIFEST_SUFFIX}"))
    # The timestamp format sorts chronologically as text, which is steadier than mtimes.
    stamped = sorted(image_dir.glob(f"{name}-*{MANIFEST_SUFFIX}")) if image_dir.is_dir() else []
    return stamped[-1] if stamped else None


def _config_roles_from_manifest(manifest: Path) -> dict[str, str]:
    """Map `<pkg>-<cve_version>` (the config link stem) to 'kernel' or 'uboot' using the manifest."""
    try:
        packages = json.loads(manifest.read_text(encoding="utf-8")).get("packages", {})
    except (OSError, ValueError, AttributeError):
        return {}  # the upload command reports a broken manifest properly
    roles: dict[str, str] = {}
    if not isinstance(packages, dict):
        return roles
    for key, pkg in packages.items():
        if not isinstance(pkg, dict):
            continue
        product = str(pkg.get("cve_product", ""))
        stem = f"{key}-{pkg.get('cve_version') or pkg.get('version', '')}"
        if "u-boot" in product.split() or key.startswith(("u-boot", "uboot")):
            roles[stem] = "uboot"
        elif package_scope(key, product) == "kernel":
            roles[stem] = "kernel"
    return roles


def _role_by_name(stem: str) -> Optional[str]:
    if stem.startswith(("u-boot", "uboot")):
        return "uboot"
    if package_scope(stem.rsplit("-", 1)[0]) == "kernel":
        return "kernel"
    return None


def find_config_links(vigiles_dir: Path, manifest: Optional[Path]) -> dict[str, Path]:
    """Kernel/U-Boot `*.config` links next to the manifest; names matching the manifest win."""
    roles = _config_roles_from_manifest(manifest) if manifest else {}
    ranked: dict[str, tuple[tuple[int, float], Path]] = {}
    for link in vigiles_dir.glob("*.config") if vigiles_dir.is_dir() else []:
        if not link.is_file():
            continue
        stem = link.name[: -len(".config")]
        role = roles.get(stem) or _role_by_name(stem)
        if role is None:
            continue
        rank = (1 if stem in roles else 0, link.stat().st_mtime)
        if role not in ranked or rank > ranked[role][0]:
            ranked[role] = (rank, link)
    return {role: path for role, (_, path) in ranked.items()}


def configured_config(env: Mapping[str, str], name: str) -> "Optional[Path] | str":
    """VIGILES_KERNEL_CONFIG/VIGILES_UBOOT_CONFIG: 'auto' (or unset) → 'auto'; ''/'none' → None; else a file."""
    if name not in env:
        return "auto"
    value = env[name].strip().strip('"')
    if value.lower() == "auto":
        return "auto"
    if value.lower() in _CONFIG_DISABLED:
        return None
    path = Path(value)
    if not path.is_file():
        raise DiscoveryError(f"{name}: config file not found: {path}")
    return path


def deploy_image_dirs(build_dir: Path, env: Mapping[str, str], machine: Optional[str],
                      tmpdir: Optional[Path] = None) -> list[tuple[Path, Optional[str]]]:
    """Directories create-spdx deploys to, each with the machine its file names carry."""
    explicit_image_dir = env_value(env, "DEPLOY_DIR_IMAGE")
    if explicit_image_dir:
        return [(Path(explicit_image_dir), machine or Path(explicit_image_dir).name)]
    deploy = Path(env_value(env, "DEPLOY_DIR") or (tmpdir or build_dir / "tmp") / "deploy")
    images = deploy / "images"
    if machine:
        return [(images / machine, machine)]
    found = sorted(p for p in images.iterdir() if p.is_dir()) if images.is_dir() else []
    return [(p, p.name) for p in found] or [(images / "<machine>", None)]


def _spdx_rank(path: Path) -> tuple[int, int, float]:
    # SPDX 3 single documents first, then archives; the rootfs document over others; newest last wins.
    kind = next(i for i, suffix in enumerate(SPDX_SUFFIXES) if path.name.endswith(suffix))
    return (-kind, 1 if ".rootfs." in path.name else 0, path.stat().st_mtime)


def find_spdx(image_dirs: list[tuple[Path, Optional[str]]], image: str, searched: list[str]) -> Optional[Path]:
    """`<image>-<machine>*.spdx.json|.spdx.tar.zst|.spdx.tar.gz` (or `<image>.*`), not other images sharing the prefix."""
    candidates: list[Path] = []
    for directory, machine in image_dirs:
        prefixes = [f"{image}."] + ([f"{image}-{machine}"] if machine else [])
        searched.extend(f"{directory}/{prefix}*{suffix}" for prefix in prefixes for suffix in SPDX_SUFFIXES)
        if not directory.is_dir():
            continue
        for entry in directory.iterdir():
            if entry.name.startswith(tuple(prefixes)) and entry.name.endswith(SPDX_SUFFIXES) and entry.is_file():
                candidates.append(entry)
    return max(candidates, key=_spdx_rank) if candidates else None


def discover_yocto(build_dir: Path, image: str, env: Mapping[str, str], *, tmpdir: Optional[Path] = None,
                   machine: Optional[str] = None, manifest: Optional[Path] = None) -> BuildArtifacts:
    """Find the image's manifest and configs; raise DiscoveryError listing every place searched."""
    build_dir = Path(build_dir)
    if not build_dir.is_dir():
        raise DiscoveryError(f"--build-dir: not a directory: {build_dir}")
    dirs = vigiles_dirs(build_dir, env, tmpdir)
    searched: list[str] = []
    found_in: Optional[Path] = None
    if manifest is not None:
        if not Path(manifest).is_file():
            raise DiscoveryError(f"--manifest: file not found: {manifest}")
        found = Path(manifest)
    else:
        found = None
        for directory in dirs:
            found = find_vigiles_manifest(directory, manifest_name(image, env), searched)
            if found:
                found_in = directory
                break
    if found is None:
        spdx = find_spdx(deploy_image_dirs(build_dir, env, machine or env_value(env, "MACHINE"), tmpdir),
                         image, searched)
        if spdx is None:
            raise DiscoveryError(searched_message(f"Vigiles manifest or SPDX for image '{image}'", searched))
        return BuildArtifacts(spdx, *_configs(env, dirs, None), kind="spdx")
    kind = "spdx" if found.name.endswith(SPDX_SUFFIXES) else "vigiles"
    return BuildArtifacts(found, *_configs(env, [found_in] if found_in else dirs, found), kind=kind)


def _configs(env: Mapping[str, str], dirs: list[Path], manifest: Optional[Path]) -> tuple[Optional[Path], Optional[Path]]:
    links: dict[str, Path] = {}
    for directory in dirs:
        for role, path in find_config_links(directory, manifest).items():
            links.setdefault(role, path)
    chosen = []
    for role, name in (("kernel", "VIGILES_KERNEL_CONFIG"), ("uboot", "VIGILES_UBOOT_CONFIG")):
        setting = configured_config(env, name)
        chosen.append(links.get(role) if setting == "auto" else setting)
    return chosen[0], chosen[1]  # type: ignore[return-value]


# Recipes named linux-* that are not the kernel.
_NOT_KERNEL_RECIPES = ("linux-libc-headers", "linux-firmware", "linux-dummy")


def _newest_dir(candidates: list[Path]) -> Optional[Path]:
    existing = [path for path in candidates if path.is_dir()]
    return max(existing, key=lambda path: path.stat().st_mtime) if existing else None


def _machine_dirs(root: Path, machine: Optional[str]) -> list[Path]:
    """`<root>/<machine>` when the machine is known, else every machine directory there."""
    if machine:
        return [root / machine]
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def find_yocto_kernel(build_dir: Path, env: Mapping[str, str], *, tmpdir: Optional[Path] = None,
                      machine: Optional[str] = None) -> KernelTree:
    """The kernel's build directory (`B`), sources (`S`) and `.config`, where Yocto lays them out.

    * `B`: `tmp/work/<machine arch>/<kernel recipe>/<version>/linux-<machine>-<kernel type>-build`
      (gone after `rm_work`);
    * `S`: `tmp/work-shared/<machine>/kernel-source` (`STAGING_KERNEL_DIR`);
    * `.config`: in `B`, else `tmp/work-shared/<machine>/kernel-build-artifacts` (`STAGING_KERNEL_BUILDDIR`).

    `TIMESYS_CI_KERNEL_BUILD_DIR` / `TIMESYS_CI_KERNEL_SOURCE_DIR` (and the bitbake variables
    `STAGING_KERNEL_DIR` / `STAGING_KERNEL_BUILDDIR`, which the class passes) win over the search.
    """
    tmp = Path(tmpdir or Path(build_dir) / "tmp")  # not $TMPDIR: in a shell that is the system's temp dir
    machine = machine or env_value(env, "MACHINE")
    build = explicit_kernel_dir(env, KERNEL_BUILD_DIR_ENV)
    source = explicit_kernel_dir(env, KERNEL_SOURCE_DIR_ENV) or explicit_kernel_dir(env, "STAGING_KERNEL_DIR")
    artifacts = explicit_kernel_dir(env, "STAGING_KERNEL_BUILDDIR")
    shared = _machine_dirs(tmp / "work-shared", machine)
    source = source or _newest_dir([d / "kernel-source" for d in shared])
    artifacts = artifacts or _newest_dir([d / "kernel-build-artifacts" for d in shared])
    if build is None:
        # The work directory is named after the machine's package arch: qemux86-64 -> qemux86_64-poky-linux.
        arch = (machine or "").replace("-", "_")
        work = [d for d in (tmp / "work").glob(f"{arch}*" if arch else "*") if d.is_dir()] if (tmp / "work").is_dir() \
            else []
        builds = [b for d in work for recipe in d.glob("linux-*") if not recipe.name.startswith(_NOT_KERNEL_RECIPES)
                  for b in recipe.glob("*/linux-*-build") if (b / ".config").is_file()]
        build = _newest_dir(builds)
    config = next((d / ".config" for d in (build, artifacts) if d is not None and (d / ".config").is_file()), None)
    return KernelTree(build, source, config)


def yocto_upload_options(build_dir: "Path | str", image: str, env: Mapping[str, str], *,
                         tmpdir: Optional[Path] = None, machine: Optional[str] = None,
                         manifest: Optional[Path] = None) -> UploadRequest:
    """Discovery plus the meta-timesys (VIGILES_*) and TIMESYS_CI_* settings."""
    artifacts = discover_yocto(Path(build_dir), image, env, tmpdir=tmpdir, machine=machine, manifest=manifest)
    options = start_options(artifacts)
    options.manifest_name = env_value(env, "VIGILES_MANIFEST_NAME")
    options.subfolder_name = env_value(env, "VIGILES_SUBFOLDER_NAME")
    options.upload_only = env_flag(env, "VIGILES_UPLOAD_ONLY")
    add_gate_settings(options, env)
    return options


def yocto_upload_args(build_dir: "Path | str", image: str, env: Mapping[str, str], **where: Optional[Path]) -> list[str]:
    """`yocto_upload_options` as upload arguments."""
    return upload_argv(yocto_upload_options(build_dir, image, env, **where))

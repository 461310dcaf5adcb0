"""Build a Vigiles manifest (vigiles-buildroot flavour, manifest_version 1.23) from `make show-info`.

Used when a Buildroot build has no vigiles-buildroot manifest. The fields and their
sources follow the manifest format notes: version with any `-g<sha>` suffix cut,
CVE product/version from the package CPE, kernel/U-Boot versions from their
Makefiles when Buildroot only knows "custom", CVEs named in applied patches as
`patched_cves`, `ignore_cves` copied into the top-level whitelist, empty fields dropped.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
from pathlib import Path
from typing import Any, Mapping, Optional

from timesys_ci.buildsystems import SettingError
from timesys_ci.buildsystems.kconfig import BuildrootConfig, makefile_version

MANIFEST_VERSION = "1.23"
SUPPLIER = "Organization: Buildroot ()"
_GIT_SUFFIX = re.compile(r"-g[0-9a-fA-F]{40}$")
_CVE_ID = re.compile(r"CVE-\d{4}-\d+", re.IGNORECASE)
_CPE_SPLIT = re.compile(r"(?<!\\):")
_BACKUP_MIRROR = "sources.buildroot.net"
# Buildroot package keys whose CVE product is fixed by the generator.
_FIXED_PRODUCTS = {"linux": "linux_kernel", "uboot": "u-boot"}


def load_show_info(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingError(f"{path}: cannot read show-info JSON: {exc.strerror}") from exc
    except ValueError as exc:
        raise SettingError(f"{path}: not valid show-info JSON: {exc}") from exc
    return check_show_info(data, str(path))


def check_show_info(data: Any, source: str) -> dict[str, Any]:
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise SettingError(f"{source}: show-info must be an object of package name -> object")
    return data


def cpe_fields(cpe: Optional[str]) -> Optional[list[str]]:
    """The 13 fields of a CPE 2.3 formatted string, or None."""
    if not cpe or not cpe.startswith("cpe:2.3:"):
        return None
    fields = _CPE_SPLIT.split(cpe)
    return fields if len(fields) == 13 else None


def clean_version(version: str) -> str:
    return _GIT_SUFFIX.sub("", version.strip()) or "unset"


def patched_cves(build_dir: Path) -> tuple[dict[str, list[str]], list[str]]:
    """CVE ids in applied patches (Buildroot style: anywhere in the text or file name) and the patch names."""
    try:
        listed = (build_dir / ".applied_patches_list").read_text(encoding="utf-8").split()
    except OSError:
        return {}, []
    by_cve: dict[str, set[str]] = {}
    names: set[str] = set()
    for patch in listed:
        patch_path = Path(patch)
        names.add(patch_path.name)
        try:
            text = patch_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        for cve in _CVE_ID.findall(patch_path.name + "\n" + text):
            by_cve.setdefault(cve.upper(), set()).add(patch_path.name)
    return {cve: sorted(p) for cve, p in sorted(by_cve.items())}, sorted(names)


def download_location(info: Mapping[str, Any]) -> str:
    """First primary-site URI (method prefix removed) joined with the source file name."""
    for download in info.get("downloads") or []:
        source = str(download.get("source", ""))
        uris = [str(u).split("+", 1)[-1] for u in download.get("uris") or []]
        uris.sort(key=lambda u: _BACKUP_MIRROR in u)  # the backup mirror only if nothing else
        for uri in uris:
            uri = uri.split("|", 1)[0].rstrip("/")
            if uri:
                return f"{uri}/{source}" if source and not uri.endswith(source) else uri
    return "UNKNOWN"


def package_entry(name: str, info: Mapping[str, Any], base_dir: Path, known: set[str]) -> dict[str, Any]:
    version = clean_version(str(info.get("version") or ""))
    cpe = cpe_fields(info.get("cpe-id"))
    product = _FIXED_PRODUCTS.get(name) or (cpe[4] if cpe else name)
    cve_version = version
    if cpe and cpe[5] not in ("*", "-", ""):
        cve_version = cpe[5] + ("" if cpe[6] in ("*", "-", "") else cpe[6])
    build_dir = base_dir / str(info.get("build_dir") or f"build/{name}-{info.get('version', '')}")
    if name in _FIXED_PRODUCTS and not re.match(r"^\d", cve_version):
        cve_version = makefile_version(build_dir) or cve_version  # "custom" kernels/U-Boots
    cpe_id = "UNKNOWN"
    if cpe:
        cpe[5] = cve_version if cpe[5] not in ("*", "-") and cve_version != "unset" else cpe[5]
        cpe_id = ":".join(cpe)
    patched, patches = patched_cves(build_dir)
    ignored = sorted(str(c) for c in info.get("ignore_cves") or [])
    entry: dict[str, Any] = {
        "name": name,
        "version": version,
        "cve_product": product,
        "cve_version": cve_version,
        "cpe_id": cpe_id,
        "license": str(info.get("licenses") or "") or "unknown",
        "patched_cves": patched,
        "patches": patches,
        "download_location": download_location(info),
        "package_supplier": SUPPLIER,
        "dependencies": {"build": sorted(d for d in info.get("dependencies") or [] if d in known)},
        "component_type": ["component"],
        "ignore_cves": " ".join(ignored),
    }
    return _drop_empty(entry)


def _drop_empty(entry: dict[str, Any]) -> dict[str, Any]:
    """Buildroot's generator drops empty-valued fields and writes field names with `_`, not `-`."""
    cleaned = {}
    for key, item in entry.items():
        if isinstance(item, dict):
            item = {k: v for k, v in item.items() if v not in ("", [], {}, False, None)}
        if item in ("", [], {}, False, None):
            continue
        cleaned[key.replace("-", "_")] = item
    return cleaned


def target_packages(show_info: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Real target packages: no host tools, virtual packages or filesystem entries."""
    return {
        name: info for name, info in show_info.items()
        if info.get("type") == "target" and not info.get("virtual", False)
    }


def machine_name(config: BuildrootConfig) -> str:
    defconfig = config.get("BR2_DEFCONFIG")
    if defconfig:
        return re.sub(r"_defconfig$", "", Path(defconfig).name)
    return config.get("BR2_GCC_TARGET_CPU") or config.get("BR2_ARCH") or "unknown"


def default_manifest_name(config: BuildrootConfig) -> str:
    return f"{config.get('BR2_TARGET_GENERIC_HOSTNAME') or 'buildroot'}-{machine_name(config)}"


def build_manifest(show_info: Mapping[str, Any], config: BuildrootConfig, *, base_dir: Path,
                   name: Optional[str] = None, today: Optional[_dt.date] = None) -> dict[str, Any]:
    packages = target_packages(show_info)
    known = set(packages)
    entries = {key: package_entry(key, info, base_dir, known) for key, info in sorted(packages.items())}
    whitelist = sorted({cve for info in packages.values() for cve in info.get("ignore_cves") or []})
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "manifest_name": (name or default_manifest_name(config))[:256],
        "date": (today or _dt.datetime.now(_dt.timezone.utc).date()).isoformat(),
        "distro": "buildroot",
        "distro_version": config.version or "unknown",
        "image": "rootfs",
        "machine": machine_name(config),
        "arch": config.get("BR2_ARCH") or "unknown",
        "cpu": config.get("BR2_GCC_TARGET_CPU") or config.get("BR2_ARCH") or "unknown",
        "commit": "Release",
        "hostname": config.get("BR2_TARGET_GENERIC_HOSTNAME") or "buildroot",
        "packages": entries,
    }
    if whitelist:
        manifest["whitelist"] = whitelist
    return manifest


def manifest_text(manifest: Mapping[str, Any]) -> str:
    """vigiles-buildroot serialisation: indent 4, sorted keys, trailing newline."""
    return json.dumps(manifest, indent=4, sort_keys=True) + "\n"

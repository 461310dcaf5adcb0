"""Kernel-relative paths (`block/bfq-iosched.c`), the one namespace every evidence kind and the CNA speak."""
from __future__ import annotations

import posixpath
import re
from typing import Optional

# Extensions whose files become compilation units (each has its own `.o.cmd` / object).
UNIT_SUFFIXES = (".c", ".S", ".s", ".rs", ".dts")
# Extensions of files that are only ever included into units.
INCLUDED_SUFFIXES = (".h", ".dtsi", ".inc", ".lds", ".uc")
_NUMERIC_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


def kernel_path(path: str) -> Optional[str]:
    """`./drivers//foo/../bar.c` -> `drivers/bar.c`; None for absolute paths or ones that leave the tree."""
    path = path.strip().replace("\\", "/")
    if not path or path.startswith("/"):
        return None
    normal = posixpath.normpath(path)
    if normal in (".", "..") or normal.startswith("../"):
        return None
    return normal


def is_unit(path: str) -> bool:
    return path.endswith(UNIT_SUFFIXES)


def is_included(path: str) -> bool:
    return path.endswith(INCLUDED_SUFFIXES)


def object_of(path: str) -> str:
    """The object a unit compiles to: `block/mac.c` -> `block/mac.o`; a .dts becomes a .dtb."""
    stem, _, suffix = path.rpartition(".")
    return f"{stem}.dtb" if suffix == "dts" else f"{stem}.o"


def major_minor(version: Optional[str]) -> Optional[tuple[int, int]]:
    """(6, 6) for `6.6.21`, `6.6.21-yocto-standard` or `6.6.21+gitAUTOINC+…`; None if it is no kernel version."""
    match = _NUMERIC_VERSION.match((version or "").strip().lstrip("vV"))
    return (int(match.group(1)), int(match.group(2))) if match else None


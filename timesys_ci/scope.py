"""Which part of an embedded image a package belongs to: kernel, toolchain or userspace.

One home for the rule, shared by the local service (report `counts.kernel` /
`counts.toolchain`) and the gate (`scope = [...]`). Reports only name packages,
so the rule works on the package name (and, when known, its CVE product).
"""
from __future__ import annotations

import re
from typing import Literal, Optional

Scope = Literal["kernel", "toolchain", "userspace"]
SCOPES: tuple[Scope, ...] = ("kernel", "toolchain", "userspace")

# linux-* recipes that are not the kernel itself.
_NOT_KERNEL = frozenset(
    {"linux-firmware", "linux-libc-headers", "linux-pam", "linux-atm", "linux-tools", "linux-api-headers"}
)
_KERNEL = re.compile(r"^(linux|kernel|linux_kernel|linux-kernel)$|^linux-(yocto|imx|raspberrypi|ti|fslc|stable|mainline|rt)")
_TOOLCHAIN = re.compile(
    r"^(gcc|libgcc|gcc-runtime|gcc-sanitizers|libstdc\+\+|binutils|glibc|eglibc|musl|uclibc|uclibc-ng|gdb|"
    r"glibc-locale|libgfortran|libatomic|libssp)([-_].*)?$"
)


def package_scope(name: str, cve_product: Optional[str] = None) -> Scope:
    """Classify a package by name (and CVE product when the caller has it)."""
    lowered = name.strip().lower()
    products = {token.rsplit(":", 1)[-1] for token in (cve_product or "").lower().split()}
    if "linux_kernel" in products:
        return "kernel"
    if lowered not in _NOT_KERNEL and _KERNEL.match(lowered):
        return "kernel"
    if _TOOLCHAIN.match(lowered) or products & {"gcc", "glibc", "binutils", "musl", "uclibc"}:
        return "toolchain"
    return "userspace"

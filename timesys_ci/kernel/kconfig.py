"""A kernel `.config` as Kbuild sees it: `CONFIG_X=y|m|value`; anything else is unset."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from timesys_ci.buildsystems.kconfig import unquote
from timesys_ci.kernel.evidence import EvidenceError
from timesys_ci.kernel.walk import read_bounded

MAX_CONFIG_BYTES = 16 * 1024 * 1024
_ASSIGN = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_HEADER = re.compile(r"^#\s*Linux/(\S+)\s+(\S+)\s+Kernel Configuration", re.IGNORECASE)
_GENERATED = "Automatically generated file; DO NOT EDIT."
# `ARCH` values whose sources live under another `arch/` directory (the top Makefile's SRCARCH rule).
_SRCARCH = {"i386": "x86", "x86_64": "x86", "sparc32": "sparc", "sparc64": "sparc", "parisc64": "parisc",
            "sh64": "sh", "tilepro": "tile", "tilegx": "tile"}
# Architecture symbols a full .config always sets, for configs whose header was stripped.
_ARCH_SYMBOLS = (("CONFIG_X86", "x86"), ("CONFIG_ARM64", "arm64"), ("CONFIG_ARM", "arm"), ("CONFIG_RISCV", "riscv"),
                 ("CONFIG_PPC", "powerpc"), ("CONFIG_MIPS", "mips"), ("CONFIG_LOONGARCH", "loongarch"),
                 ("CONFIG_S390", "s390"), ("CONFIG_SUPERH", "sh"), ("CONFIG_XTENSA", "xtensa"),
                 ("CONFIG_MICROBLAZE", "microblaze"), ("CONFIG_ARC", "arc"), ("CONFIG_SPARC", "sparc"),
                 ("CONFIG_PARISC", "parisc"), ("CONFIG_M68K", "m68k"), ("CONFIG_NIOS2", "nios2"),
                 ("CONFIG_OPENRISC", "openrisc"), ("CONFIG_CSKY", "csky"), ("CONFIG_ALPHA", "alpha"))


@dataclass(frozen=True)
class KernelConfig:
    path: Path
    values: Mapping[str, str]
    srcarch: Optional[str]
    version: Optional[str]
    generated: bool  # written by Kconfig (a full .config), not a defconfig fragment

    def value(self, name: str) -> str:
        return self.values.get(name, "")


def read_kernel_config(path: Path) -> KernelConfig:
    """A .config named by the user (a symlink is followed) or found in a build tree."""
    text = read_bounded(path, MAX_CONFIG_BYTES, follow_symlinks=True)
    if text is None:
        raise EvidenceError(f"{path}: cannot read the kernel config (missing, unreadable or over "
                            f"{MAX_CONFIG_BYTES // (1024 * 1024)} MiB)")
    values: dict[str, str] = {}
    arch = version = None
    generated = False
    for line in text.splitlines():
        line = line.strip()
        header = _HEADER.match(line)
        if header and arch is None:
            arch, version = header.group(1), header.group(2)
        generated = generated or _GENERATED in line
        match = _ASSIGN.match(line)
        if match and match.group(2) not in ("", "n"):
            values[match.group(1)] = unquote(match.group(2))
    srcarch = _SRCARCH.get(arch, arch) if arch else next(
        (name for symbol, name in _ARCH_SYMBOLS if values.get(symbol) == "y"), None)
    return KernelConfig(Path(path), values, srcarch, version, generated)

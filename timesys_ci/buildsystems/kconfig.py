"""Read Buildroot `.config` values and kernel/U-Boot Makefile versions."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Mapping, Optional

from timesys_ci.buildsystems import SettingError

_ASSIGN = re.compile(r"^([A-Za-z0-9_]+)=(.*)$")
_VERSION_HEADER = re.compile(r"^#\s*Buildroot\s+(\S+)\s+Configuration", re.IGNORECASE)
_MAKE_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_MAKEFILE_VAR = re.compile(r"^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\s*=\s*(.*?)\s*$")


class BuildrootConfig:
    """Values from a Buildroot `.config`: strings unquoted, `# X is not set` absent."""

    def __init__(self, values: Mapping[str, str], version: Optional[str] = None) -> None:
        self.values = dict(values)
        self.version = version

    @classmethod
    def read(cls, path: Path) -> "BuildrootConfig":
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise SettingError(f"BR2_CONFIG: cannot read {path}: {exc.strerror}") from exc
        values: dict[str, str] = {}
        version = None
        for line in text.splitlines():
            header = _VERSION_HEADER.match(line)
            if header:
                version = header.group(1)
            match = _ASSIGN.match(line.strip())
            if match:
                values[match.group(1)] = unquote(match.group(2))
        return cls(values, version)

    def get(self, name: str) -> Optional[str]:
        value = self.values.get(name, "")
        return value or None

    def enabled(self, name: str) -> bool:
        return self.values.get(name) == "y"


def unquote(value: str) -> str:
    """Kconfig string values are double-quoted with backslash escapes."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def expand_make_vars(value: str, env: Mapping[str, str]) -> str:
    """`$(HOME)`/`${HOME}` as Buildroot's make would expand them from the environment."""
    return _MAKE_VAR.sub(lambda m: env.get(m.group(1) or m.group(2), os.environ.get(m.group(1) or m.group(2), "")), value)


def makefile_version(source_dir: Path) -> Optional[str]:
    """VERSION.PATCHLEVEL.SUBLEVEL[EXTRAVERSION] from a kernel/U-Boot top Makefile, if readable."""
    try:
        lines = (source_dir / "Makefile").read_text(encoding="utf-8", errors="replace").splitlines()[:40]
    except OSError:
        return None
    parts: dict[str, str] = {}
    for line in lines:
        match = _MAKEFILE_VAR.match(line)
        if match and match.group(1) not in parts:
            parts[match.group(1)] = match.group(2)
    if not parts.get("VERSION") or not parts.get("PATCHLEVEL"):
        return None
    numeric = ".".join(p for p in (parts["VERSION"], parts["PATCHLEVEL"], parts.get("SUBLEVEL", "")) if p)
    return numeric + parts.get("EXTRAVERSION", "")

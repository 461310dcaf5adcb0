"""Find the manifest and kernel/U-Boot configs a build system left behind, and
turn the settings its users already have into `timesys_ci upload` arguments.

The modules here only discover and map; uploading and gating stay in the
`upload` command so every entry point (Yocto class, Buildroot script, GitHub
Action, plain CI step) gates the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Mapping, Optional

ArtifactKind = Literal["vigiles", "spdx", "vigiles-generated"]


class BuildSystemError(ValueError):
    """Base for problems with a build tree or with hook settings."""


class DiscoveryError(BuildSystemError):
    """No usable manifest (or an explicitly named file) was found; the message lists where we looked."""


class SettingError(BuildSystemError):
    """An environment or config value has a value we cannot use."""


@dataclass(frozen=True)
class BuildArtifacts:
    """What to upload: the manifest (or SBOM) and the optional config side files."""

    manifest: Path
    kernel_config: Optional[Path]
    uboot_config: Optional[Path]
    kind: ArtifactKind


@dataclass(frozen=True)
class KernelTree:
    """Where the kernel was built and its sources are: the evidence kernel triage reads."""

    build_dir: Optional[Path] = None
    source_dir: Optional[Path] = None
    config: Optional[Path] = None

    def __bool__(self) -> bool:
        return any((self.build_dir, self.source_dir, self.config))

    def as_args(self) -> list[str]:
        """`--kernel-build-dir DIR --kernel-source-dir DIR --kernel-config FILE`, for what is known."""
        args: list[str] = []
        for flag, path in (("--kernel-build-dir", self.build_dir), ("--kernel-source-dir", self.source_dir),
                           ("--kernel-config", self.config)):
            if path is not None:
                args += [flag, str(path)]
        return args


KERNEL_BUILD_DIR_ENV = "TIMESYS_CI_KERNEL_BUILD_DIR"
KERNEL_SOURCE_DIR_ENV = "TIMESYS_CI_KERNEL_SOURCE_DIR"
KERNEL_CONFIG_ENV = "TIMESYS_CI_KERNEL_CONFIG"  # the .config for kernel triage when none is uploaded
KERNEL_TRIAGE_ENV = "TIMESYS_CI_KERNEL_TRIAGE"  # no/0: the entries do not triage kernel CVEs


def explicit_kernel_dir(env: "Mapping[str, str]", name: str) -> Optional[Path]:
    """A kernel directory named in the environment; it must exist."""
    value = (env.get(name) or "").strip()
    if not value:
        return None
    if not Path(value).is_dir():
        raise DiscoveryError(f"{name}: not a directory: {value}")
    return Path(value)


def searched_message(what: str, places: "list[Path] | list[str]") -> str:
    """One-line error naming every place searched, so users can see which override to set."""
    listed = ", ".join(str(p) for p in places) or "(nowhere: no candidate directories)"
    return f"{what} not found; searched: {listed}"

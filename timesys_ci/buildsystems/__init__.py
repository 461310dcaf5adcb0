"""Find the manifest and kernel/U-Boot configs a build system left behind, and
turn the settings its users already have into `timesys_ci upload` arguments.

The modules here only discover and map; uploading and gating stay in the
`upload` command so every entry point (Yocto class, Buildroot script, GitHub
Action, plain CI step) gates the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Optional

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


def searched_message(what: str, places: "list[Path] | list[str]") -> str:
    """One-line error naming every place searched, so users can see which override to set."""
    listed = ", ".join(str(p) for p in places) or "(nowhere: no candidate directories)"
    return f"{what} not found; searched: {listed}"

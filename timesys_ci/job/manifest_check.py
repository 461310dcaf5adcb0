"""Check a manifest/SBOM locally before anything is sent: empty, truncated and unknown files fail here."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from timesys import ParameterError
from timesys_ci.sbom import SbomError, detect_format, is_readable, load_sbom


class ManifestError(ParameterError):
    """The manifest file cannot be uploaded as it is (exit status 2; nothing was sent)."""


@dataclass(frozen=True)
class CheckedManifest:
    path: Path
    text: str
    format: str  # "vigiles", "cyclonedx-json", "spdx-json", ...
    packages: int  # -1 when the format is only recognised, not parsed


def check_manifest(path: Path, text: str) -> CheckedManifest:
    """`text` is the file's content, read as a one-line usage error if missing, unreadable or not UTF-8."""
    if not text.strip():
        raise ManifestError(f"{path}: manifest file is empty")
    try:
        sbom_format = detect_format(text, str(path))
        # Formats this tool can read are checked whole; others (e.g. SPDX RDF) only recognised: the service may read them.
        packages = len(load_sbom(text, str(path)).packages) if is_readable(sbom_format) else -1
    except SbomError as exc:
        raise ManifestError(str(exc)) from None
    if packages == 0 and sbom_format == "vigiles":
        raise ManifestError(f"{path}: the manifest lists no packages")
    return CheckedManifest(path=path, text=text, format=sbom_format, packages=packages)

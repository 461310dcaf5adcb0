"""Check a manifest/SBOM locally before anything is sent.

Empty, truncated and unrecognised files fail here, and so do documents that list
no packages or no package with a version: they would scan to zero findings and
pass the gate without a word.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from timesys import ParameterError
from timesys_ci.sbom import SbomError, detect_format, is_readable, load_sbom
from timesys_ci.sbom.coverage import Coverage, check_coverage

# File-name endings that say what the file is rather than what it describes.
_SBOM_SUFFIXES = re.compile(
    r"([._-](cve|manifest|vigiles|sbom|bom|cdx|cyclonedx|spdx|rootfs))*(\.(json|xml|spdx|jsonld|txt))*(\.gz)?$",
    re.IGNORECASE)


class ManifestError(ParameterError):
    """The manifest file cannot be uploaded as it is (exit status 2; nothing was sent)."""


@dataclass(frozen=True)
class CheckedManifest:
    path: Path
    text: str
    format: str  # "vigiles", "cyclonedx-json", "spdx-json", ...
    packages: int  # -1 when the format is only recognised, not read
    coverage: Optional[Coverage] = None  # None when the format is only recognised, not read
    document_name: Optional[str] = None  # the name the document gives itself (manifest_name, metadata...)

    @property
    def name(self) -> str:
        """The name to store it under: the document's own, else one made from the file name."""
        return self.document_name or name_from_path(self.path)


_GENERIC_STEMS = {"manifest", "sbom", "bom", "cve", "vigiles", "cyclonedx", "spdx"}


def name_from_path(path: Path) -> str:
    """`core-image-minimal-cve.json` -> `core-image-minimal`; `rpi4-manifest.json` -> `rpi4`;
    a generic `out/rpi4/sbom.json` -> `rpi4-sbom` (the directory tells products apart)."""
    stem = _SBOM_SUFFIXES.sub("", path.name) or path.name
    parent = path.resolve().parent.name
    if stem.lower() in _GENERIC_STEMS and parent:
        return f"{parent}-{stem}"
    return stem


def check_manifest(path: Path, text: str) -> CheckedManifest:
    """`text` is the file's content, read as a one-line usage error if missing, unreadable or not UTF-8."""
    if not text.strip():
        raise ManifestError(f"{path}: manifest file is empty")
    try:
        sbom_format = detect_format(text, str(path))
        if not is_readable(sbom_format):
            # Only recognised (e.g. SPDX RDF): the service may read it; its packages cannot be counted here.
            return CheckedManifest(path=path, text=text, format=sbom_format, packages=-1)
        sbom = load_sbom(text, str(path))
        coverage = check_coverage(sbom, str(path))
    except SbomError as exc:
        raise ManifestError(str(exc)) from None
    return CheckedManifest(path=path, text=text, format=sbom_format, packages=coverage.packages, coverage=coverage,
                           document_name=(sbom.manifest_name or "").strip() or None)

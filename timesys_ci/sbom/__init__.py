"""SBOM ingest: detect a document's format and read it into :class:`Sbom`."""
from __future__ import annotations

from timesys_ci.sbom.detect import detect_format, is_readable, load_sbom, register_format
from timesys_ci.sbom.errors import SbomError
from timesys_ci.sbom.model import Package, Sbom, VulnerabilityStatement

__all__ = ["Package", "Sbom", "SbomError", "VulnerabilityStatement", "detect_format", "is_readable", "load_sbom", "register_format"]

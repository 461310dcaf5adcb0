"""Report and SBOM file exports of the local Vigiles-compatible service.

Pure functions from the report contract / uploaded SBOM (`timesys_ci.sbom.model.Sbom`) to file bytes;
the HTTP layer only wires them to `GET /reports/{token}`, `GET /manifests/{token}`
and the upload's `exported_report`.
"""
from __future__ import annotations

from .errors import ExportError
from .report_formats import exported_report, render_report
from .sbom_formats import convert_manifest

__all__ = ["ExportError", "convert_manifest", "exported_report", "render_report"]

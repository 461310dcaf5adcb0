"""Report file bytes for `GET /reports/{token}?format=...` and the upload's `exported_report`."""
from __future__ import annotations

import base64
import gzip
from typing import Any, Mapping, Optional

from timesys.core.choices import DEFAULT_CYCLONEDX_FORMAT, DEFAULT_CYCLONEDX_REPORT_VERSION, REPORT_FORMATS
from timesys_ci.sbom.model import Sbom

from . import csv_report, cyclonedx, pdf, xlsx
from .errors import ExportError
from .rows import report_findings


def render_report(
    report: Mapping[str, Any],
    sbom: Optional[Sbom],
    format: str,
    *,
    filtered: bool = False,
    cyclonedx_format: Optional[str] = DEFAULT_CYCLONEDX_FORMAT,
    cyclonedx_version: Optional[str] = DEFAULT_CYCLONEDX_REPORT_VERSION,
) -> tuple[bytes, str]:
    """(file bytes, media type) of `report` in `format`.

    `sbom` is the uploaded SBOM, in whatever format it came (used for the PDF
    header and the CycloneDX components); None is accepted. `filtered=True`
    leaves out whitelisted / not-affected CVEs. The CycloneDX options only
    matter for the two CycloneDX formats; None there means json / 1.7.
    """
    if format not in REPORT_FORMATS:
        raise ExportError(f"unsupported report format {format!r}: expected one of {', '.join(REPORT_FORMATS)}")
    info, rows = report_findings(report, filtered=filtered)
    if format == "csv":
        return csv_report.render_csv(rows), csv_report.MEDIA_TYPE
    if format == "xlsx":
        return xlsx.render_xlsx(info, rows, filtered=filtered), xlsx.MEDIA_TYPE
    if format in ("pdf", "pdfsummary"):
        data = pdf.render_report_pdf(sbom, info, rows, filtered=filtered, summary_only=format == "pdfsummary")
        return data, pdf.MEDIA_TYPE
    file_format, version = cyclonedx.check_options(cyclonedx_format, cyclonedx_version,
                                                   default_version=DEFAULT_CYCLONEDX_REPORT_VERSION,
                                                   option_names=("cyclonedx_format", "cyclonedx_version"))
    bom = cyclonedx.vex_bom(info, rows, sbom, version, with_components=format == "cyclonedx-sbom-vex")
    return cyclonedx.serialize(bom, file_format, version), cyclonedx.media_type(file_format, version)


def exported_report(
    report: Mapping[str, Any],
    sbom: Optional[Sbom],
    export_format: str,
    cyclonedx_format: Optional[str] = None,
    cyclonedx_version: Optional[str] = None,
    *,
    filtered: bool = False,
) -> str:
    """The upload response's `exported_report`: base64 text of the gzip of the rendered file.

    The client reverses it with `base64.b64decode` then `gzip.decompress`.
    The gzip header carries no time stamp, so equal input gives equal output.
    """
    data, _ = render_report(
        report, sbom, export_format, filtered=filtered, cyclonedx_format=cyclonedx_format, cyclonedx_version=cyclonedx_version
    )
    return base64.b64encode(gzip.compress(data, mtime=0)).decode("ascii")

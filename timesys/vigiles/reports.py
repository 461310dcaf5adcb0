"""Report downloads and comparisons."""
from __future__ import annotations

from typing import Any, Optional

from timesys.core import endpoints
from timesys.core.choices import (  # noqa: F401 - the reference's names for them
    CYCLONEDX_FORMATS, CYCLONEDX_VERSIONS, DEFAULT_CYCLONEDX_FORMAT, DEFAULT_CYCLONEDX_REPORT_VERSION, REPORT_FORMATS)
from timesys.exceptions import ParameterError


def download_report(report_token: str, format: Optional[str] = None, filter_results: bool = False,
                    cyclonedx_format: str = DEFAULT_CYCLONEDX_FORMAT,
                    cyclonedx_version: str = DEFAULT_CYCLONEDX_REPORT_VERSION) -> Any:
    """The report file as bytes, in one of REPORT_FORMATS."""
    endpoints.REPORT_DOWNLOAD.check_required({"report_token": report_token})
    if format not in REPORT_FORMATS:
        raise ParameterError(f"format must be one of: {', '.join(REPORT_FORMATS)}")
    cyclonedx = format.startswith("cyclonedx")
    return endpoints.REPORT_DOWNLOAD.call(
        report_token=report_token, filter_results=filter_results, format=format,
        sbom_format=cyclonedx_format if cyclonedx else None, sbom_version=cyclonedx_version if cyclonedx else None)


def compare_reports(token_one: str, token_two: str, remove_whitelist: bool = False, remove_not_affected: bool = False,
                    filter_results: bool = False) -> Any:
    """CVEs `resolved` and `new` in the second report compared with the first."""
    return endpoints.REPORTS_COMPARE.call(token_one=token_one, token_two=token_two, remove_whitelist=remove_whitelist,
                                          remove_not_affected=remove_not_affected, filter_results=filter_results)

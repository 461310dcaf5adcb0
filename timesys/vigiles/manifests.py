"""SBOMs ("manifests"): upload, list, download, rescan, reports, scores, move/copy."""
from __future__ import annotations

import logging
import os
from typing import Any, Optional, Sequence, Union

from timesys.core import endpoints
from timesys.core.choices import (  # noqa: F401 - the reference's names for them
    DEFAULT_CYCLONEDX_FORMAT, EXPORT_FORMATS, EXTRA_FIELDS, SBOM_FORMATS, SUBSCRIBE_FREQUENCIES)
from timesys.core.llapi import active_client
from timesys.core.utils import save_file
from timesys.exceptions import ParameterError
from timesys.vigiles._defaults import check_string_list

logger = logging.getLogger(__name__)

OTHERS = [
    "Android", "Bitnami", "CRAN", "GIT", "GSD", "GitHub Actions", "Go", "Hackage", "Hex", "Linux", "Maven", "NuGet",
    "OSS-Fuzz", "Packagist", "Pub", "PyPI", "RubyGems", "SwiftURL", "UVI", "crates.io", "npm",
]
ALMALINUX = ["AlmaLinux", "AlmaLinux:8", "AlmaLinux:9"]
ALPINE = ["Alpine", "Alpine:v3.10", "Alpine:v3.11", "Alpine:v3.12", "Alpine:v3.13", "Alpine:v3.14", "Alpine:v3.15",
          "Alpine:v3.16", "Alpine:v3.17", "Alpine:v3.18", "Alpine:v3.19", "Alpine:v3.2", "Alpine:v3.20", "Alpine:v3.3",
          "Alpine:v3.4", "Alpine:v3.5", "Alpine:v3.6", "Alpine:v3.7", "Alpine:v3.8", "Alpine:v3.9"]
DEBIAN = ["Debian", "Debian:10", "Debian:11", "Debian:12", "Debian:13", "Debian:3.0", "Debian:3.1", "Debian:4.0",
          "Debian:5.0", "Debian:6.0", "Debian:7", "Debian:8", "Debian:9"]
ROCKY = ["Rocky Linux", "Rocky Linux:8", "Rocky Linux:9"]
UBUNTU = ["Ubuntu", "Ubuntu:14.04:LTS", "Ubuntu:16.04:LTS", "Ubuntu:18.04:LTS", "Ubuntu:20.04:LTS",
          "Ubuntu:22.04:LTS", "Ubuntu:23.10", "Ubuntu:24.04:LTS", "Ubuntu:Pro:14.04:LTS", "Ubuntu:Pro:16.04:LTS",
          "Ubuntu:Pro:18.04:LTS", "Ubuntu:Pro:20.04:LTS", "Ubuntu:Pro:22.04:LTS", "Ubuntu:Pro:24.04:LTS"]
ALL_ECOSYSTEMS = OTHERS + ALMALINUX + ALPINE + DEBIAN + ROCKY + UBUNTU


def ecosystems_param(ecosystems: Union[str, Sequence[str]]) -> str:
    """The comma-joined `ecosystems` value: "all", or the valid names given (others dropped with a warning).

    A list is accepted as well as the reference's comma-separated string (weakness 22).
    """
    if isinstance(ecosystems, str):
        if ecosystems.strip().lower() == "all":
            return ",".join(ALL_ECOSYSTEMS)
        items = [item.strip() for item in ecosystems.split(",")]
    else:
        items = [str(item).strip() for item in ecosystems]
    invalid = [item for item in items if item not in ALL_ECOSYSTEMS]
    if invalid:
        logger.warning("Invalid ecosystems were ignored: %s", ", ".join(sorted(invalid)))
    return ",".join(item for item in items if item in ALL_ECOSYSTEMS)


def export_file_path(export_path: Union[str, "os.PathLike[str]"], export_format: str,
                     cyclonedx_format: Optional[str] = None) -> str:
    """Where an exported report is saved: `export_path` with its extension replaced (section 4.3.5)."""
    if export_format.startswith("pdf"):
        extension = "pdf"
    elif export_format.startswith("cyclonedx"):
        extension = cyclonedx_format or DEFAULT_CYCLONEDX_FORMAT  # the reference wrote ".None" here
    else:
        extension = export_format
    head, tail = os.path.split(os.fspath(export_path))
    stem = tail.rsplit(".", 1)[0] if "." in tail else tail
    return os.path.join(head, f"{stem}.{extension}")


def get_manifests() -> Any:
    """SBOMs in the configured folder, else the configured group, else all visible ones."""
    client = active_client()
    folder = client.folder_token
    group = client.group_token if folder is None else None
    return endpoints.MANIFESTS_LIST.call(folder_token=folder, group_token=group)


def get_manifest_info(manifest_token: str, sbom_format: Optional[str] = None, file_format: Optional[str] = None,
                      sbom_version: Optional[str] = None) -> Any:
    return endpoints.MANIFEST_INFO.call(manifest_token=manifest_token, sbom_format=sbom_format,
                                        file_format=file_format, sbom_version=sbom_version)


def get_manifest_file(manifest_token: str, sbom_format: Optional[str] = None, file_format: Optional[str] = None,
                      sbom_version: Optional[str] = None) -> Any:
    """The SBOM file as bytes (optionally converted)."""
    return endpoints.MANIFEST_FILE.call(manifest_token=manifest_token, send_file=True, sbom_format=sbom_format,
                                        file_format=file_format, sbom_version=sbom_version)


def upload_manifest(manifest: str, kernel_config: Optional[str] = None, uboot_config: Optional[str] = None,
                    manifest_name: Optional[str] = None, subfolder_name: Optional[str] = None,
                    filter_results: bool = False, extra_fields: Optional[Sequence[str]] = None,
                    upload_only: bool = False, ecosystems: Optional[Union[str, Sequence[str]]] = None,
                    subscribe: Optional[str] = None, export_format: Optional[str] = None,
                    export_path: Optional[Union[str, "os.PathLike[str]"]] = None,
                    cyclonedx_format: Optional[str] = None, cyclonedx_version: Optional[str] = None) -> Any:
    """Upload SBOM text; returns the scan result (or, with `upload_only`, just the tokens).

    With `export_format`, the exported report the server returns is saved next to
    `export_path` (extension replaced, see `export_file_path`) and removed from the result.
    """
    endpoints.MANIFEST_UPLOAD.check_required({"manifest": manifest})
    check_string_list(extra_fields, "extra_fields")
    if export_format and export_path is None:
        raise ParameterError("export_path is required with export_format")
    if export_path is not None and os.path.isdir(export_path):
        raise ParameterError(f"export_path {os.fspath(export_path)!r} is a directory")
    client = active_client()
    if not client.group_token:
        logger.warning("No group token is configured: the SBOM will be uploaded to your Private Workspace")
        if client.folder_token or subfolder_name:
            logger.warning("A folder token or subfolder name without a group token is ignored by the server")
    result = endpoints.MANIFEST_UPLOAD.call(
        manifest=manifest, filter_results=filter_results, upload_only=upload_only, kernel_config=kernel_config,
        manifest_name=manifest_name, uboot_config=uboot_config, subfolder_name=subfolder_name,
        extra_fields=list(extra_fields) if extra_fields is not None else None,
        ecosystems=ecosystems_param(ecosystems) if ecosystems is not None else None, subscribe=subscribe,
        folder_token=client.folder_token, group_token=client.group_token, export_format=export_format,
        cyclonedx_format=cyclonedx_format, cyclonedx_version=cyclonedx_version)
    if client.dry_run or not isinstance(result, dict):
        return result
    exported = result.pop("exported_report", None)
    if exported and export_format and export_path is not None:
        path = export_file_path(export_path, export_format, cyclonedx_format)
        try:
            save_file(exported, path)
            logger.info("Exported report saved to %s", path)
        except (OSError, ValueError) as exc:
            logger.error("Could not save the exported report to %s: %s", path, exc)
    return result


def rescan_manifest(manifest_token: str, rescan_only: bool = False, filter_results: bool = False,
                    extra_fields: Optional[Sequence[str]] = None) -> Any:
    check_string_list(extra_fields, "extra_fields")
    return endpoints.MANIFEST_RESCAN.call(manifest_token=manifest_token, rescan_only=rescan_only,
                                          filter_results=filter_results,
                                          extra_fields=list(extra_fields) if extra_fields is not None else None)


def delete_manifest(manifest_token: str, confirmed: bool = False) -> Any:
    return endpoints.MANIFEST_DELETE.call(manifest_token=manifest_token, confirmed=confirmed)


def get_report_tokens(manifest_token: str) -> Any:
    return endpoints.MANIFEST_REPORTS.call(manifest_token=manifest_token)


def get_latest_report(manifest_token: str, filter_results: bool = False,
                      extra_fields: Optional[Sequence[str]] = None) -> Any:
    check_string_list(extra_fields, "extra_fields")
    return endpoints.MANIFEST_LATEST_REPORT.call(manifest_token=manifest_token, filter_results=filter_results,
                                                 extra_fields=list(extra_fields) if extra_fields is not None else None)


def set_custom_score(manifest_token: str, product_name: str, cve_id: str, custom_score: Union[str, float],
                     product_version: Optional[str] = None) -> Any:
    return endpoints.MANIFEST_CUSTOM_SCORE.call(
        manifest_token=manifest_token, product_name=product_name, cve_id=cve_id,
        custom_score=str(custom_score) if custom_score not in (None, "") else custom_score,
        product_version=product_version)


def _bulk_move(copy: bool, sbom_tokens: Sequence[str], target_group_token: Optional[str],
               target_folder_token: Optional[str], include_history: bool) -> Any:
    if not target_group_token and not target_folder_token:
        raise ParameterError("target_group_token or target_folder_token is required")
    return endpoints.MANIFESTS_MOVE.call(sbom_tokens=list(sbom_tokens), copy=copy, include_history=include_history,
                                         target_folder_token=target_folder_token,
                                         target_group_token=target_group_token)


def bulk_move_manifests(sbom_tokens: Sequence[str], target_group_token: Optional[str] = None,
                        target_folder_token: Optional[str] = None, include_history: bool = False) -> Any:
    return _bulk_move(False, sbom_tokens, target_group_token, target_folder_token, include_history)


def bulk_copy_manifests(sbom_tokens: Sequence[str], target_group_token: Optional[str] = None,
                        target_folder_token: Optional[str] = None, include_history: bool = False) -> Any:
    return _bulk_move(True, sbom_tokens, target_group_token, target_folder_token, include_history)

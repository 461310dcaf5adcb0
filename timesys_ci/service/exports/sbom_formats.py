"""Manifest conversions for `GET /manifests/{token}?sbom_format=...&file_format=...&sbom_version=...`."""
from __future__ import annotations

from typing import Any, Mapping, Optional

from . import cyclonedx, spdx
from .dates import timestamp_or_now
from .errors import ExportError

SBOM_FORMATS = ("spdx", "spdx-lite", "cyclonedx")
_SPDX_FILE_FORMATS = ("json", "tag")


def convert_manifest(
    manifest: Mapping[str, Any],
    sbom_format: str,
    *,
    file_format: Optional[str] = None,
    sbom_version: Optional[str] = None,
    timestamp: Optional[str] = None,
) -> tuple[bytes, str]:
    """(file bytes, media type) of the manifest converted to `sbom_format`.

    spdx: SPDX 2.3 (or 2.2) as json (default) or tag; spdx-lite: SPDX Lite
    tag-value; cyclonedx: CycloneDX 1.4-1.7 (default 1.6) as json (default)
    or xml. `timestamp` is the creation time written into the document
    (default: the manifest's `date`, else now); the output is a pure function
    of manifest and timestamp.
    """
    if not isinstance(manifest, Mapping):
        raise ExportError("manifest: expected a JSON object")
    if sbom_format not in SBOM_FORMATS:
        raise ExportError(f"unsupported sbom_format {sbom_format!r}: expected one of {', '.join(SBOM_FORMATS)}")
    created = timestamp_or_now(timestamp if timestamp is not None else manifest.get("date"))
    if sbom_format == "cyclonedx":
        chosen_format, version = cyclonedx.check_options(file_format, sbom_version, option_names=("file_format", "sbom_version"))
        bom = cyclonedx.sbom_bom(manifest, version, created)
        return cyclonedx.serialize(bom, chosen_format, version), cyclonedx.media_type(chosen_format, version)
    version = spdx.check_version(sbom_version)
    if sbom_format == "spdx-lite":
        if file_format not in (None, "", "tag"):
            raise ExportError(f"unsupported file_format {file_format!r} for spdx-lite: expected tag")
        return spdx.spdx_tag_value(manifest, version, created, lite=True), spdx.TAG_MEDIA_TYPE
    chosen = (file_format or "json").lower()
    if chosen not in _SPDX_FILE_FORMATS:
        raise ExportError(f"unsupported file_format {file_format!r} for spdx: expected one of {', '.join(_SPDX_FILE_FORMATS)}")
    if chosen == "tag":
        return spdx.spdx_tag_value(manifest, version, created), spdx.TAG_MEDIA_TYPE
    return spdx.spdx_json(manifest, version, created), spdx.JSON_MEDIA_TYPE

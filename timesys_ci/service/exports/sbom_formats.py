"""SBOM conversions for `GET /manifests/{token}?sbom_format=...&file_format=...&sbom_version=...`."""
from __future__ import annotations

from typing import Optional

from timesys.core.choices import DEFAULT_CYCLONEDX_SBOM_VERSION, SBOM_FORMATS, SPDX_FILE_FORMATS
from timesys_ci.sbom.model import Sbom

from . import cyclonedx, spdx
from .dates import timestamp_or_now
from .errors import ExportError


def convert_manifest(
    sbom: Sbom,
    sbom_format: str,
    *,
    file_format: Optional[str] = None,
    sbom_version: Optional[str] = None,
    timestamp: Optional[str] = None,
) -> tuple[bytes, str]:
    """(file bytes, media type) of the uploaded SBOM, in whatever format it came, converted to `sbom_format`.

    spdx: SPDX 2.3 (or 2.2) as json (default) or tag; spdx-lite: SPDX Lite
    tag-value; cyclonedx: CycloneDX 1.4-1.7 (default 1.6) as json (default)
    or xml. `timestamp` is the creation time written into the document
    (default: the SBOM's own, else now); the output is a pure function
    of SBOM and timestamp.
    """
    if sbom_format not in SBOM_FORMATS:
        raise ExportError(f"unsupported sbom_format {sbom_format!r}: expected one of {', '.join(SBOM_FORMATS)}")
    created = timestamp_or_now(timestamp if timestamp is not None else sbom.created)
    if sbom_format == "cyclonedx":
        chosen_format, version = cyclonedx.check_options(file_format, sbom_version,
                                                         default_version=DEFAULT_CYCLONEDX_SBOM_VERSION,
                                                         option_names=("file_format", "sbom_version"))
        bom = cyclonedx.sbom_bom(sbom, version, created)
        return cyclonedx.serialize(bom, chosen_format, version), cyclonedx.media_type(chosen_format, version)
    version = spdx.check_version(sbom_version)
    if sbom_format == "spdx-lite":
        if file_format not in (None, "", "tag"):
            raise ExportError(f"unsupported file_format {file_format!r} for spdx-lite: expected tag")
        return spdx.spdx_tag_value(sbom, version, created, lite=True), spdx.TAG_MEDIA_TYPE
    chosen = (file_format or "json").lower()
    if chosen not in SPDX_FILE_FORMATS:
        raise ExportError(f"unsupported file_format {file_format!r} for spdx: expected one of {', '.join(SPDX_FILE_FORMATS)}")
    if chosen == "tag":
        return spdx.spdx_tag_value(sbom, version, created), spdx.TAG_MEDIA_TYPE
    return spdx.spdx_json(sbom, version, created), spdx.JSON_MEDIA_TYPE

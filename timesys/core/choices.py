"""The values of the API's enumerated parameters, in one place for the client, the CLI and the local service.

Orders are the reference client's (`vigiles-api.md`): they are the order error messages and `--help` list them in.
"""
from __future__ import annotations

#: Report files: `download_report(format=...)`, and the upload's `export_format` (the same files).
REPORT_FORMATS = ("csv", "pdf", "pdfsummary", "xlsx", "cyclonedx-vex", "cyclonedx-sbom-vex")
EXPORT_FORMATS = REPORT_FORMATS

#: CycloneDX encodings and spec versions (report VEX downloads, exports, SBOM conversion).
CYCLONEDX_FORMATS = ("json", "xml")
CYCLONEDX_VERSIONS = ("1.4", "1.5", "1.6", "1.7")
DEFAULT_CYCLONEDX_FORMAT = "json"
#: The default for report VEX downloads and exports since client 1.9.0 (1.6 before).
DEFAULT_CYCLONEDX_REPORT_VERSION = "1.7"
#: The default of an SBOM converted to CycloneDX (`get_manifest_file(sbom_format="cyclonedx")`).
DEFAULT_CYCLONEDX_SBOM_VERSION = "1.6"

#: What a stored SBOM converts to: `get_manifest_info/file(sbom_format=...)`.
SBOM_FORMATS = ("spdx", "spdx-lite", "cyclonedx")
SPDX_VERSIONS = ("2.2", "2.3")
DEFAULT_SPDX_VERSION = "2.3"
SPDX_FILE_FORMATS = ("json", "tag")

#: CVE fields a report can carry besides the standard ones (`extra_fields`, the service's `with_field`).
EXTRA_FIELDS = ("assigner", "description", "impact", "modified", "problem_types", "published", "references")
SUBSCRIBE_FREQUENCIES = ("none", "daily", "weekly", "monthly")

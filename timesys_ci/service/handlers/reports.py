"""Report downloads and comparisons."""
from __future__ import annotations

import json
from typing import Any

from timesys.core.choices import (CYCLONEDX_FORMATS, CYCLONEDX_VERSIONS, DEFAULT_CYCLONEDX_FORMAT,
                                  DEFAULT_CYCLONEDX_REPORT_VERSION, REPORT_FORMATS)
from timesys_ci.report import AFFECTED_CATEGORIES
from timesys_ci.service import access
from timesys_ci.service.context import Context, FileResult
from timesys_ci.service.errors import bad_request
from timesys_ci.service.exports import ExportError, render_report
from timesys_ci.service.scanning import stored_sbom

EXTENSIONS = {"pdf": "pdf", "pdfsummary": "pdf", "xlsx": "xlsx", "csv": "csv"}


def download_report(ctx: Context) -> Any:
    report = access.report_for(ctx, ctx.arg("report_token"))
    report_format = ctx.choice("format", REPORT_FORMATS)
    if not report_format:
        raise bad_request(f"parameter 'format' is required: one of {', '.join(REPORT_FORMATS)}")
    cyclonedx_format = ctx.choice("sbom_format", CYCLONEDX_FORMATS, DEFAULT_CYCLONEDX_FORMAT)
    cyclonedx_version = ctx.choice("sbom_version", CYCLONEDX_VERSIONS, DEFAULT_CYCLONEDX_REPORT_VERSION)
    sbom = stored_sbom(ctx.storage.manifest(report["manifest_token"]))
    try:
        content, mimetype = render_report(json.loads(report["body"]), sbom,
                                          report_format, filtered=ctx.flag("filtered"),
                                          cyclonedx_format=cyclonedx_format, cyclonedx_version=cyclonedx_version)
    except ExportError as exc:  # a stored SBOM the export cannot read: the caller's request, not a crash
        raise bad_request(str(exc)) from None
    extension = EXTENSIONS.get(report_format, cyclonedx_format)
    return FileResult(content, mimetype, f"{report['token']}.{extension}")


def _affected(body: dict[str, Any], remove_not_affected: bool) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for package, entries in body.get("cves", {}).items():
        for entry in entries:
            if entry.get("category") in AFFECTED_CATEGORIES or (not remove_not_affected and entry.get("category") == "whitelisted"):
                found[(package, entry["cve_id"])] = {"package": package, "cve_id": entry["cve_id"],
                                                     "version": entry.get("version"), "status": entry.get("status")}
    return found


def compare_reports(ctx: Context) -> Any:
    first = access.report_for(ctx, ctx.required("token_one"))
    second = access.report_for(ctx, ctx.required("token_two"))
    drop = ctx.flag("remove_not_affected") or ctx.flag("remove_whitelist")
    before, after = _affected(json.loads(first["body"]), drop), _affected(json.loads(second["body"]), drop)
    new = [after[key] for key in sorted(set(after) - set(before))]
    resolved = [before[key] for key in sorted(set(before) - set(after))]
    return {"new": sorted({item["cve_id"] for item in new}), "resolved": sorted({item["cve_id"] for item in resolved}),
            "new_findings": new, "resolved_findings": resolved}


HANDLERS = {"download_report": download_report, "compare_reports": compare_reports}

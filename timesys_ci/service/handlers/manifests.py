"""SBOMs: upload and scan, list, download/convert, rescan, reports, custom scores, move/copy, delete."""
from __future__ import annotations

import json
import sqlite3
from typing import Any, Optional

from timesys.vigiles.manifests import EXPORT_FORMATS, SBOM_FORMATS, SUBSCRIBE_FREQUENCIES
from timesys.vigiles.reports import CYCLONEDX_FORMATS, CYCLONEDX_VERSIONS
from timesys_ci.sbom import detect_format
from timesys_ci.service import access
from timesys_ci.service.context import Context, FileResult
from timesys_ci.service.errors import ServiceError, bad_request
from timesys_ci.service.exports import ExportError, convert_manifest, exported_report
from timesys_ci.service.handlers import shapes
from timesys_ci.service.scanning import manifest_document, parse_manifest, scan_and_store, with_extra_fields


def _upload_target(ctx: Context) -> tuple[sqlite3.Row, Optional[str]]:
    """The group and folder an upload lands in (the Private Workspace without a group token)."""
    group_token = ctx.first("group_token", "product_token")
    folder_token = ctx.one("folder_token") or None
    if not group_token:
        return access.workspace_of(ctx), None  # a workspace has no folders: folder and subfolder are ignored
    group = access.group_for(ctx, group_token, "write")
    if group["archived"]:
        raise bad_request(f"group {group_token!r} is archived")
    if folder_token:
        folder = access.folder_for(ctx, folder_token, "write")
        if folder["group_token"] != group["token"]:
            raise bad_request(f"folder {folder_token!r} is not in group {group_token!r}")
    subfolder = (ctx.one("subfolder_name") or "").strip()
    if subfolder and group["kind"] == "group":
        existing = ctx.storage.folder_named(group["token"], folder_token, subfolder)
        folder_token = (existing or ctx.storage.create_folder(subfolder, "", group["token"], folder_token))["token"]
    return group, folder_token


def _with_export(ctx: Context, body: dict[str, Any], manifest: sqlite3.Row) -> dict[str, Any]:
    export_format = ctx.choice("export_format", EXPORT_FORMATS)
    if not export_format:
        return body
    cyclonedx_format = ctx.choice("cyclonedx_format", CYCLONEDX_FORMATS, "json") or "json"
    cyclonedx_version = ctx.choice("cyclonedx_version", CYCLONEDX_VERSIONS, "1.7") or "1.7"
    body["exported_report"] = exported_report(body, manifest_document(manifest), export_format,
                                              cyclonedx_format, cyclonedx_version)
    return body


def upload_manifest(ctx: Context) -> Any:
    content = ctx.required("manifest")
    sbom = parse_manifest(content)
    ctx.choice("subscribe", SUBSCRIBE_FREQUENCIES)
    ctx.choice("export_format", EXPORT_FORMATS)
    fields = ctx.many("with_field")
    group, folder_token = _upload_target(ctx)
    name = (ctx.one("manifest_name") or sbom.manifest_name or "manifest").strip()[:256]
    manifest = ctx.storage.add_manifest(
        name=name, group_token=group["token"], folder_token=folder_token, owner=ctx.email,
        sbom_format=detect_format(content), content=content, kernel_config=ctx.one("kernel_config"),
        uboot_config=ctx.one("uboot_config"))
    if ctx.flag("upload_only"):
        return {"manifest_token": manifest["token"], "manifest_name": name, "group_token": group["token"],
                "product_token": group["token"], "folder_token": folder_token, "date": manifest["upload_date"],
                "group_path": f"/groups/{group['token']}", "report_path": None,
                "message": "SBOM stored; no report was generated (upload_only)"}
    body = scan_and_store(ctx.storage, manifest, group, filtered=ctx.flag("filter_results"))
    return _with_export(ctx, with_extra_fields(ctx.storage, body, fields), manifest)


def get_manifests(ctx: Context) -> Any:
    folder_token = ctx.one("folder_token")
    group_token = ctx.first("group_token", "product_token")
    if folder_token:
        access.folder_for(ctx, folder_token)
        rows = ctx.storage.manifests(group_tokens=(), folder_token=folder_token)
    elif group_token:
        access.group_for(ctx, group_token)
        rows = ctx.storage.manifests(group_tokens=[group_token])
    else:
        groups = ctx.storage.visible_groups(ctx.email, archived=False, include_workspaces=True, is_admin=False)
        rows = ctx.storage.manifests(group_tokens=[row["token"] for row in groups])
    return [shapes.manifest(row) for row in rows]


def _converted(ctx: Context, manifest: sqlite3.Row) -> Optional[tuple[bytes, str]]:
    sbom_format = ctx.choice("sbom_format", SBOM_FORMATS)
    if not sbom_format:
        return None
    document = manifest_document(manifest)
    if not document or manifest["sbom_format"] != "vigiles":
        raise bad_request(f"SBOM {manifest['token']!r} is {manifest['sbom_format']}; only Vigiles manifests convert")
    try:
        return convert_manifest(document, sbom_format, file_format=ctx.one("file_format") or None,
                                sbom_version=ctx.one("sbom_version") or None)
    except ExportError as exc:
        raise bad_request(str(exc)) from None


def get_manifest(ctx: Context) -> Any:
    """Both `get_manifest_info` and `get_manifest_file` (the latter sends send_file=True)."""
    manifest = access.manifest_for(ctx, ctx.arg("manifest_token"))
    converted = _converted(ctx, manifest)
    content = converted[0] if converted else manifest["content"].encode("utf-8")
    if ctx.flag("send_file"):
        mimetype = converted[1] if converted else "application/json"
        return FileResult(content, mimetype, f"{manifest['name']}.{'json' if 'json' in mimetype else 'txt'}")
    return {"manifest_token": manifest["token"], "manifest_name": manifest["name"],
            "folder_token": manifest["folder_token"], "group_token": manifest["group_token"],
            "product_token": manifest["group_token"], "upload_date": manifest["upload_date"],
            "sbom_format": manifest["sbom_format"], "manifest_data": content.decode("utf-8", "replace")}


def delete_manifest(ctx: Context) -> Any:
    manifest = access.manifest_for(ctx, ctx.arg("manifest_token"), "write")
    if not ctx.flag("confirmed"):
        raise ServiceError(400, "deletion not confirmed: send confirmed=True", {"success": False})
    ctx.storage.delete_manifest(manifest["token"])
    return shapes.success(f"SBOM {manifest['name']!r} ({manifest['token']}) deleted")


def get_report_tokens(ctx: Context) -> Any:
    manifest = access.manifest_for(ctx, ctx.arg("manifest_token"))
    return {**shapes.manifest(manifest),
            "reports": [{"created_date": row["created"], "report_token": row["token"],
                         "manifest_token": row["manifest_token"], "manifest_version": row["seq"]}
                        for row in ctx.storage.reports(manifest["token"])]}


def rescan_manifest(ctx: Context) -> Any:
    manifest = access.manifest_for(ctx, ctx.arg("manifest_token"), "write")
    body_token = ctx.one("manifest")
    if body_token and body_token != manifest["token"]:
        raise bad_request("parameter 'manifest' must repeat the SBOM token of the path")
    group = ctx.storage.group(manifest["group_token"])
    body = scan_and_store(ctx.storage, manifest, group, filtered=ctx.flag("filtered"))  # type: ignore[arg-type]
    if ctx.flag("rescan_only"):
        return {key: body[key] for key in ("manifest_token", "report_token", "report_path", "date")}
    return with_extra_fields(ctx.storage, body, ctx.many("with_field"))


def get_latest_report(ctx: Context) -> Any:
    manifest = access.manifest_for(ctx, ctx.arg("manifest_token"))
    report = ctx.storage.latest_report(manifest["token"])
    if report is None:
        raise ServiceError(404, f"SBOM {manifest['token']!r} has no report yet (uploaded with upload_only?)")
    return with_extra_fields(ctx.storage, json.loads(report["body"]), ctx.many("with_field"))


def set_custom_score(ctx: Context) -> Any:
    manifest = access.manifest_for(ctx, ctx.arg("manifest_token"), "write")
    package, cve_id, score = ctx.required("package_name"), ctx.required("cve_id").upper(), ctx.required("custom_score")
    try:
        value = float(score)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 10.0:
        raise bad_request(f"parameter 'custom_score' must be a number from 0 to 10, not {score!r}")
    version = ctx.one("package_version", "") or ""
    ctx.storage.put_custom_score(manifest["token"], package, version, cve_id, str(value))
    ctx.storage.log_activity(group_token=manifest["group_token"], log_type="update_custom_score", user_email=ctx.email,
                             description=f"custom score of {cve_id} in {package} set to {value}",
                             manifest_token=manifest["token"], vuln_id=cve_id, package=package,
                             package_version=version or None)
    return shapes.success(f"custom score of {cve_id} for {package} set to {value}")


def bulk_move_manifests(ctx: Context) -> Any:
    tokens = ctx.many("sbom_tokens")
    if not tokens:
        raise bad_request("parameter 'sbom_tokens' is required")
    folder_token, group_token = ctx.one("target_folder_token"), ctx.one("target_group_token")
    if folder_token:
        folder = access.folder_for(ctx, folder_token, "write")
        group_token = group_token or folder["group_token"]
        if folder["group_token"] != group_token:
            raise bad_request(f"folder {folder_token!r} is not in group {group_token!r}")
    if not group_token:
        raise bad_request("parameter 'target_group_token' or 'target_folder_token' is required")
    access.group_for(ctx, group_token, "write")
    copy, include_history = ctx.flag("copy"), ctx.flag("include_history")
    moved = {}
    for token in tokens:
        access.manifest_for(ctx, token, "read" if copy else "write")
    for token in tokens:
        if copy:
            moved[token] = ctx.storage.copy_manifest(token, group_token, folder_token, include_history)
        else:
            ctx.storage.move_manifest(token, group_token, folder_token)
            moved[token] = token
    return shapes.success(f"{len(tokens)} SBOM(s) {'copied' if copy else 'moved'}", tokens=moved)


HANDLERS = {"upload_manifest": upload_manifest, "get_manifests": get_manifests, "get_manifest_info": get_manifest,
            "get_manifest_file": get_manifest, "delete_manifest": delete_manifest,
            "get_report_tokens": get_report_tokens, "rescan_manifest": rescan_manifest,
            "get_latest_report": get_latest_report, "set_custom_score": set_custom_score,
            "bulk_move_manifests": bulk_move_manifests}

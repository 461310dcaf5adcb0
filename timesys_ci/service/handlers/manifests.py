"""SBOMs: upload and scan, list, download/convert, rescan, reports, custom scores, move/copy, delete."""
from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping
from typing import Any, Optional

from timesys.vigiles.manifests import EXPORT_FORMATS, SBOM_FORMATS, SUBSCRIBE_FREQUENCIES
from timesys.vigiles.reports import CYCLONEDX_FORMATS, CYCLONEDX_VERSIONS
from timesys_ci.sbom import Sbom
from timesys_ci.service import access
from timesys_ci.service.context import Context, FileResult
from timesys_ci.service.errors import ServiceError, bad_request
from timesys_ci.service.exports import ExportError, convert_manifest, exported_report
from timesys_ci.service.filters import restated
from timesys_ci.service.handlers import shapes
from timesys_ci.service.scanning import (manifest_document, parse_manifest, report_body, scan_and_store,
                                         with_extra_fields)
from timesys_ci.service.storage import new_token, now


#: Characters a manifest name may not hold: C0/C1 controls, line/paragraph separators, non-characters.
_NAME_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff\ud800-\udfff]")
MAX_NAME = 256


def _upload_target(ctx: Context) -> tuple[sqlite3.Row, Optional[str], Optional[tuple[str, str, Optional[str]]]]:
    """The group and folder an upload lands in (the Private Workspace without a group token).

    A `subfolder_name` that does not exist yet comes back as the third item,
    (name, group token, parent folder token), with a fresh token as the folder:
    it is created with the upload, in the same transaction.
    """
    group_token = ctx.first("group_token", "product_token")
    folder_token = ctx.one("folder_token") or None
    if not group_token:
        return access.workspace_of(ctx), None, None  # a workspace has no folders: folder and subfolder are ignored
    group = access.group_for(ctx, group_token, "write")
    if group["archived"]:
        raise bad_request(f"group {group_token!r} is archived")
    if folder_token:
        folder = access.folder_for(ctx, folder_token, "write")
        if folder["group_token"] != group["token"]:
            raise bad_request(f"folder {folder_token!r} is not in group {group_token!r}")
    subfolder = ctx.one("subfolder_name") or ""
    if _NAME_FORBIDDEN.search(subfolder):
        raise bad_request("parameter 'subfolder_name' must not contain control characters")
    subfolder = subfolder.strip()
    if subfolder and group["kind"] == "group":
        existing = ctx.storage.folder_named(group["token"], folder_token, subfolder)
        if existing is None:
            return group, new_token("F"), (subfolder, group["token"], folder_token)
        folder_token = existing["token"]
    return group, folder_token, None


def _manifest_name(ctx: Context, sbom: Sbom) -> str:
    """`manifest_name` (refused if it holds control characters), else the SBOM's own name, cleaned."""
    given = ctx.one("manifest_name") or ""
    if _NAME_FORBIDDEN.search(given):  # before strip(): it would drop a trailing NEL or LF silently
        raise bad_request("parameter 'manifest_name' must not contain control characters (CR, LF, ...)")
    name = given.strip() or _NAME_FORBIDDEN.sub(" ", sbom.manifest_name or "").strip()
    return name[:MAX_NAME] or "manifest"


def _export(ctx: Context, body: dict[str, Any], manifest: Mapping[str, Any]) -> Optional[str]:
    export_format = ctx.choice("export_format", EXPORT_FORMATS)
    if not export_format:
        return None
    cyclonedx_format = ctx.choice("cyclonedx_format", CYCLONEDX_FORMATS, "json") or "json"
    cyclonedx_version = ctx.choice("cyclonedx_version", CYCLONEDX_VERSIONS, "1.7") or "1.7"
    try:
        return exported_report(body, manifest_document(manifest), export_format, cyclonedx_format, cyclonedx_version)
    except ExportError as exc:
        raise bad_request(str(exc)) from None


def upload_manifest(ctx: Context) -> Any:
    """Check everything, scan, render the export, then store manifest and report in one transaction.

    Nothing is written before the last step, so a refused or failed upload (or
    a process killed mid-scan) stores nothing. The document is read once.
    """
    content = ctx.required("manifest")
    ctx.choice("subscribe", SUBSCRIBE_FREQUENCIES)
    ctx.choice("export_format", EXPORT_FORMATS)
    fields = ctx.many("with_field")
    with_extra_fields(ctx.storage, {}, fields)  # checks the names before anything is stored
    upload_only, filtered = ctx.flag("upload_only"), ctx.flag("filter_results")
    sbom = parse_manifest(content)
    group, folder_token, new_folder = _upload_target(ctx)
    manifest = ctx.storage.new_manifest(
        name=_manifest_name(ctx, sbom), group_token=group["token"], folder_token=folder_token, owner=ctx.email,
        sbom_format=sbom.format, content=content, kernel_config=ctx.one("kernel_config"),
        uboot_config=ctx.one("uboot_config"))
    if upload_only:
        folder_token = ctx.storage.add_manifest(manifest, new_folder=new_folder)
        return {"manifest_token": manifest["token"], "manifest_name": manifest["name"], "group_token": group["token"],
                "product_token": group["token"], "folder_token": folder_token, "date": manifest["upload_date"],
                "group_path": f"/groups/{group['token']}", "report_path": None,
                "message": "SBOM stored; no report was generated (upload_only)"}
    report_token, created = new_token("R"), now()
    body = report_body(ctx.storage, manifest, group, report_token=report_token, seq=1, created=created,
                       filtered=filtered, sbom=sbom)
    exported = _export(ctx, body, manifest)
    ctx.storage.add_manifest(manifest, report=(report_token, created, body), new_folder=new_folder)
    body = with_extra_fields(ctx.storage, body, fields)
    if exported is not None:
        body["exported_report"] = exported
    return body


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
    body = restated(json.loads(report["body"]), filtered=ctx.flag("filtered"))
    return with_extra_fields(ctx.storage, body, ctx.many("with_field"))


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

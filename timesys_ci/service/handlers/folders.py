"""Folders inside groups (the Private Workspace has none)."""
from __future__ import annotations

from typing import Any

from timesys_ci.service import access
from timesys_ci.service.context import Context
from timesys_ci.service.errors import bad_request
from timesys_ci.service.handlers import shapes


def get_folders(ctx: Context) -> Any:
    archived = ctx.flag("archived_only")
    folder_token = ctx.one("folder_token")
    group_token = ctx.first("group_token", "product_token")
    if folder_token:
        access.folder_for(ctx, folder_token)
        rows = ctx.storage.folders(parent_token=folder_token, archived=archived)
    elif group_token:
        access.group_for(ctx, group_token)
        rows = ctx.storage.folders(group_token=group_token, archived=archived)
    else:
        rows = [row for group in ctx.storage.visible_groups(ctx.email, archived=False, include_workspaces=False,
                                                            is_admin=ctx.is_admin)
                for row in ctx.storage.folders(group_token=group["token"], archived=archived)]
    return [shapes.folder(row) for row in rows]


def create_folder(ctx: Context) -> Any:
    name = ctx.required("folder_name").strip()
    description = ctx.one("description", "") or ""
    parent_token = ctx.one("folder_token")
    if parent_token:
        parent = access.folder_for(ctx, parent_token, "write")
        group_token = parent["group_token"]
    else:
        group_token = ctx.first("group_token", "product_token") or ""
        if not group_token:
            raise bad_request("parameter 'group_token' or 'folder_token' is required")
        group = access.group_for(ctx, group_token, "write")
        if group["kind"] == "workspace":
            raise bad_request("the Private Workspace has no folders")
    row = ctx.storage.create_folder(name, description, group_token, parent_token)
    return {"folder_name": row["name"], "group_token": row["group_token"], "folder_token": row["token"],
            "description": row["description"], "creation_date": row["created"],
            "parent_folder_token": row["parent_token"]}


def _set_archived(ctx: Context, archived: bool) -> Any:
    tokens = ctx.many("tokens")
    if not tokens:
        raise bad_request("parameter 'tokens' is required")
    for token in tokens:
        access.folder_for(ctx, token, "write")
    ctx.storage.set_folders_archived(tokens, archived)
    return shapes.success(f"{len(tokens)} folder(s) {'archived' if archived else 'unarchived'}", tokens=tokens)


HANDLERS = {"get_folders": get_folders, "create_folder": create_folder,
            "archive_folders": lambda ctx: _set_archived(ctx, True),
            "unarchive_folders": lambda ctx: _set_archived(ctx, False)}

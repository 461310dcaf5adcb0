"""Groups, subgroups, members, settings and the activity log."""
from __future__ import annotations

import json
from typing import Any

from timesys.vigiles.groups import LOG_METHODS, LOG_TYPES, ON_OFF, VULN_IDENTIFIERS
from timesys_ci.service import access
from timesys_ci.service.context import Context
from timesys_ci.service.errors import bad_request, not_found
from timesys_ci.service.handlers import shapes
from timesys_ci.service.storage import ROLES

ROLE_ALIASES = {"user": "editor", "member": "editor", "read-only": "viewer", "readonly": "viewer", "owner": "admin"}


def _role(value: str) -> str:
    role = ROLE_ALIASES.get(value.strip().lower(), value.strip().lower())
    if role not in ROLES:
        raise bad_request(f"parameter 'role' must be one of {', '.join(ROLES)}, not {value!r}")
    return role


def get_groups(ctx: Context) -> Any:
    rows = ctx.storage.visible_groups(ctx.email, archived=False, include_workspaces=ctx.flag("include_private_workspaces"),
                                      is_admin=ctx.is_admin)
    return [shapes.group(row, owner_as_name=row["owner_email"] != ctx.email) for row in rows]


def get_archived_groups(ctx: Context) -> Any:
    rows = ctx.storage.visible_groups(ctx.email, archived=True, include_workspaces=False, is_admin=ctx.is_admin)
    return [shapes.group(row) for row in rows]


def create_group(ctx: Context) -> Any:
    name = ctx.required("group_name").strip()
    parent_token = ctx.one("group_token")
    parent = access.group_for(ctx, parent_token, "admin") if parent_token else None
    if parent is not None and parent["kind"] == "workspace":
        raise bad_request("the Private Workspace cannot have subgroups")
    row = ctx.storage.create_group(name, ctx.one("description", "") or "", parent, ctx.email)
    return {"name": row["name"], "description": row["description"], "token": row["token"],
            "group_type": shapes.group_type(row)}


def get_group_info(ctx: Context) -> Any:
    group = access.group_for(ctx, ctx.arg("group_token"))
    info = shapes.group(group)
    if ctx.flag("subgroups"):
        info["subgroups"] = [{"name": row["name"], "token": row["token"]} for row in ctx.storage.subgroups(group["token"])]
    return info


def _set_archived(ctx: Context, archived: bool) -> Any:
    tokens = ctx.many("tokens")
    if not tokens:
        raise bad_request("parameter 'tokens' is required")
    for token in tokens:
        if access.group_for(ctx, token, "admin")["kind"] == "workspace":
            raise bad_request("the Private Workspace cannot be archived")
    ctx.storage.set_groups_archived(tokens, archived)
    return shapes.success(f"{len(tokens)} group(s) {'archived' if archived else 'unarchived'}", tokens=tokens)


def delete_group(ctx: Context) -> Any:
    group = access.group_for(ctx, ctx.arg("group_token"), "admin")
    if group["kind"] == "workspace":
        raise bad_request("the Private Workspace cannot be deleted")
    ctx.storage.delete_group(group["token"])
    return shapes.message(f"group {group['name']!r} deleted")


def get_group_members(ctx: Context) -> Any:
    group = access.group_for(ctx, ctx.arg("group_token"))
    return {"group_name": group["name"], "description": group["description"], "token": group["token"],
            "group_type": shapes.group_type(group),
            "group_members": [{"email": row["email"], "role": row["role"],
                               "access_subgroups": bool(row["access_subgroups"]), "added": row["added"]}
                              for row in ctx.storage.members(group["token"])]}


def _log_member_change(ctx: Context, group_token: str, log_type: str, description: str) -> None:
    ctx.storage.log_activity(group_token=group_token, log_type=log_type, user_email=ctx.email, description=description)


def _admins_left(ctx: Context, group_token: str, without: str) -> int:
    return sum(1 for row in ctx.storage.members(group_token) if row["role"] == "admin" and row["email"] != without)


def add_group_member(ctx: Context) -> Any:
    group = access.group_for(ctx, ctx.arg("group_token"), "admin")
    email, role = ctx.required("member_email").strip(), _role(ctx.required("role"))
    if group["kind"] == "workspace":
        raise bad_request("the Private Workspace cannot be shared")
    ctx.storage.put_member(group["token"], email, role, ctx.flag("allow_access_to_subgroups"))
    _log_member_change(ctx, group["token"], "add_member", f"{email} added as {role}")
    return shapes.message(f"{email} added to {group['name']!r} as {role}")


def update_group_member(ctx: Context) -> Any:
    group = access.group_for(ctx, ctx.arg("group_token"), "admin")
    email, role = ctx.arg("member_email"), _role(ctx.required("new_role"))
    member = ctx.storage.member(group["token"], email)
    if member is None:
        raise not_found("member", email)
    if member["role"] == "admin" and role != "admin" and not _admins_left(ctx, group["token"], email):
        raise bad_request(f"{email} is the group's last admin")
    ctx.storage.put_member(group["token"], email, role)
    _log_member_change(ctx, group["token"], "update_member", f"{email} is now {role}")
    return shapes.message(f"{email} is now {role} in {group['name']!r}")


def remove_group_member(ctx: Context) -> Any:
    group = access.group_for(ctx, ctx.arg("group_token"), "admin")
    email = ctx.arg("member_email")
    member = ctx.storage.member(group["token"], email)
    if member is None:
        raise not_found("member", email)
    if member["role"] == "admin" and not _admins_left(ctx, group["token"], email):
        raise bad_request(f"{email} is the group's last admin")
    ctx.storage.remove_member(group["token"], email)
    _log_member_change(ctx, group["token"], "remove_member", f"{email} removed")
    return shapes.message(f"{email} removed from {group['name']!r}")


def get_group_settings(ctx: Context) -> Any:
    group = access.group_for(ctx, ctx.arg("group_token"))
    return {"name": group["name"], "token": group["token"], "vuln_identifiers": json.loads(group["vuln_identifiers"]),
            "vuln_strict_match": group["vuln_strict_match"], "report_dep_vulns": group["report_dep_vulns"],
            "auto_close_jira_issues": group["auto_close_jira_issues"]}


def update_group_settings(ctx: Context) -> Any:
    group = access.group_for(ctx, ctx.arg("group_token"), "admin")
    changes: dict[str, Any] = {}
    if "vuln_identifiers" in ctx.params:
        identifiers = ctx.many("vuln_identifiers")
        bad = [value for value in identifiers if value not in VULN_IDENTIFIERS]
        if bad or not identifiers:
            raise bad_request(f"parameter 'vuln_identifiers' values must be among {', '.join(VULN_IDENTIFIERS)}")
        changes["vuln_identifiers"] = identifiers
    for name in ("vuln_strict_match", "report_dep_vulns", "auto_close_jira_issues"):
        value = ctx.choice(name, ON_OFF)
        if value is not None:
            changes[name] = value
    ctx.storage.update_settings(group["token"], changes)
    return shapes.message(f"settings of {group['name']!r} updated" if changes else "nothing to change")


def search_activity_log(ctx: Context) -> Any:
    group = access.group_for(ctx, ctx.arg("group_token"))
    ctx.choice("log_type", LOG_TYPES + ("add_member", "update_member", "remove_member"))
    ctx.choice("log_method", LOG_METHODS)
    wire_to_column = {"log_type": "log_type", "log_method": "method", "folder_token": "folder_token",
                      "manifest_token": "manifest_token", "report_token": "report_token", "user_email": "user_email",
                      "package_name": "package", "package_version": "package_version", "vuln_id": "vuln_id"}
    filters = {column: ctx.one(wire) for wire, column in wire_to_column.items() if ctx.one(wire)}
    return [{"date": row["date"], "log_type": row["log_type"], "method": row["method"],
             "description": row["description"], "group": row["group_token"], "folder": row["folder_token"],
             "report": row["report_token"], "manifest": row["manifest_token"], "user": row["user_email"],
             "vuln_id": row["vuln_id"], "package": row["package"], "package_version": row["package_version"]}
            for row in ctx.storage.activity(group["token"], filters)]  # type: ignore[arg-type]


HANDLERS = {"get_groups": get_groups, "get_archived_groups": get_archived_groups, "create_group": create_group,
            "get_group_info": get_group_info, "bulk_archive_groups": lambda ctx: _set_archived(ctx, True),
            "bulk_unarchive_groups": lambda ctx: _set_archived(ctx, False), "delete_group": delete_group,
            "get_group_members": get_group_members, "add_group_member": add_group_member,
            "update_group_member": update_group_member, "remove_group_member": remove_group_member,
            "get_group_settings": get_group_settings, "update_group_settings": update_group_settings,
            "search_activity_log": search_activity_log}

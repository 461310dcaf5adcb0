"""Who may see and change what: every handler resolves tokens through these checks.

Something a user may not see answers 404 (its existence is not revealed); something
they may see but not change answers 403.
"""
from __future__ import annotations

import sqlite3
from typing import Literal, Optional

from timesys_ci.service.context import Context
from timesys_ci.service.errors import forbidden, not_found

Need = Literal["read", "write", "admin"]
_RANK = {"viewer": 0, "editor": 1, "admin": 2}
_NEEDED = {"read": 0, "write": 1, "admin": 2}


def role_in(ctx: Context, group_token: str) -> Optional[str]:
    if ctx.is_admin:
        return "admin"
    return ctx.storage.role_of(ctx.email, group_token)


def group_for(ctx: Context, token: str, need: Need = "read", what: str = "group") -> sqlite3.Row:
    group = ctx.storage.group(token)
    role = role_in(ctx, token) if group is not None else None
    if group is None or role is None:
        raise not_found(what, token)
    if _RANK.get(role, 0) < _NEEDED[need]:
        raise forbidden(f"your role in {what} {token!r} is {role}; this needs {'admin' if need == 'admin' else 'editor'}")
    return group


def _in_group(ctx: Context, row: Optional[sqlite3.Row], what: str, token: str, need: Need) -> sqlite3.Row:
    """A folder or SBOM row, checked through the group it belongs to."""
    if row is None or role_in(ctx, row["group_token"]) is None:
        raise not_found(what, token)
    group_for(ctx, row["group_token"], need)
    return row


def folder_for(ctx: Context, token: str, need: Need = "read") -> sqlite3.Row:
    return _in_group(ctx, ctx.storage.folder(token), "folder", token, need)


def manifest_for(ctx: Context, token: str, need: Need = "read") -> sqlite3.Row:
    return _in_group(ctx, ctx.storage.manifest(token), "SBOM", token, need)


def report_for(ctx: Context, token: str) -> sqlite3.Row:
    report = ctx.storage.report(token)
    if report is None:
        raise not_found("report", token)
    manifest = ctx.storage.manifest(report["manifest_token"])
    if manifest is None or role_in(ctx, manifest["group_token"]) is None:
        raise not_found("report", token)
    return report


def workspace_of(ctx: Context) -> sqlite3.Row:
    user = ctx.storage.user(ctx.email)
    assert user is not None  # authenticated
    return ctx.storage.group(user["workspace_token"])  # type: ignore[return-value]

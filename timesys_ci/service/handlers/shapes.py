"""The JSON shapes of vigiles-api.md section 6, built from stored rows in one place."""
from __future__ import annotations

import sqlite3
from typing import Any



def group_type(group: sqlite3.Row) -> str:
    if group["kind"] == "workspace":
        return "Private Workspace"
    return "Subgroup" if group["parent_token"] else "Group"


def group(row: sqlite3.Row, *, owner_as_name: bool = False) -> dict[str, Any]:
    name = row["owner_email"] if owner_as_name and row["kind"] == "workspace" else row["name"]
    return {"name": name, "description": row["description"], "token": row["token"], "group_type": group_type(row),
            "organization_token": row["organization_token"]}


def folder(row: sqlite3.Row) -> dict[str, Any]:
    return {"folder_token": row["token"], "folder_name": row["name"], "folder_description": row["description"],
            "creation_date": row["created"], "group_token": row["group_token"], "product_token": row["group_token"],
            "parent_folder_token": row["parent_token"], "archived": bool(row["archived"])}


def manifest(row: sqlite3.Row) -> dict[str, Any]:
    return {"manifest_name": row["name"], "manifest_token": row["token"], "group_token": row["group_token"],
            "product_token": row["group_token"], "folder_token": row["folder_token"], "upload_date": row["upload_date"]}


def message(text: str, status: int = 200) -> dict[str, Any]:
    return {"message": text, "status_code": status}


def success(text: str, **extra: Any) -> dict[str, Any]:
    return {"success": True, "message": text, **extra}

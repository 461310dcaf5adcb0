"""The LinuxLink-era products API: products are groups under their old name."""
from __future__ import annotations

from typing import Any

from timesys_ci.service import access
from timesys_ci.service.context import Context


def get_products(ctx: Context) -> Any:
    rows = ctx.storage.visible_groups(ctx.email, archived=False, include_workspaces=False, is_admin=ctx.is_admin)
    return [{"name": row["name"], "description": row["description"], "token": row["token"]} for row in rows]


def create_product(ctx: Context) -> Any:
    row = ctx.storage.create_group(ctx.required("name").strip(), ctx.one("desc", "") or "", None, ctx.email)
    return {"name": row["name"], "description": row["description"], "token": row["token"]}


def get_product_info(ctx: Context) -> Any:
    row = access.group_for(ctx, ctx.arg("product_token"), what="product")
    return {"name": row["name"], "description": row["description"], "token": row["token"], "is_default": False,
            "created": row["created"]}


HANDLERS = {"get_products": get_products, "create_product": create_product, "get_product_info": get_product_info}

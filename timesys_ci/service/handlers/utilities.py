from __future__ import annotations

from typing import Any

from timesys.core.version import TOOL_NAME, tool_version
from timesys_ci.service.context import Context


def heartbeat(ctx: Context) -> Any:
    return {"ok": True}


def about(ctx: Context) -> Any:
    data = ctx.storage.vulns.data_summary()
    return {"app_version": f"{TOOL_NAME} local service {tool_version()}",
            "database_version": f"schema {ctx.storage.db.schema_version}",
            "vulnerability_records": data["records"], "vuln_data": data}


HANDLERS = {"heartbeat": heartbeat, "get_app_db_version": about}

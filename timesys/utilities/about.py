from __future__ import annotations

from typing import Any

from timesys.core import endpoints


def get_app_db_version() -> Any:
    """The server's application and database versions: `{app_version, database_version}`."""
    return endpoints.ABOUT.call()

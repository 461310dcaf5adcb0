from __future__ import annotations

from typing import Any

from timesys.core import endpoints


def heartbeat() -> Any:
    """Check authentication and server availability; `{'ok': True}` on success."""
    return endpoints.HEARTBEAT.call()

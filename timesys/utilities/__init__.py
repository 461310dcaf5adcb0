"""Utility calls: heartbeat and server version."""
from timesys.utilities.about import get_app_db_version
from timesys.utilities.heartbeat import heartbeat

__all__ = ["heartbeat", "get_app_db_version"]

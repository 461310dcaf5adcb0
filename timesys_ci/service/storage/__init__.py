"""Service storage: SQLite under the data directory."""
from timesys_ci.service.storage.database import Database, SchemaError
from timesys_ci.service.storage.repository import ROLES, Storage, new_token, now

__all__ = ["Database", "SchemaError", "Storage", "ROLES", "new_token", "now"]

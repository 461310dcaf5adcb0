"""Errors and their exit statuses live in `timesys_ci.exits` (shared beyond the CLI); names kept for the CLI."""
from timesys_ci.exits import SERVICE_SIDE_4XX, UsageError, caused_by_input, exit_code_for

__all__ = ["SERVICE_SIDE_4XX", "UsageError", "caused_by_input", "exit_code_for"]

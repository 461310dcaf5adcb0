"""The exit statuses live in `timesys_ci.exits` (shared beyond the CLI); this name stays for the CLI's own modules."""
from timesys_ci.exits import GATE_FAILED, INTERNAL, INTERRUPTED, MEANINGS, OK, SERVICE, USAGE, describe

__all__ = ["OK", "GATE_FAILED", "USAGE", "SERVICE", "INTERNAL", "INTERRUPTED", "MEANINGS", "describe"]

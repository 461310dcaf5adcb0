"""Exit statuses of every timesys-ci command (shared with the commands registered by other modules)."""
from __future__ import annotations

OK = 0
#: The build gate failed (vulnerabilities over the policy); only `upload`/`gate` use it.
GATE_FAILED = 1
#: Usage or configuration error: bad arguments, missing/invalid key or settings, unreadable input file.
USAGE = 2
#: Service, network or authentication error: any `timesys.APIError` or `timesys.TransportError`.
SERVICE = 3
#: A bug in timesys-ci itself (an unexpected exception); distinct so it never looks like a gate result.
INTERNAL = 70
#: Interrupted by the user (Ctrl-C), as shells report SIGINT.
INTERRUPTED = 130

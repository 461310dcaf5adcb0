"""Exit statuses of every timesys-ci command (the mapping of errors to them: `timesys_ci.errors`).

Shared by the CLI and by every package that registers commands or runs one (`job`, `kernel`, `vulndb`,
`service`, `buildsystems`), so none of them imports the CLI package for it.
The README's exit-status table and `--help` both describe these; keep the three in step.
This module imports nothing, so `--help` can show the statuses without loading the client.
"""
from __future__ import annotations


OK = 0
#: The build gate failed (vulnerabilities over the policy); only `upload`/`gate` use it.
GATE_FAILED = 1
#: Usage or input error, found before anything is sent or answered with a 4xx by the service: bad arguments or
#: option combinations, missing/invalid key or settings, an unreadable, unrecognised or empty SBOM, an unknown token.
USAGE = 2
#: Service, network or authentication error: no answer, 5xx, 401/403, 408/429, an unusable answer.
SERVICE = 3
#: A bug in timesys-ci itself (an unexpected exception); distinct so it never looks like a gate result.
INTERNAL = 70
#: Interrupted by the user (Ctrl-C), as shells report SIGINT.
INTERRUPTED = 130

#: One line per status, for `--help`.
MEANINGS: dict[int, str] = {
    OK: "success (gate passed)",
    GATE_FAILED: "gate failed",
    USAGE: "usage, configuration or input error (nothing sent, or a 4xx answer to it)",
    SERVICE: "service, network or authentication error",
    INTERNAL: "internal error (a bug: please report it)",
    INTERRUPTED: "interrupted",
}


def describe() -> str:
    """`0 success (gate passed), 1 gate failed, ...` for help texts."""
    return ", ".join(f"{code} {meaning}" for code, meaning in MEANINGS.items()) + \
        "; any other status: the process was killed (128 + signal number) or Python could not start it"

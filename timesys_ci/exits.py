"""Exit statuses of every timesys-ci command, and the mapping of every error to one.

Shared by the CLI and by every package that registers commands or runs one (`job`, `kernel`, `vulndb`,
`service`, `buildsystems`), so none of them imports the CLI package for it.
The README's exit-status table and `--help` both describe these; keep the three in step.
"""
from __future__ import annotations

from timesys.exceptions import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ParameterError,
    TransportError,
    VigilesError,
)

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


#: 4xx answers that say nothing about the user's input: the service is busy or timed out (exit 3, may be retried).
SERVICE_SIDE_4XX = frozenset({408, 429})


class UsageError(ParameterError):
    """Bad command-line usage or an unreadable input file (exit status 2); the message names the culprit."""


def caused_by_input(exc: APIError) -> bool:
    """A 4xx the user's own input caused (unknown token, bad value, malformed SBOM), not the service or the login."""
    status = exc.status or 0
    return 400 <= status < 500 and status not in SERVICE_SIDE_4XX and not isinstance(exc, AuthenticationError)


def exit_code_for(exc: BaseException) -> int:
    """Configuration and usage problems (and 4xx answers to them) -> 2, service/network/auth -> 3, bugs -> 70."""
    if isinstance(exc, APIError):
        return USAGE if caused_by_input(exc) else SERVICE
    if isinstance(exc, TransportError):
        return SERVICE
    if isinstance(exc, (ConfigurationError, ParameterError)):
        return USAGE
    if isinstance(exc, VigilesError):
        return SERVICE
    return INTERNAL

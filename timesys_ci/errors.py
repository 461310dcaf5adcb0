"""Which exit status (`timesys_ci.exits`) each error gets, and the CLI's own usage error."""
from __future__ import annotations

from timesys.exceptions import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ParameterError,
    TransportError,
    VigilesError,
)

from timesys_ci.exits import INTERNAL, SERVICE, USAGE

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

"""Errors the CLI itself raises, and the mapping of every error to an exit status."""
from __future__ import annotations

from timesys.exceptions import APIError, ConfigurationError, ParameterError, TransportError, VigilesError
from timesys_ci.cli import exit_codes


class UsageError(ParameterError):
    """Bad command-line usage or an unreadable input file (exit status 2); the message names the culprit."""


def exit_code_for(exc: BaseException) -> int:
    """Configuration and usage problems -> 2, service/network/auth -> 3, anything unexpected -> 70."""
    if isinstance(exc, (APIError, TransportError)):
        return exit_codes.SERVICE
    if isinstance(exc, (ConfigurationError, ParameterError)):
        return exit_codes.USAGE
    if isinstance(exc, VigilesError):
        return exit_codes.SERVICE
    return exit_codes.INTERNAL

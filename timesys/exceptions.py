"""One exception hierarchy for everything the client can report.

All derive from `VigilesError(Exception)`, so scripts written against the
reference client (which raised bare `Exception`) keep working. Every message is
a single line and never contains the API key or a signature.
"""
from __future__ import annotations

from typing import Any, Optional


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class VigilesError(Exception):
    """Base class of every error raised by `timesys`."""

    def __init__(self, message: str, *, status: Optional[int] = None, server_message: Optional[str] = None) -> None:
        self.message = _one_line(message)
        self.status = status
        self.server_message = server_message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class ConfigurationError(VigilesError):
    """Missing, unreadable or invalid key file / dashboard config, or client not configured."""


class ParameterError(VigilesError, ValueError):
    """A call's arguments failed client-side validation (nothing was sent)."""


class TransportError(VigilesError):
    """The request did not get an HTTP answer: connection, timeout or TLS failure.

    `never_connected` is true when no connection was established, so the server
    cannot have acted on the request (safe to retry any method).
    """

    def __init__(self, message: str, *, never_connected: bool = False) -> None:
        super().__init__(message)
        self.never_connected = never_connected


class ConnectionFailedError(TransportError):
    """No connection could be made, or it was dropped before an answer arrived."""


class RequestTimeoutError(TransportError):
    """The server did not answer within the configured timeout."""


class TLSError(TransportError):
    """TLS handshake or certificate verification failed."""


class APIError(VigilesError):
    """The service answered with an HTTP error status (>= 400) or an unusable body."""

    @classmethod
    def from_response(cls, status: int, body: Any, prefix: str) -> "APIError":
        server_message = _server_message(body)
        detail = server_message if server_message is not None else f"HTTP {status}"
        error_class = _class_for_status(status)
        return error_class(f"{prefix}: {detail} (HTTP {status})", status=status, server_message=server_message)


class AuthenticationError(APIError):
    """401 or 403: bad signature, unknown email, or not allowed."""


class NotFoundError(APIError):
    """404: the token, CVE or resource does not exist (or is not visible to this user)."""


class BadRequestError(APIError):
    """Any other 4xx: the service rejected the parameters or the manifest."""


class ServerError(APIError):
    """5xx: the service failed."""


class InvalidResponseError(APIError):
    """A success status with a body that is not the JSON the call expects."""


def _class_for_status(status: int) -> type[APIError]:
    if status in (401, 403):
        return AuthenticationError
    if status == 404:
        return NotFoundError
    if 400 <= status < 500:
        return BadRequestError
    return ServerError


def _server_message(body: Any) -> Optional[str]:
    """The human part of an error body: `message`/`error`/`detail`, else the JSON text."""
    if body is None:
        return None
    if isinstance(body, dict):
        for key in ("message", "error", "detail", "msg"):
            if isinstance(body.get(key), str) and body[key].strip():
                return _one_line(body[key])
    if isinstance(body, str):
        return _one_line(body) or None
    import json

    return _one_line(json.dumps(body, sort_keys=True))

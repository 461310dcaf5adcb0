"""The error every handler raises to answer with an HTTP status and a JSON message."""
from __future__ import annotations

from typing import Any, Optional


class ServiceError(Exception):
    def __init__(self, status: int, message: str, extra: Optional[dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        return {"success": False, "status_code": self.status, "message": self.message, **self.extra}


def bad_request(message: str) -> ServiceError:
    return ServiceError(400, message)


def not_found(what: str, token: str) -> ServiceError:
    return ServiceError(404, f"{what} {token!r} not found")


def forbidden(message: str) -> ServiceError:
    return ServiceError(403, message)

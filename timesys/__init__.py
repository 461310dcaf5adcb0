"""Vigiles client library, request-for-request compatible with the reference `timesys` package.

>>> import timesys
>>> timesys.llapi.configure(key_file_path="~/timesys/linuxlink_key")
>>> timesys.utilities.heartbeat()
{'ok': True}
"""
from __future__ import annotations

import logging

from timesys.core.version import tool_version

__version__ = tool_version()
logger = logging.getLogger("timesys")

from timesys.exceptions import (  # noqa: E402
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConnectionFailedError,
    InvalidResponseError,
    NotFoundError,
    ParameterError,
    RequestTimeoutError,
    ServerError,
    TLSError,
    TransportError,
    VigilesError,
)
from timesys.core.llapi import LLAPI  # noqa: E402

#: The shared client object used by every operation function.
llapi = LLAPI()

from timesys import core, utilities, vigiles  # noqa: E402

__all__ = [
    "llapi", "logger", "__version__", "core", "utilities", "vigiles", "LLAPI",
    "VigilesError", "ConfigurationError", "ParameterError", "TransportError", "ConnectionFailedError",
    "RequestTimeoutError", "TLSError", "APIError", "AuthenticationError", "NotFoundError", "BadRequestError",
    "ServerError", "InvalidResponseError",
]

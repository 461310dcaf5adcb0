"""HTTP transport: one `requests.Session` per client, timeouts, safe retries, error mapping.

Retries follow decision D3: a request is repeated only when repeating cannot
duplicate work on the server -- the connection was never established, or the
server said it did not process it (429/503), or the method is idempotent and
the failure was a gateway error, a dropped connection or a read timeout.
"""
from __future__ import annotations

import email.utils
import logging
import re
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple, Union
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from timesys.core.encoding import FormBody
from timesys.core.version import tool_version
from timesys.exceptions import (
    APIError,
    ConnectionFailedError,
    InvalidResponseError,
    RequestTimeoutError,
    TLSError,
    TransportError,
)

logger = logging.getLogger(__name__)

Timeout = Union[float, Tuple[float, float]]
# connect, read. The read timeout bounds each wait for the next bytes of the answer, and the service
# answers an upload only once its scan is done: it must exceed the slowest scan (minutes for big SBOMs
# on a busy server), yet still end a wait on a server that has hung.
DEFAULT_TIMEOUT: Tuple[float, float] = (10.0, 300.0)
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
NOT_PROCESSED_STATUSES = frozenset({429, 503})  # the server says it did not act on the request
GATEWAY_STATUSES = frozenset({502, 504})  # the request may or may not have reached the application


@dataclass
class RetryPolicy:
    max_attempts: int = 4
    backoff_factor: float = 0.5  # seconds; doubles each attempt
    backoff_max: float = 30.0
    retry_after_max: float = 120.0  # a longer Retry-After is not waited for

    def delay(self, attempt: int, retry_after: Optional[float]) -> Optional[float]:
        """Seconds to wait before attempt `attempt + 1`, or None to give up."""
        if attempt >= self.max_attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.retry_after_max else None
        ceiling = min(self.backoff_max, self.backoff_factor * (2 ** (attempt - 1)))
        return random.uniform(ceiling / 2, ceiling)  # jitter spreads clients that failed together


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _never_connected(exc: BaseException) -> bool:
    """True when the TCP connection was never established (safe to retry any method)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError)):
            return True
        stack.extend(current.args)
        stack.extend([getattr(current, "reason", None), current.__cause__, current.__context__])
    return False


class Transport:
    """Sends prepared requests; owns the session and the retry loop."""

    def __init__(self, *, timeout: Timeout = DEFAULT_TIMEOUT, retry: Optional[RetryPolicy] = None,
                 verify: Union[bool, str] = True, sleep: Callable[[float], None] = time.sleep) -> None:
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.verify = verify
        self._sleep = sleep
        self._session: Optional[requests.Session] = None

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            session = requests.Session()  # trust_env: proxies and CA bundle variables apply
            session.headers["User-Agent"] = f"timesys/{tool_version()} {requests.utils.default_user_agent()}"
            self._session = session
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def request(self, method: str, url: str, *, resource: str, body: Optional[FormBody], headers: dict[str, str],
                raw: bool, error_prefix: str) -> Any:
        """Send, retrying where safe; return parsed JSON or raw bytes, or raise a VigilesError."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send_once(method, url, body, headers)
            except TransportError as exc:
                retryable = exc.never_connected or method in IDEMPOTENT_METHODS
                wait = self.retry.delay(attempt, None) if retryable and not isinstance(exc, TLSError) else None
                if wait is None:
                    raise
                logger.warning("%s %s: %s; retry %d of %d in %.1f s", method, resource, _retry_reason(exc),
                               attempt, self.retry.max_attempts - 1, wait)
                self._sleep(wait)
                continue
            status = response.status_code
            if status in NOT_PROCESSED_STATUSES or (status in GATEWAY_STATUSES and method in IDEMPOTENT_METHODS):
                wait = self.retry.delay(attempt, parse_retry_after(response.headers.get("Retry-After")))
                if wait is not None:
                    logger.warning("%s %s: HTTP %d; retry %d of %d in %.1f s", method, resource, status,
                                   attempt, self.retry.max_attempts - 1, wait)
                    response.close()
                    self._sleep(wait)
                    continue
            return self._result(response, raw, error_prefix)

    def _send_once(self, method: str, url: str, body: Optional[FormBody], headers: dict[str, str]) -> requests.Response:
        try:
            return self.session.request(
                # A fresh reader per attempt; requests sends it with Content-Length = len(body), in blocks.
                method, url, data=body.reader() if body is not None else None, headers=headers,
                timeout=self.timeout, verify=self.verify,
                # A redirected POST would arrive as a GET without its signed body.
                allow_redirects=method == "GET",
            )
        except requests.exceptions.SSLError as exc:
            raise TLSError(f"TLS failure talking to {_host(url)}: {_reason(exc)}") from None
        except requests.exceptions.Timeout as exc:
            raise RequestTimeoutError(f"no answer from {_host(url)} within the timeout ({_reason(exc)})",
                                      never_connected=_never_connected(exc)) from None
        except requests.exceptions.ConnectionError as exc:
            raise ConnectionFailedError(f"connection to {_host(url)} failed: {_reason(exc)}",
                                        never_connected=_never_connected(exc)) from None
        except requests.exceptions.RequestException as exc:
            raise TransportError(f"request to {_host(url)} failed: {_reason(exc)}") from None

    @staticmethod
    def _result(response: requests.Response, raw: bool, error_prefix: str) -> Any:
        status = response.status_code
        logger.debug("%s %s -> HTTP %d in %.3f s", response.request.method, response.request.path_url.split("?")[0],
                     status, response.elapsed.total_seconds())
        if status >= 400:
            try:
                body: Any = response.json()
            except ValueError:
                body = None
            raise APIError.from_response(status, body, error_prefix)
        if 300 <= status < 400:
            location = response.headers.get("Location", "?")
            raise APIError(f"{error_prefix}: redirected to {location}; configure that URL instead (HTTP {status})",
                           status=status)
        if raw:
            return response.content
        try:
            return response.json()
        except ValueError as exc:
            raise InvalidResponseError(f"{error_prefix}: error parsing JSON response: {exc}", status=status) from None


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _reason(exc: BaseException) -> str:
    """The innermost readable cause, one line (urllib3 nests them deeply)."""
    current: Any = exc
    for _ in range(6):
        inner = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        inner = inner or getattr(current, "reason", None)
        if not isinstance(inner, BaseException):
            break
        current = inner
    text = str(current)
    # urllib3 puts the pool object's repr (or "HTTPConnection(host=..., port=...): ") in front: keep the message.
    if ">: " in text:
        text = text.split(">: ", 1)[1]
    text = _CONNECTION_REPR.sub("", text)
    return " ".join(text.split()) or type(current).__name__


_CONNECTION_REPR = re.compile(r"^\w*Connection(?:Pool)?\(host=[^)]*\): ")
_ERRNO = re.compile(r"(?:Failed to establish a new connection: )?\[Errno -?\d+\] ")


def _retry_reason(exc: BaseException) -> str:
    """The short cause for a retry line: `connection refused`, not urllib3's sentence around it."""
    text = str(exc)
    text = text.split(" failed: ", 1)[1] if " failed: " in text else text
    return _ERRNO.sub("", text).rstrip(".").lower() if _ERRNO.search(text) else text


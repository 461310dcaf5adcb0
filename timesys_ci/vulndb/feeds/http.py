"""HTTP for the vulnerability feeds: one session, timeouts, retries, resumable downloads, rate limits.

Everything that talks to a feed goes through `FeedHttp`: JSON pages (NVD, the
GitHub releases API), files (zips, gzip CSVs) and line streams (OSV's
`modified_id.csv`). Retries reuse the client's `RetryPolicy` and `Retry-After`
parsing (`timesys.core.transport`): 429, 502, 503 and 504 are retried, and so is
a connection dropped before or during the body. A file download continues a
partial `.part` file with `Range`/`If-Range` when the server supports it, and
sends `If-None-Match`/`If-Modified-Since` when it has the previous validators.

The clock is injected (`Clock`), so tests check rate limits and back-off without
sleeping. Proxies (`HTTPS_PROXY`, `NO_PROXY`...) come from the environment, as
for the Vigiles client; the CA bundle and timeouts come from the settings.
"""
from __future__ import annotations

import collections
import http.client
import hashlib
import json
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Protocol, Union
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from timesys.core.transport import RetryPolicy, Timeout, parse_retry_after
from timesys.core.transport import _reason  # the innermost readable cause, one line
from timesys.core.version import TOOL_NAME, tool_version
from timesys.exceptions import (
    APIError,
    AuthenticationError,
    ConnectionFailedError,
    InvalidResponseError,
    RequestTimeoutError,
    TLSError,
    TransportError,
)
from timesys_ci.clock import SYSTEM_CLOCK, Clock

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT: tuple[float, float] = (15.0, 120.0)
RETRY_STATUSES = frozenset({429, 502, 503, 504})
CHUNK = 256 * 1024
#: A JSON answer larger than this is refused (an NVD page of 2000 records is about 30 MB).
MAX_JSON_BYTES = 512 * 1024 * 1024


class FeedHTTPError(APIError):
    """A feed answered with an error status (after retries); names the URL and the server's message."""


class FeedAccessError(FeedHTTPError, AuthenticationError):
    """401/403 after retries: a key refused, or (NVD) throttling or a firewall: a service-side failure."""


class FeedDataError(InvalidResponseError):
    """A feed answered, but not with what that feed publishes (bad JSON, a corrupt zip, a wrong size...)."""


class RateLimiter:
    """At most `limit` requests in any rolling `window` seconds (NVD: 5 or 50 per 30 s)."""

    def __init__(self, limit: int, window: float, clock: Clock) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._sent: collections.deque[float] = collections.deque()

    def acquire(self) -> None:
        now = self.clock.monotonic()
        while self._sent and now - self._sent[0] >= self.window:
            self._sent.popleft()
        if len(self._sent) >= self.limit:
            wait = self._sent[0] + self.window - now
            if wait > 0:
                logger.info("rate limit: %d requests per %.0f s; waiting %.1f s", self.limit, self.window, wait)
                self.clock.sleep(wait)
            self._sent.popleft()
        self._sent.append(self.clock.monotonic())


class Progress(Protocol):
    """What a download reports: `start` per file or page run (total if known), `advance` per chunk."""

    def start(self, label: str, total: Optional[int], done: int = 0, unit: str = "bytes") -> None: ...

    def advance(self, size: int) -> None: ...


class _NoProgress:
    def start(self, label: str, total: Optional[int], done: int = 0, unit: str = "bytes") -> None:
        pass

    def advance(self, size: int) -> None:
        pass


NO_PROGRESS: Progress = _NoProgress()


@dataclass(frozen=True)
class Validators:
    """What a server said identifies a file's version (for conditional and range requests)."""

    etag: Optional[str] = None
    last_modified: Optional[str] = None

    @classmethod
    def of(cls, response: requests.Response) -> "Validators":
        return cls(response.headers.get("ETag"), response.headers.get("Last-Modified"))

    def to_json(self) -> dict[str, Optional[str]]:
        return {"etag": self.etag, "last_modified": self.last_modified}


@dataclass(frozen=True)
class Download:
    """The result of `FeedHttp.download`: `path` is None when the server said "not modified"."""

    url: str
    path: Optional[Path]
    validators: Validators
    size: int = 0
    sha256: Optional[str] = None
    resumed_from: int = 0

    @property
    def modified(self) -> bool:
        return self.path is not None


def where(url: str) -> str:
    """Host and path of a URL (never its query: that is where tokens would be)."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"


_DROPPED = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError,
            urllib3.exceptions.HTTPError, http.client.HTTPException, requests.exceptions.Timeout)


def _body(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives: what came before a dropped connection is kept (to resume from)."""
    read1 = getattr(response.raw, "read1", None)  # urllib3 >= 2; iter_content would lose a partial chunk
    if read1 is None or response.headers.get("Content-Encoding"):
        yield from response.iter_content(16 * 1024)
        return
    while True:
        chunk = read1(CHUNK)
        if not chunk:
            return
        yield chunk


class FeedHttp:
    """The one HTTP client of `db update`."""

    def __init__(self, *, verify: Union[bool, str] = True, timeout: Timeout = DEFAULT_TIMEOUT,
                 retry: Optional[RetryPolicy] = None, clock: Clock = SYSTEM_CLOCK) -> None:
        self.verify = verify
        self.timeout = timeout
        self.retry = retry or RetryPolicy(max_attempts=6, backoff_factor=2.0, backoff_max=60.0,
                                          retry_after_max=600.0)
        self.clock = clock
        self._session: Optional[requests.Session] = None

    @property
    def session(self) -> requests.Session:
        if self._session is None:
            session = requests.Session()  # trust_env: proxy variables and REQUESTS_CA_BUNDLE apply
            agent = f"{TOOL_NAME}/{tool_version()} (db update) {requests.utils.default_user_agent()}"
            session.headers["User-Agent"] = agent
            self._session = session
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- one request, retried -----------------------------------------------------------------

    def _wait(self, attempt: int, retry_after: Optional[float], url: str, why: str) -> bool:
        delay = self.retry.delay(attempt, retry_after)
        if delay is None:
            return False
        logger.warning("%s: %s; retrying in %.1f s (attempt %d of %d)", where(url), why, delay, attempt + 1,
                       self.retry.max_attempts)
        self.clock.sleep(delay)
        return True

    def request(self, url: str, *, headers: Optional[Mapping[str, str]] = None,
                limiter: Optional[RateLimiter] = None, retry_statuses: frozenset[int] = RETRY_STATUSES,
                ok_statuses: frozenset[int] = frozenset({200}), stream: bool = True) -> requests.Response:
        """GET `url` (its query included), retrying what can be retried; an answer whose status is in
        `ok_statuses`, or a `FeedHTTPError`/`TransportError`."""
        attempt = 0
        while True:
            attempt += 1
            if limiter is not None:
                limiter.acquire()
            try:
                response = self.session.get(url, headers=dict(headers or {}), timeout=self.timeout,
                                            verify=self.verify, stream=stream)
            except requests.exceptions.SSLError as exc:
                raise TLSError(f"TLS failure talking to {urlsplit(url).netloc}: {_reason(exc)}") from None
            except _DROPPED as exc:
                if self._wait(attempt, None, url, _reason(exc)):
                    continue
                error = RequestTimeoutError if isinstance(exc, requests.exceptions.Timeout) else ConnectionFailedError
                raise error(f"{where(url)}: {_reason(exc)}") from None
            except requests.exceptions.RequestException as exc:
                raise TransportError(f"{where(url)}: {_reason(exc)}") from None
            status = response.status_code
            if status in ok_statuses:
                return response
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            response.close()
            if status in retry_statuses and self._wait(attempt, retry_after, url, f"HTTP {status}"):
                continue
            raise self._error(url, response)

    @staticmethod
    def _error(url: str, response: requests.Response) -> FeedHTTPError:
        status = response.status_code
        # NVD explains a refused request in a `message` header (bad parameter, invalid apiKey).
        message = response.headers.get("message")
        if status == 429 or status == 503:
            hint = "the server kept refusing (rate limit or overload); try again later"
        else:
            hint = message or response.reason or ""
        text = f"{where(url)}: HTTP {status}" + (f": {hint}" if hint else "")
        error = FeedAccessError if status in (401, 403) else FeedHTTPError
        return error(text, status=status, server_message=message)

    # -- JSON ---------------------------------------------------------------------------------

    def get_json(self, url: str, *, headers: Optional[Mapping[str, str]] = None,
                 limiter: Optional[RateLimiter] = None, retry_statuses: frozenset[int] = RETRY_STATUSES,
                 max_bytes: int = MAX_JSON_BYTES) -> tuple[Any, requests.Response]:
        """A JSON document (bounded in size); a body cut off mid-way is fetched again."""
        attempt = 0
        while True:
            attempt += 1
            response = self.request(url, headers=headers, limiter=limiter, retry_statuses=retry_statuses)
            try:
                body = self._read_bounded(response, max_bytes, url)
            except _DROPPED as exc:
                if self._wait(attempt, None, url, f"connection dropped mid-answer ({_reason(exc)})"):
                    continue
                raise ConnectionFailedError(f"{where(url)}: connection dropped mid-answer: {_reason(exc)}") from None
            try:
                return json.loads(body), response
            except (UnicodeDecodeError, ValueError) as exc:
                raise FeedDataError(f"{where(url)}: not JSON ({exc})", status=response.status_code) from None

    @staticmethod
    def _read_bounded(response: requests.Response, max_bytes: int, url: str) -> bytes:
        chunks, size = [], 0
        try:
            for chunk in response.iter_content(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise FeedDataError(f"{where(url)}: answer larger than {max_bytes} bytes; refused")
                chunks.append(chunk)
        finally:
            response.close()
        return b"".join(chunks)

    # -- lines --------------------------------------------------------------------------------

    def read_lines(self, url: str, keep: Callable[[str], bool], *, max_lines: int = 10_000_000) -> list[str]:
        """Lines of a text file from the top while `keep(line)` is true; the rest is never downloaded.

        A connection dropped mid-way is retried from the top (the file may have changed meanwhile).
        """
        attempt = 0
        while True:
            attempt += 1
            response = self.request(url)
            lines: list[str] = []
            try:
                for raw in response.iter_lines(CHUNK):
                    line = raw.decode("utf-8").strip()
                    if not line:
                        continue
                    if not keep(line):
                        return lines
                    lines.append(line)
                    if len(lines) > max_lines:
                        raise FeedDataError(f"{where(url)}: more than {max_lines} lines; refused")
                return lines
            except UnicodeDecodeError:
                raise FeedDataError(f"{where(url)}: not UTF-8 text") from None
            except _DROPPED as exc:
                if not self._wait(attempt, None, url, f"connection dropped mid-file ({_reason(exc)})"):
                    raise ConnectionFailedError(f"{where(url)}: connection dropped: {_reason(exc)}") from None
            finally:
                response.close()

    # -- files --------------------------------------------------------------------------------

    def download(self, url: str, dest: Path, *, known: Validators = Validators(), expected_size: Optional[int] = None,
                 max_bytes: Optional[int] = None, progress: Progress = NO_PROGRESS,
                 label: Optional[str] = None) -> Download:
        """Download `url` to `dest` through `dest.part`, continuing a partial file from an earlier run.

        `known`: validators of the copy we already have; the server may answer 304 (then `path` is None).
        `expected_size`: the size the index announced (GitHub asset `size`); a different size is refused.
        """
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        meta = dest.with_name(dest.name + ".part.json")
        label = label or Path(urlsplit(url).path).name
        attempt = 0
        started_at: Optional[int] = None
        while True:
            attempt += 1
            offset, partial = self._partial(part, meta, url)
            headers = {"Accept-Encoding": "identity"}  # byte ranges count the bytes stored on the server
            if offset and (partial.etag or partial.last_modified):
                headers["Range"] = f"bytes={offset}-"
                headers["If-Range"] = partial.etag or partial.last_modified or ""
            elif offset:
                offset = 0
            if not offset:
                if known.etag:
                    headers["If-None-Match"] = known.etag
                if known.last_modified:
                    headers["If-Modified-Since"] = known.last_modified
            response = self.request(url, headers=headers, ok_statuses=frozenset({200, 206, 304, 416}))
            status = response.status_code
            if status == 304:
                response.close()
                self._discard(part, meta)
                return Download(url, None, known)
            if status == 416:  # our partial is not a prefix of the file any more
                response.close()
                self._discard(part, meta)
                if self._wait(attempt, 0.0, url, "range not satisfiable; starting over"):
                    continue
                raise FeedHTTPError(f"{where(url)}: HTTP 416 even without a partial file", status=416)
            validators = Validators.of(response)
            if status == 206 and offset and _range_start(response) == offset:
                mode = "ab"
            else:
                offset, mode = 0, "wb"
            total = _total_size(response, offset)
            if expected_size is not None and total is not None and total != expected_size:
                response.close()
                self._discard(part, meta)
                raise FeedDataError(f"{where(url)}: the server sends {total} bytes, the index announced "
                                    f"{expected_size}")
            if started_at is None:
                started_at = offset
                progress.start(label, total, offset)
            meta.write_text(json.dumps({"url": url, **validators.to_json()}))
            limit = max_bytes if max_bytes is not None else expected_size
            try:
                with open(part, mode) as handle:
                    written = offset
                    for chunk in _body(response):
                        written += len(chunk)
                        if limit is not None and written > limit:
                            raise FeedDataError(f"{where(url)}: more than {limit} bytes; refused")
                        handle.write(chunk)
                        progress.advance(len(chunk))
                    handle.flush()
                    os.fsync(handle.fileno())
            except _DROPPED as exc:
                response.close()
                if self._wait(attempt, None, url, f"connection dropped at byte {part.stat().st_size} "
                                                  f"({_reason(exc)}); resuming"):
                    continue
                raise ConnectionFailedError(f"{where(url)}: connection dropped: {_reason(exc)}; "
                                            f"run again to resume") from None
            except FeedDataError:
                response.close()
                self._discard(part, meta)
                raise
            finally:
                response.close()
            size = part.stat().st_size
            if total is not None and size != total:
                if self._wait(attempt, None, url, f"got {size} of {total} bytes; resuming"):
                    continue
                raise ConnectionFailedError(f"{where(url)}: incomplete download ({size} of {total} bytes)")
            digest = sha256_file(part)
            os.replace(part, dest)
            meta.unlink(missing_ok=True)
            return Download(url, dest, validators, size, digest, resumed_from=started_at or 0)

    @staticmethod
    def _partial(part: Path, meta: Path, url: str) -> tuple[int, Validators]:
        """How much of `url` an earlier attempt left in `part`, and the validators it came with."""
        if not part.exists():
            meta.unlink(missing_ok=True)
            return 0, Validators()
        try:
            info = json.loads(meta.read_text())
        except (OSError, ValueError):
            info = {}
        if not isinstance(info, dict) or info.get("url") != url:
            part.unlink(missing_ok=True)
            meta.unlink(missing_ok=True)
            return 0, Validators()
        return part.stat().st_size, Validators(info.get("etag"), info.get("last_modified"))

    @staticmethod
    def _discard(part: Path, meta: Path) -> None:
        part.unlink(missing_ok=True)
        meta.unlink(missing_ok=True)


def _range_start(response: requests.Response) -> Optional[int]:
    """The first byte of a 206 answer (`Content-Range: bytes 100-199/200`)."""
    value = response.headers.get("Content-Range", "")
    unit, _, spec = value.partition(" ")
    start, _, _ = spec.partition("-")
    return int(start) if unit.strip() == "bytes" and start.isdigit() else None


def _total_size(response: requests.Response, offset: int) -> Optional[int]:
    """The whole file's size, if the answer says it."""
    if response.status_code == 206:
        total = response.headers.get("Content-Range", "").rpartition("/")[2]
        return int(total) if total.isdigit() else None
    length = response.headers.get("Content-Length")
    return int(length) if length and length.isdigit() else None


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()

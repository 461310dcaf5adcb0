"""The WSGI application: limits, routing, parameter decoding, authentication, dispatch, errors, logging."""
from __future__ import annotations

import json
import logging
import re
import time
from typing import Any, Iterable, Optional
from urllib.parse import quote

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from timesys.core.signing import SIGNATURE_HEADER
from timesys_ci.service import pages
from timesys_ci.service.auth import authenticate, signed_resource
from timesys_ci.service.context import Context, FileResult
from timesys_ci.service.errors import ServiceError
from timesys_ci.service.form import RawForm, scan_form
from timesys_ci.service.handlers import HANDLERS
from timesys_ci.service.routes import INDEX_PAGE, REPORT_PAGE, build_url_map
from timesys_ci.service.scanning import on_scan_thread
from timesys_ci.service.storage import Storage

logger = logging.getLogger("timesys_ci.service")
DEFAULT_MAX_BODY = 64 * 1024 * 1024  # bytes; large Yocto manifests with file lists are tens of MB
# Besides non-ASCII and controls: characters a sloppy header parser could split on or unquote.
# Requests that scan: handled on the service's one scan thread (see scanning.on_scan_thread for why).
SCANNING_ENDPOINTS = frozenset({"upload_manifest", "rescan_manifest"})
_NOT_HEADER_SAFE = re.compile(r'[^\x20-\x7e]|["\\%;,]')


def content_disposition(filename: str) -> str:
    """An attachment header that any name survives (RFC 6266): an ASCII `filename` and, if that
    had to change anything, the exact name as RFC 5987 `filename*` — never a raw CR, LF or quote."""
    fallback = _NOT_HEADER_SAFE.sub("_", filename) or "download"
    header = f'attachment; filename="{fallback}"'
    if fallback != filename:
        header += "; filename*=UTF-8''" + quote(filename.encode("utf-8", "replace"), safe="")
    return header


class VigilesService:
    """A WSGI app serving the Vigiles API from `storage`."""

    def __init__(self, storage: Storage, *, explain_signatures: bool = False,
                 max_body: int = DEFAULT_MAX_BODY) -> None:
        self.storage = storage
        self.explain_signatures = explain_signatures
        self.max_body = max_body
        self.url_map = build_url_map()
        self._adapter = self.url_map.bind("localhost")

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        started = time.monotonic()
        request = Request(environ)
        email: Optional[str] = None
        try:
            response, email = self._respond(request)
        except ServiceError as error:
            response = self._json(error.body(), error.status)
        except Exception:  # a bug: log it, answer 500, keep serving
            logger.exception("internal error handling %s %s", request.method, request.path)
            response = self._json({"success": False, "status_code": 500, "message": "internal server error"}, 500)
        logger.info("%s %s %d %.1f ms %s", request.method, request.path, response.status_code,
                    (time.monotonic() - started) * 1000, email or "-")
        return response(environ, start_response)

    def _respond(self, request: Request) -> tuple[Response, Optional[str]]:
        path = signed_resource(request.path)
        try:
            endpoint, path_args = self._adapter.match(path, method=request.method)
        except NotFound:
            raise ServiceError(404, f"no such endpoint: {request.method} {path}") from None
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or []))
            raise ServiceError(405, f"{request.method} is not allowed on {path} (allowed: {allowed})") from None
        if endpoint == REPORT_PAGE:
            return pages.report_page(self.storage, path_args["report_token"]), None
        if endpoint == INDEX_PAGE:
            return pages.index_page(self.storage), None
        if endpoint in SCANNING_ENDPOINTS:  # the whole request, report JSON included, where scans run
            return on_scan_thread(lambda: self._dispatch(request, endpoint, path, path_args))
        return self._dispatch(request, endpoint, path, path_args)

    def _dispatch(self, request: Request, endpoint: str, path: str,
                  path_args: dict[str, Any]) -> tuple[Response, Optional[str]]:
        email, form = authenticate(self.storage, request.method, path, lambda: self._form(request),
                                   request.headers.get(SIGNATURE_HEADER), explain=self.explain_signatures)
        params = form.decode()  # only a signed request is decoded
        user = self.storage.user(email)
        ctx = Context(storage=self.storage, email=email, is_admin=bool(user and user["is_admin"]), params=params,
                      path_args=path_args)
        result = HANDLERS[endpoint](ctx)
        if isinstance(result, FileResult):
            response = Response(result.content, mimetype=result.mimetype)
            response.headers["Content-Disposition"] = content_disposition(result.filename)
            return response, email
        return self._json(result), email

    def _form(self, request: Request) -> RawForm:
        if request.method != "POST":
            return scan_form(request.query_string, "query string")
        length = request.content_length
        if length is not None and length > self.max_body:
            raise ServiceError(413, f"request body of {length} bytes exceeds the limit of {self.max_body} bytes")
        if request.mimetype not in ("application/x-www-form-urlencoded", ""):
            raise ServiceError(415, f"POST bodies must be application/x-www-form-urlencoded, not {request.mimetype}")
        return scan_form(self._body(request.stream, length), "form body")

    def _body(self, stream: Any, length: Optional[int]) -> bytes:
        """The body, never more than max_body bytes read (nor a max_body buffer allocated up front)."""
        if length is not None:
            return bytes(stream.read(length))
        chunks, size = [], 0
        while True:
            chunk = stream.read(1 << 20)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_body:
                raise ServiceError(413, f"request body exceeds the limit of {self.max_body} bytes")
            chunks.append(chunk)

    @staticmethod
    def _json(value: Any, status: int = 200) -> Response:
        return Response(json.dumps(value), status=status, mimetype="application/json")

"""The WSGI application: limits, routing, parameter decoding, authentication, dispatch, errors, logging."""
from __future__ import annotations

import binascii
import json
import logging
import re
import time
from typing import Any, Iterable, Optional
from urllib.parse import unquote_to_bytes

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from timesys.core.signing import SIGNATURE_HEADER
from timesys_ci.service import pages
from timesys_ci.service.auth import authenticate, signed_resource
from timesys_ci.service.context import Context, FileResult
from timesys_ci.service.errors import ServiceError
from timesys_ci.service.handlers import HANDLERS
from timesys_ci.service.routes import INDEX_PAGE, REPORT_PAGE, build_url_map
from timesys_ci.service.storage import Storage

logger = logging.getLogger("timesys_ci.service")
DEFAULT_MAX_BODY = 64 * 1024 * 1024  # bytes; large Yocto manifests with file lists are tens of MB
MAX_FIELDS = 100_000


# `%` not followed by two hex digits, or bytes quoted-printable decoding treats specially.
_NOT_PLAIN_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})|[=\r\n]")


def _unquote_plus(raw: bytes) -> bytes:
    """Form decoding of one name or value: `+` is a space, `%XX` a byte.

    Same result as `urllib.parse.unquote_to_bytes`, but multi-megabyte manifests
    decode in C: `%XX` becomes quoted-printable `=XX` for `binascii.a2b_qp`. Input
    that quoted-printable would read differently takes the plain path.
    """
    data = raw.replace(b"+", b" ")
    if _NOT_PLAIN_PERCENT.search(data):
        return unquote_to_bytes(data)
    return binascii.a2b_qp(data.replace(b"%", b"="))


def decode_params(raw: bytes, what: str) -> dict[str, list[str]]:
    """Form-style decoding that keeps blank values and every repeat (vigiles-api.md 2.6 step 2).

    The result equals `urllib.parse.parse_qsl(..., keep_blank_values=True)` grouped by name.
    """
    pieces = [piece for piece in raw.split(b"&") if piece]
    if len(pieces) > MAX_FIELDS:
        raise ServiceError(400, f"malformed {what}: more than {MAX_FIELDS} fields")
    params: dict[str, list[str]] = {}
    try:
        for piece in pieces:
            name, _, value = piece.partition(b"=")
            params.setdefault(_unquote_plus(name).decode("utf-8"), []).append(_unquote_plus(value).decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ServiceError(400, f"malformed {what}: not UTF-8 after decoding ({exc.reason} at byte {exc.start})") from None
    return params


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
        params = self._params(request)
        email = authenticate(self.storage, request.method, path, params, request.headers.get(SIGNATURE_HEADER),
                             explain=self.explain_signatures)
        user = self.storage.user(email)
        ctx = Context(storage=self.storage, email=email, is_admin=bool(user and user["is_admin"]), params=params,
                      path_args=path_args)
        result = HANDLERS[endpoint](ctx)
        if isinstance(result, FileResult):
            response = Response(result.content, mimetype=result.mimetype)
            response.headers["Content-Disposition"] = f'attachment; filename="{result.filename}"'
            return response, email
        return self._json(result), email

    def _params(self, request: Request) -> dict[str, list[str]]:
        if request.method != "POST":
            return decode_params(request.query_string, "query string")
        length = request.content_length
        if length is not None and length > self.max_body:
            raise ServiceError(413, f"request body of {length} bytes exceeds the limit of {self.max_body} bytes")
        if request.mimetype not in ("application/x-www-form-urlencoded", ""):
            raise ServiceError(415, f"POST bodies must be application/x-www-form-urlencoded, not {request.mimetype}")
        body = request.stream.read(self.max_body + 1)
        if len(body) > self.max_body:
            raise ServiceError(413, f"request body exceeds the limit of {self.max_body} bytes")
        return decode_params(body, "form body")

    @staticmethod
    def _json(value: Any, status: int = 200) -> Response:
        return Response(json.dumps(value), status=status, mimetype="application/json")

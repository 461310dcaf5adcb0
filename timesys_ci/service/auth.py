"""Request authentication: the server side of vigiles-api.md section 2.6, with bounded work.

The signature covers every parameter, so a request cannot be authenticated
without reading all of it; it can be without *decoding* it into memory. The
order of checks is:

1. the `X-Auth-Signature` header must look like a signature (44 characters of
   Base64): an unsigned request is refused before its body is looked at;
2. exactly one short `email` parameter (the body's fields are located without
   decoding any value, see `form.scan_form`);
3. the HMAC of METHOD + resource + canonical string is computed while the
   values are percent-decoded in bounded chunks, and compared in constant time.

Step 3 runs in full for unknown emails too, with a decoy key (and a decoy key
unsealing, see `storage.keys`), so the time of an answer does not tell which
emails exist. Only after it passes does the handler get decoded parameters.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Callable, Iterator
from typing import Optional

from timesys.core import signing
from timesys_ci.service.errors import ServiceError
from timesys_ci.service.form import RawForm
from timesys_ci.service.storage import Storage

API_ROOT = "/api/"
MAX_EMAIL_BYTES = 320  # RFC 5321: 64 + 1 + 255
MAX_EXPLAINED_MESSAGE = 64 * 1024  # --explain-signatures shows the message only up to this size
_DECOY_KEY = os.urandom(32)
_FAILED = "authentication failed: unknown email or bad signature"


def signed_resource(path: str) -> str:
    """The resource a client signed: the decoded path from `/api/` on (a deployment prefix is not signed)."""
    index = path.find(API_ROOT)
    return path[index:] if index >= 0 else path


def _well_formed(signature: Optional[str]) -> Optional[bytes]:
    """The header's 44 Base64 characters (a 32-byte digest), or None."""
    text = (signature or "").strip()
    if len(text) != 44:
        return None
    try:
        if len(base64.b64decode(text, validate=True)) != 32:
            return None
    except (binascii.Error, ValueError):
        return None
    return text.encode("ascii")


def canonical_chunks(form: RawForm) -> Iterator[bytes]:
    """The canonical string C of section 2.2, as UTF-8 bytes in bounded chunks.

    Names sort by code point, each name's values too; a name with one value
    (every large one: `manifest`, configs) is streamed, repeated names (short
    lists such as `with_field`) are decoded to be sorted. Equal to
    `signing.canonical_string(form.decode()).encode()`.
    """
    first = True
    for name in sorted(form.fields):
        spans = form.fields[name]
        prefix = name.encode("utf-8") + b"="
        if len(spans) == 1:
            yield prefix if first else b"&" + prefix
            yield from form.iter_value(*spans[0])
            first = False
            continue
        for value in sorted(form.value(name, index) for index in range(len(spans))):
            yield (prefix if first else b"&" + prefix) + value.encode("utf-8")
            first = False


def _digest(key: bytes, method: str, resource: str, form: RawForm) -> bytes:
    mac = hmac.new(key, f"{method.upper()}{resource}".encode("utf-8"), hashlib.sha256)
    for chunk in canonical_chunks(form):
        mac.update(chunk)
    return base64.b64encode(mac.digest())


def _failure(method: str, resource: str, read_form: Callable[[], RawForm], explain: bool) -> ServiceError:
    extra = {}
    if explain:  # a debugging aid for client authors; never the key
        form = read_form()
        size = len(form.raw) + len(resource) + 16
        message = (signing.message(method, resource, form.decode()).decode("utf-8") if size <= MAX_EXPLAINED_MESSAGE
                   else f"(not shown: the message is over {MAX_EXPLAINED_MESSAGE} bytes)")
        extra = {"expected_message": message, "signature_header": signing.SIGNATURE_HEADER,
                 "hint": "sign METHOD + resource + sorted name=value pairs joined by '&' with HMAC-SHA256, "
                         "then Base64; compare your message with expected_message"}
    # One message for every case, so the answer does not reveal which emails exist.
    return ServiceError(401, _FAILED, extra)


def authenticate(storage: Storage, method: str, path: str, read_form: Callable[[], RawForm],
                 signature: Optional[str], *, explain: bool = False) -> tuple[str, RawForm]:
    """The email of the user who signed this request and its parameters, or a 401 ServiceError.

    `read_form` reads and scans the body (or query string); it is not called
    for a request without a well-formed signature. With `explain`, the 401
    body carries the canonical message the service computed (never the key),
    so a client author can diff it against their own.
    """
    resource = signed_resource(path)
    received = _well_formed(signature)
    if received is None:
        raise _failure(method, resource, read_form, explain)
    form = read_form()
    if len(form.fields.get("email", ())) != 1 or not form.value_size("email"):
        raise ServiceError(401, "authentication failed: exactly one 'email' parameter is required")
    if form.value_size("email") > MAX_EMAIL_BYTES * 3:  # fully percent-encoded at most
        raise _failure(method, resource, lambda: form, explain)
    email = form.value("email")
    key = storage.signing_key(email)  # a decoy unsealing for unknown emails: same work
    expected = _digest(key if key is not None else _DECOY_KEY, method, resource, form)
    if not signing.signatures_match(expected, received) or key is None:
        raise _failure(method, resource, lambda: form, explain)
    return email, form

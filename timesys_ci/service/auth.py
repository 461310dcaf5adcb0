"""Request authentication: the server side of vigiles-api.md section 2.6."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Optional

from timesys.core import signing
from timesys_ci.service.errors import ServiceError
from timesys_ci.service.storage import Storage

API_ROOT = "/api/"


def signed_resource(path: str) -> str:
    """The resource a client signed: the decoded path from `/api/` on (a deployment prefix is not signed)."""
    index = path.find(API_ROOT)
    return path[index:] if index >= 0 else path


def authenticate(storage: Storage, method: str, path: str, params: Mapping[str, Sequence[str]],
                 signature: Optional[str], *, explain: bool = False) -> str:
    """Return the email of the user who signed this request, or raise a 401 ServiceError.

    With `explain`, the 401 body carries the canonical message the service
    computed (never the key), so a client author can diff it against their own.
    """
    emails = params.get("email") or []
    if len(emails) != 1 or not emails[0]:
        raise ServiceError(401, "authentication failed: exactly one 'email' parameter is required")
    email = emails[0]
    user = storage.user(email)
    resource = signed_resource(path)
    expected, message = (None, signing.message(method, resource, params))
    if user is not None:
        expected = signing.sign_message(str(user["api_key"]).encode("utf-8"), message)
    if expected is None or not signature or not signing.signatures_match(expected, signature.strip()):
        # One message for both cases, so the answer does not reveal which emails exist.
        extra = {}
        if explain:
            extra = {"expected_message": message.decode("utf-8"), "signature_header": signing.SIGNATURE_HEADER,
                     "hint": "sign METHOD + resource + sorted name=value pairs joined by '&' with HMAC-SHA256, "
                             "then Base64; compare your message with expected_message"}
        raise ServiceError(401, "authentication failed: unknown email or bad signature", extra)
    return email

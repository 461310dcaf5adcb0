"""Requests a hostile or unusual client sends to the local service, signed or not, over real HTTP."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Optional, Union
from urllib.parse import urlencode

import requests

from timesys.core import signing

UPLOAD = "/api/v1/vigiles/manifests"
HEARTBEAT = "/api/v1/vigiles/heartbeat"
FORM = "application/x-www-form-urlencoded"


def credentials(key_file: Path) -> tuple[str, bytes]:
    data = json.loads(Path(key_file).read_text())
    return data["email"], data["organization_key"].encode()


def signed_post(service_url: str, key_file: Path, resource: str, body: bytes,
                content_type: str = FORM) -> requests.Response:
    """POST a raw body, signed over whatever the body decodes to (to reach the handler with odd input)."""
    from timesys_ci.service.errors import ServiceError
    from timesys_ci.service.form import decode_params

    email, key = credentials(key_file)
    try:
        params = decode_params(body, "body")
    except ServiceError:  # undecodable on purpose: sign the email alone, the service must still answer 400
        params = {"email": [email]}
    signature, _ = signing.sign(key, "POST", resource, params)
    return requests.post(service_url + resource, data=body, timeout=60,
                         headers={signing.SIGNATURE_HEADER: signature.decode(), "Content-Type": content_type})


def signed_call(service_url: str, key_file: Path, method: str, resource: str,
                params: Mapping[str, Union[str, list[str]]], *, timeout: float = 60) -> requests.Response:
    """A correctly signed request with these params (plus email), as the reference client sends it."""
    email, key = credentials(key_file)
    params = {**params, "email": email}
    signature, _ = signing.sign(key, method, resource, params)
    headers = {signing.SIGNATURE_HEADER: signature.decode()}
    pairs = urlencode(sorted(params.items()), doseq=True)
    if method == "POST":
        return requests.post(service_url + resource, data=pairs, timeout=timeout,
                             headers={**headers, "Content-Type": FORM})
    return requests.request(method, f"{service_url}{resource}?{pairs}", timeout=timeout, headers=headers)


def upload(service_url: str, key_file: Path, manifest: str, *, timeout: float = 60,
           **params: Any) -> requests.Response:
    form = {"manifest": manifest, "filter_results": "False", "upload_only": "False"}
    form.update({name: value if isinstance(value, (str, list)) else str(value) for name, value in params.items()})
    return signed_call(service_url, key_file, "POST", UPLOAD, form, timeout=timeout)


def heartbeat(service_url: str, key_file: Path, *, timeout: float = 10) -> Optional[int]:
    return signed_call(service_url, key_file, "POST", HEARTBEAT, {}, timeout=timeout).status_code


def stored_counts(data_dir: Path) -> tuple[int, int]:
    """(manifests, reports) in a service data dir, read with a separate connection."""
    import sqlite3

    with sqlite3.connect(Path(data_dir) / "vigiles.sqlite3", timeout=30) as connection:
        manifests = connection.execute("SELECT COUNT(*) FROM manifests").fetchone()[0]
        reports = connection.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
    return int(manifests), int(reports)

"""Property: for arbitrary params, what the client sends verifies under an independent server recipe.

The verifier below is written from vigiles-api.md section 2.6 only (it shares no
code with `timesys.core.signing`) and checks real requests received over HTTP.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, Iterator
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from timesys.core.llapi import LLAPI

from .conftest import DEMO_EMAIL, DEMO_KEY
from .support.scripted_server import Recorded, ScriptedServer


def server_side_verifies(request: Recorded, key: bytes) -> bool:
    split = urlsplit(request.path)
    path = unquote(split.path)  # percent-decoding only: '+' stays '+' in a path
    raw = request.body.decode("ascii") if request.method == "POST" else split.query
    pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=False)
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    canonical = "&".join(f"{name}={value}" for name in sorted(grouped) for value in sorted(grouped[name]))
    message = (request.method + path + canonical).encode("utf-8")
    expected = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, request.headers["X-Auth-Signature"])


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as running:
        yield running


names = st.text(min_size=1, max_size=12).filter(lambda name: name != "email")
scalars = st.one_of(st.text(max_size=30), st.booleans(), st.integers(-10**6, 10**6))
values = st.one_of(scalars, st.lists(st.text(max_size=10), max_size=4), st.none())
# "." and ".." are refused by the endpoint table: HTTP clients collapse them out of the path.
tokens = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789+@.-_", min_size=1, max_size=16).filter(
    lambda token: token not in (".", ".."))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]), token=tokens,
       params=st.dictionaries(names, values, max_size=6))
def test_client_signature_verifies_on_the_server(server: ScriptedServer, method: str, token: str,
                                                 params: dict[str, Any]) -> None:
    client = LLAPI(url=server.url)
    client.email, client.key, client.configured = DEMO_EMAIL, DEMO_KEY.encode(), True
    before = len(server.requests)
    client.request(method, f"/api/v1/vigiles/things/{token}", params)
    request = server.requests[before]
    assert server_side_verifies(request, DEMO_KEY.encode())
    assert not server_side_verifies(request, b"another key")

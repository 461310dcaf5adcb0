"""The streamed form encoder and the incremental signature equal `urlencode` and the one-shot HMAC.

Properties on random input (any Unicode, values of every type a caller can pass), with the slice
size shrunk so long values really are cut into pieces; and, over real HTTP, the body is sent with a
Content-Length (never chunked), whole, and again whole on a retry.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timesys.core import encoding, signing
from timesys.core.encoding import FormBody, form_encode, quote_plus_bytes
from timesys.core.llapi import LLAPI
from timesys.core.transport import RetryPolicy

from .conftest import DEMO_EMAIL, DEMO_KEY
from .support.scripted_server import Answer, ScriptedServer

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
scalars = st.one_of(texts, st.binary(max_size=20), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.none())
values = st.one_of(scalars, st.lists(st.one_of(texts, st.binary(max_size=8), st.integers()), max_size=4),
                   st.tuples(texts, st.booleans()), st.dictionaries(texts, st.integers(), max_size=3))
# Signing sorts a sequence's elements, so its sequences hold one type (as every API parameter does).
signed_values = st.one_of(texts, st.booleans(), st.integers(), st.floats(allow_nan=False), st.lists(texts, max_size=4),
                          st.lists(st.integers(), max_size=4))
pairs = st.lists(st.tuples(st.one_of(texts, st.binary(max_size=8), st.integers()), values), max_size=6)


@pytest.fixture(autouse=True)
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoding, "PIECE_CHARS", 7)


@settings(max_examples=400, deadline=None)
@given(pairs=pairs)
def test_form_body_equals_urlencode(pairs: list[tuple[Any, Any]]) -> None:
    expected = urlencode(pairs, doseq=True).encode("ascii")
    body = FormBody(pairs)
    assert body.to_bytes() == expected
    assert len(body) == len(expected)
    assert form_encode(pairs) == expected.decode("ascii")


@settings(max_examples=200, deadline=None)
@given(pairs=pairs, block=st.integers(1, 40))
def test_reader_gives_the_same_bytes_in_blocks_of_any_size(pairs: list[tuple[Any, Any]], block: int) -> None:
    body = FormBody(pairs)
    reader = body.reader()
    blocks = []
    while True:
        data = reader.read(block)
        if not data:
            break
        assert len(data) <= block
        blocks.append(data)
    assert b"".join(blocks) == body.to_bytes() == b"".join(body.reader()) == body.reader().read()
    assert len(reader) == len(body)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200))
def test_quote_plus_bytes(data: bytes) -> None:
    from urllib.parse import quote_plus

    assert quote_plus_bytes(data) == quote_plus(data).encode("ascii")


@settings(max_examples=300, deadline=None)
@given(method=st.sampled_from(["GET", "post", "PATCH"]), resource=texts,
       params=st.dictionaries(texts, signed_values, max_size=6))
def test_incremental_signature_equals_signing_the_whole_message(method: str, resource: str,
                                                                params: dict[str, Any]) -> None:
    key = DEMO_KEY.encode()
    assert signing.signature(key, method, resource, params) == signing.sign(key, method, resource, params)[0]


def test_lone_surrogates_fail_as_urlencode_does() -> None:
    with pytest.raises(UnicodeEncodeError):
        urlencode([("a", "x\ud800")], doseq=True)
    with pytest.raises(UnicodeEncodeError):
        FormBody([("a", "x\ud800")])


def test_signed_message_is_kept_only_in_dry_run(write_key_file: Any) -> None:
    client = LLAPI(key_file_path=write_key_file({"email": DEMO_EMAIL, "organization_key": DEMO_KEY}))
    params = {"manifest": "{}" * 10}
    assert "hmac_msg" not in client.prepare("POST", "/api/v1/vigiles/manifests", params)
    client.dry_run = True
    described = client.prepare("POST", "/api/v1/vigiles/manifests", params)
    assert described["hmac_msg"] == signing.message("POST", "/api/v1/vigiles/manifests",
                                                    {**params, "email": DEMO_EMAIL})


def test_body_is_sent_whole_with_content_length_and_again_on_retry(write_key_file: Any) -> None:
    manifest = '{"packages": {"b\u00fcsybox": {"version": "1.36.1 & more=%"}}}' * 300  # many pieces of 7
    with ScriptedServer(Answer(status=503), Answer(body={"manifest_token": "M1"})) as server:
        client = LLAPI(key_file_path=write_key_file({"email": DEMO_EMAIL, "organization_key": DEMO_KEY}),
                       url=server.url, timeout=(5, 20))  # a wrong Content-Length would hang, not fail
        client._transport.retry = RetryPolicy(max_attempts=2, backoff_factor=0.01, backoff_max=0.02)
        assert client.POST("/api/v1/vigiles/manifests", {"manifest": manifest, "upload_only": True}) == \
            {"manifest_token": "M1"}
    expected = urlencode([("manifest", manifest), ("upload_only", True), ("email", DEMO_EMAIL)]).encode()
    assert [request.body for request in server.requests] == [expected, expected]
    for request in server.requests:
        assert request.headers["Content-Length"] == str(len(expected))
        assert "Transfer-Encoding" not in request.headers
        assert request.headers["X-Auth-Signature"] == signing.sign(
            DEMO_KEY.encode(), "POST", "/api/v1/vigiles/manifests",
            {"manifest": manifest, "upload_only": True, "email": DEMO_EMAIL})[0].decode()

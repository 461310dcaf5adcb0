"""The service's fast form decoder gives exactly what the standard library's parse_qsl gives."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from timesys_ci.service.form import decode_params
from timesys_ci.service.errors import ServiceError


def reference(raw: bytes) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in parse_qsl(raw.decode("ascii"), keep_blank_values=True, errors="strict"):
        grouped.setdefault(name, []).append(value)
    return grouped


@settings(max_examples=500)
@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=40)), max_size=6))
def test_encoded_forms_round_trip(pairs: list[tuple[str, str]]) -> None:
    raw = urlencode(pairs).encode("ascii")
    assert decode_params(raw, "body") == reference(raw)


@settings(max_examples=500)
@given(st.text(alphabet="ab=&%+2F0c\r\n ;", max_size=30))
def test_odd_bodies_match_the_standard_library(body: str) -> None:
    raw = body.encode("ascii")
    try:
        expected = reference(raw)
    except UnicodeDecodeError:
        with pytest.raises(ServiceError):
            decode_params(raw, "body")
        return
    assert decode_params(raw, "body") == expected


def test_invalid_utf8_is_a_400() -> None:
    with pytest.raises(ServiceError) as info:
        decode_params(b"manifest=%FF%FE", "form body")
    assert info.value.status == 400 and "not UTF-8" in info.value.message

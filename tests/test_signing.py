"""The published signing vectors of vigiles-api.md section 2.7, byte for byte."""
from __future__ import annotations

from typing import Any

import pytest

from timesys.core import signing
from timesys.core.llapi import LLAPI

from .conftest import DEMO_EMAIL, DEMO_KEY

KEY = DEMO_KEY.encode()


@pytest.fixture
def client(write_key_file: Any) -> LLAPI:
    path = write_key_file({"email": f" {DEMO_EMAIL} ", "key": DEMO_KEY, "server_url": "https://vigiles.invalid.test/"})
    return LLAPI(key_file_path=path, dry_run=True)


WORKED_EXAMPLES = [
    pytest.param(
        "POST", "/api/v1/vigiles/heartbeat", {},
        b"POST/api/v1/vigiles/heartbeatemail=jane.doe@example.com",
        b"5yHwsnihN/vwdpBtDGP5FDa/OTmuKSnKbbup+iHviTs=",
        "https://vigiles.invalid.test/api/v1/vigiles/heartbeat", "email=jane.doe%40example.com", id="heartbeat"),
    pytest.param(
        "GET", "/api/v1/vigiles/cves", {"product": "openssl", "version": "1.1.1k", "ids_only": False},
        b"GET/api/v1/vigiles/cvesemail=jane.doe@example.com&ids_only=False&product=openssl&version=1.1.1k",
        b"7qF3A8eJ89qLir/VdMZPdWzMoqJftfwUF+QkSUEqAwM=",
        "https://vigiles.invalid.test/api/v1/vigiles/cves?email=jane.doe%40example.com&ids_only=False"
        "&product=openssl&version=1.1.1k", None, id="cve-search"),
    pytest.param(
        "GET", "/api/v1/vigiles/cves/CVE-2021-44228", {"fields": ["references", "description", "impact"]},
        b"GET/api/v1/vigiles/cves/CVE-2021-44228email=jane.doe@example.com&fields=description&fields=impact"
        b"&fields=references",
        b"sOeYk6DL4lhE3PWbDa3kKo1Iw+XQ6diHzBEJGsty1m4=",
        "https://vigiles.invalid.test/api/v1/vigiles/cves/CVE-2021-44228?email=jane.doe%40example.com"
        "&fields=references&fields=description&fields=impact", None, id="cve-info-list"),
    pytest.param(
        "POST", "/api/v1/vigiles/manifests",
        {"manifest": '{"a": 1}', "filter_results": False, "upload_only": True,
         "manifest_name": "My SBOM+v2 & more=\u00fc", "with_field": ["published", "description"],
         "group_token": "GRP123"},
        'POST/api/v1/vigiles/manifestsemail=jane.doe@example.com&filter_results=False&group_token=GRP123'
        '&manifest={"a": 1}&manifest_name=My SBOM+v2 & more=\u00fc&upload_only=True&with_field=description'
        '&with_field=published'.encode(),
        b"tFKhFRnCMPd3KyfO0liofe4M1wZl76DTj/S+L0puMmI=",
        "https://vigiles.invalid.test/api/v1/vigiles/manifests",
        "manifest=%7B%22a%22%3A+1%7D&filter_results=False&upload_only=True&manifest_name=My+SBOM%2Bv2+%26+more"
        "%3D%C3%BC&with_field=published&with_field=description&group_token=GRP123&email=jane.doe%40example.com",
        id="upload"),
    pytest.param(
        "PATCH", "/api/v1/vigiles/groups/GRP123/settings",
        {"vuln_identifiers": ["Package Name", "CPE", "PURL"], "vuln_strict_match": "on"},
        b"PATCH/api/v1/vigiles/groups/GRP123/settingsemail=jane.doe@example.com&vuln_identifiers=CPE"
        b"&vuln_identifiers=PURL&vuln_identifiers=Package Name&vuln_strict_match=on",
        b"t1drdAGbUOyobWlhFz4lSfwBtZ8R6pn7LOh22LWDgJ0=",
        "https://vigiles.invalid.test/api/v1/vigiles/groups/GRP123/settings?email=jane.doe%40example.com"
        "&vuln_identifiers=Package+Name&vuln_identifiers=CPE&vuln_identifiers=PURL&vuln_strict_match=on",
        None, id="settings-patch"),
    pytest.param(
        "DELETE", "/api/v1/vigiles/manifests/MNF456", {"confirmed": True},
        b"DELETE/api/v1/vigiles/manifests/MNF456confirmed=True&email=jane.doe@example.com",
        b"fi68Ensd5OMYXVfFJpF7EKVthQhyocigtp6ayr4Ck60=",
        "https://vigiles.invalid.test/api/v1/vigiles/manifests/MNF456?confirmed=True&email=jane.doe%40example.com",
        None, id="delete"),
]


@pytest.mark.parametrize("method, resource, params, message, signature, url, body", WORKED_EXAMPLES)
def test_worked_examples(client: LLAPI, method: str, resource: str, params: dict, message: bytes,
                         signature: bytes, url: str, body: str | None) -> None:
    description = client.request(method, resource, params)
    assert description["hmac_msg"] == message
    assert description["headers"] == {"X-Auth-Signature": signature}
    assert description["url"] == url
    if body is not None:
        from urllib.parse import urlencode

        assert urlencode(list(description["data"].items()), doseq=True) == body
    assert list(description) == (["headers", "method", "url", "data", "hmac_msg"] if method == "POST"
                                 else ["headers", "method", "url", "hmac_msg"])


def test_caller_mapping_not_mutated(client: LLAPI) -> None:
    params = {"product": "openssl"}
    client.request("GET", "/api/v1/vigiles/cves", params)
    assert params == {"product": "openssl"}


EXTRA_VECTORS = [
    ("POST/api/v1/heartbeatemail=jane.doe@example.com", "/9O68/OIaU3sWUoOSea/rA7WzoTXoZFtsZ8lrMw6ikk="),
    ("GET/api/v1/vigiles/groupsemail=jane.doe@example.com&include_private_workspaces=False",
     "s3U24/XuRnhZkCeoD8W6Kehni4Dm22BP5BNc2e3O4TQ="),
    ("GET/xemail=jane.doe@example.com&s=a b+c&d=e%41/?#\u00fc\u20ac\U0001F600",
     "4xv2xPoj6FJj02YELutd3MIhb28ThRds2PYLmpbCxaY="),
    ("GET/xB=upper&a=None&a_b=x&ab=y&b=3&c=9&c=10&c=100&e=a&e=z&email=jane.doe@example.com&f=k2&f=k1&g=1.5",
     "5cnRs4wuqxNdgCZgvtYvAATNkLSS3MJpXcbGHMF0+8c="),
    ("POST/xa=None&b=3&c=a&c=b&email=jane.doe@example.com&t=True", "Mb+x5Skdgj+wplrcSPLhBbDSDIt9oJAw9l6MgctQ7sY="),
]


@pytest.mark.parametrize("message, signature", EXTRA_VECTORS)
def test_extra_vectors(message: str, signature: str) -> None:
    assert signing.sign_message(KEY, message.encode("utf-8")) == signature.encode()


def test_canonicalisation_rules() -> None:
    params = {"a": None, "b": 3, "c": [10, 9, 100], "d": [], "e": ("z", "a"), "f": {"k2": 1, "k1": 2}, "g": 1.5,
              "B": "upper", "a_b": "x", "ab": "y", "email": DEMO_EMAIL}
    assert signing.message("GET", "/x", params) == EXTRA_VECTORS[3][0].encode()
    special = {"s": "a b+c&d=e%41/?#\u00fc\u20ac\U0001F600", "email": DEMO_EMAIL}
    assert signing.sign(KEY, "GET", "/x", special)[0] == EXTRA_VECTORS[2][1].encode()


def test_special_characters_on_the_wire(client: LLAPI) -> None:
    description = client.request("GET", "/api/v1/x", {"s": "a b+c&d=e%41/?#\u00fc\u20ac\U0001F600"})
    assert description["url"].endswith("&s=a+b%2Bc%26d%3De%2541%2F%3F%23%C3%BC%E2%82%AC%F0%9F%98%80")


def test_none_is_neither_sent_nor_signed(client: LLAPI) -> None:
    description = client.request("POST", "/api/v1/x", {"a": None, "b": 3, "c": ["b", "a"], "d": [], "t": True})
    assert description["hmac_msg"] == b"POST/api/v1/xb=3&c=a&c=b&email=jane.doe@example.com&t=True"
    assert description["data"] == {"b": 3, "c": ["b", "a"], "d": [], "t": True, "email": DEMO_EMAIL}


def test_signatures_match_is_exact() -> None:
    good = signing.sign_message(KEY, b"m")
    assert signing.signatures_match(good, good.decode())
    assert not signing.signatures_match(good, good[:-2] + b"A=")

from __future__ import annotations

import pytest

from timesys_ci.vulndb.cpe import Cpe, CpeError, parse_cpe, try_parse_cpe, value_matches
from timesys_ci.vulndb.errors import VulnDataError


def test_parse_cpe23_formatted_string() -> None:
    cpe = parse_cpe("cpe:2.3:o:linux:linux_kernel:6.8:rc1:*:*:*:*:*:*")
    assert (cpe.part, cpe.vendor, cpe.product, cpe.version, cpe.update) == ("o", "linux", "linux_kernel", "6.8", "rc1")
    assert cpe.vendor_or_none == "linux"


def test_parse_cpe23_with_escaped_colon() -> None:
    cpe = parse_cpe(r"cpe:2.3:a:foo\:bar:baz\:qux:1.0\:2:*:*:*:*:*:*:*")
    assert (cpe.vendor, cpe.product, cpe.version) == ("foo:bar", "baz:qux", "1.0:2")
    assert parse_cpe(cpe.to_fs()) == cpe


def test_parse_yocto_cpe_with_open_part_and_vendor() -> None:
    cpe = parse_cpe("cpe:2.3:*:*:busybox:1.36.1:*:*:*:*:*:*:*")
    assert cpe.part == "*" and cpe.vendor_or_none is None and cpe.product == "busybox"


@pytest.mark.parametrize(
    "uri, vendor, product, version",
    [
        ("cpe:/a:openssl:openssl:1.1.1n", "openssl", "openssl", "1.1.1n"),
        ("cpe:/a:openssl:openssl", "openssl", "openssl", "*"),
        ("cpe:/a:w1.fi:hostapd:2020-06-08-5a8b3662", "w1.fi", "hostapd", "2020-06-08-5a8b3662"),
        ("cpe:/a:haxx:libcurl:7.82.0", "haxx", "libcurl", "7.82.0"),
        ("cpe:/a:foo%3abar:baz", "foo:bar", "baz", "*"),
    ],
)
def test_parse_cpe22_uri(uri: str, vendor: str, product: str, version: str) -> None:
    cpe = parse_cpe(uri)
    assert (cpe.part, cpe.vendor, cpe.product, cpe.version) == ("a", vendor, product, version)


@pytest.mark.parametrize("text", ["UNKNOWN", "openssl", "cpe:2.3:q:x:y:1", "cpe:/a:1:2:3:4:5:6:7:8", ""])
def test_invalid_cpes_raise(text: str) -> None:
    with pytest.raises(CpeError) as info:
        parse_cpe(text)
    assert isinstance(info.value, VulnDataError) and isinstance(info.value, ValueError)
    assert try_parse_cpe(text) is None


@pytest.mark.parametrize(
    "pattern, value, expected",
    [
        ("*", "openssl", True),
        ("openssl", "*", True),
        ("-", "-", True),
        ("-", "1.0", False),
        ("1.0", "-", False),
        ("openssl", "openssl", True),
        ("openssl", "libressl", False),
        ("open*", "openssl", True),
        ("open?l", "openssl", False),
        ("opens?l", "openssl", True),
        (r"open\*", "openssl", False),
    ],
)
def test_value_matches(pattern: str, value: str, expected: bool) -> None:
    assert value_matches(pattern, value) is expected


def test_cpe_matches_uses_every_attribute() -> None:
    pattern = parse_cpe("cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*")
    assert pattern.matches(parse_cpe("cpe:/a:openssl:openssl:1.1.1n"))
    assert not pattern.matches(parse_cpe("cpe:/o:openssl:openssl:1.1.1n"))
    assert Cpe(product="zlib").matches(parse_cpe("cpe:/a:gnu:zlib:1.2.11"))

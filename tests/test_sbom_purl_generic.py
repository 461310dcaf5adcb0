"""`generic_purl` gives a purl for any package name, even one packageurl-python cannot encode (found by fuzzing)."""
from __future__ import annotations

import pytest

from timesys_ci.sbom.purl import generic_purl, parse_purl


@pytest.mark.parametrize("name, version", [("\x1d", "m y"), ("busybox", "1.36.1"), ("x y/z", "")])
def test_generic_purl_never_fails_and_parses_back(name: str, version: str) -> None:
    purl = generic_purl(name, version)
    assert purl.startswith("pkg:generic/")
    assert " " not in purl and "\x1d" not in purl  # percent-encoded
    if name.isprintable():
        assert parse_purl(purl) is not None

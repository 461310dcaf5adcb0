"""Version keys: their byte order is the version order's own, for every pair of versions of the scheme."""
from __future__ import annotations

import itertools
import random

import pytest

from timesys_ci.vulndb import keys
from timesys_ci.vulndb.versions import GENERIC, KERNEL, OPENSSL, SEMVER, VersionOrder, at_most_wildcard, compare
from timesys_ci.vulndb.versions.generic import Version

WRITTEN = [
    "0", "0.0", "0.0.1", "0.1", "1", "1.0", "1.0.0", "1.0.0.1", "1.0.1", "1.0rc1", "1.0.0rc1", "1.0.0.0rc1", "1.0~rc1",
    "1.0-rc1", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",
    "1.0.0+build.5", "1.1.1", "1.1.1a", "1.1.1w", "1.1.1za", "1.0.2zl", "3.0.13", "3.0.13-pre1", "openssl-3.0.13",
    "OpenSSL_1_1_1w", "1.36.1", "2.39+git0+abc", "2.39", "4.2.8p9", "4.2.8p18", "2020-06-08-5a8b3662", "2021-01-01",
    "1:1.2.8", "2:0.1", "1:1.2.8.dfsg-5+deb9u1", "6.6.21", "6.6.21-yocto-standard", "6.6", "6.6.0", "6.8-rc1",
    "6.8rc1", "6.8", "v6.6.21", "5.15.170", "2.6.12", "2.6.39.4", "6.6.21+gitAUTOINC+abc_def", "10", "9.99",
    "1.2.3.4.5.6", "1a", "1b", "1.a", "1.0a", "1.0.a", "1.dev0", "1.0.dev", "1.0.0.dev1", "1..2", "a", "abc",
    "1.0-1", "1.0-1ubuntu1", "7.61.1", "8.5.0", "8.10.0", "0.9.8zh", "1.0.1u", "r7", "1.2-3~bpo1", "1.2~~",
    "1.0.0.0.0.0.1", "0.0.0.0.0rc1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1",
]


def _corpus(seed: int = 7, count: int = 400) -> list:
    rng = random.Random(seed)
    pieces = ["0", "1", "2", "9", "10", "21", "255", "256", "65536", "rc", "alpha", "beta", "dev", "pre", "a", "b",
              "z", "p", "git", "~", "-", ".", "+", "_"]
    made = set(WRITTEN)
    while len(made) < count + len(WRITTEN):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 7)))
        if rng.random() < 0.5:
            text = ".".join(str(rng.choice((0, 0, 1, 2, 6, 10, 21))) for _ in range(rng.randint(1, 5))) + text
        made.add(text)
    return sorted(made)


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


@pytest.mark.parametrize("order", [GENERIC, KERNEL, SEMVER, OPENSSL], ids=lambda order: order.name)
def test_key_order_is_the_version_order(order: VersionOrder) -> None:
    versions = _corpus()
    keyed = {text: keys.version_key(order, text) for text in versions}
    for text, key in keyed.items():
        assert (key is None) == (order.key(text) is None) or len(text) > 60, text
    usable = [text for text, key in keyed.items() if key is not None]
    assert len(usable) > 20
    for a, b in itertools.combinations(usable, 2):
        expected = compare(order, a, b)
        got = (keyed[a] > keyed[b]) - (keyed[a] < keyed[b])
        assert got == expected, (order.name, a, b, keyed[a], keyed[b])


def test_nvd_key_drops_the_epoch_as_nvd_bounds_do() -> None:
    assert keys.nvd_key("1:1.2.8") == keys.nvd_key("1.2.8") == keys.version_key(GENERIC, "1.2.8")
    versions = [text for text in _corpus() if Version(text).known]
    for a, b in itertools.combinations(versions[:200], 2):
        left, right = Version(a).without_epoch(), Version(b)
        if right.epoch:
            continue
        expected = (left > right) - (left < right)
        got = (keys.nvd_key(a) > keys.nvd_key(b)) - (keys.nvd_key(a) < keys.nvd_key(b))
        assert got == expected, (a, b)


def test_above_and_the_extremes() -> None:
    for text in ("0", "1.0", "6.6.21", "1.0rc1"):
        key = keys.version_key(GENERIC, text)
        assert keys.LOWEST < key < keys.above(key) < keys.HIGHEST
        assert not [other for other in _corpus() if key < (keys.version_key(GENERIC, other) or key) < keys.above(key)]


def test_kernel_wildcard_limits_follow_the_leading_numbers_rule() -> None:
    versions = [text for text in _corpus() + ["6.6.99", "6.7-rc1", "6.6-rc3", "7.0", "6.5.100"]
                if keys.version_key(KERNEL, text) is not None]
    for bound in ("6.*", "6.6.*", "6.6.21.*", "5.15.*"):
        limit = keys.wildcard_limit(KERNEL, bound)
        assert limit is not None
        for text in versions:
            assert (keys.version_key(KERNEL, text) < limit) == at_most_wildcard(KERNEL, text, bound), (bound, text)
    assert keys.wildcard_limit(SEMVER, "6.6.*") is None and keys.wildcard_limit(KERNEL, "6.6.21.1.*") is None
    assert keys.wildcard_limit(KERNEL, "*") is None

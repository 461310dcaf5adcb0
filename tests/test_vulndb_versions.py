from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from timesys_ci.vulndb.versions import Version, compare_versions, in_range, is_unknown_version

REAL_CASES = [
    ("1.1.1k", "1.1.1n", -1),
    ("1.1.1n", "1.1.1w", -1),
    ("1.1.1", "1.1.1a", -1),
    ("2.39+git0+abc", "2.39", 0),
    ("2.39+gitAUTOINC+1234abcd", "2.39", 0),
    ("2.39+git", "2.40", -1),
    ("4.2.8p18", "4.2.8p9", 1),
    ("4.2.8", "4.2.8p1", -1),
    ("2020-06-08-5a8b3662", "2021-01-01", -1),
    ("2020-06-08-5a8b3662", "2020-06-08-ffffffff", 0),
    ("2020-10-03-ad3937a0", "2020-06-08-5a8b3662", 1),
    ("1.0.2zd", "1.0.2k", 1),
    ("1.0.2z", "1.0.2za", -1),
    ("1:1.2.8", "2.0", 1),
    ("1:1.2.8", "0:1.2.8", 1),
    ("0:1.2.8", "1.2.8", 0),
    ("6.8rc1", "6.8", -1),
    ("6.8-rc1", "6.8", -1),
    ("6.8~rc1", "6.8", -1),
    ("6.8-rc1", "6.8rc1", 0),
    ("6.8rc1", "6.8rc2", -1),
    ("6.8rc1", "6.7.12", 1),
    ("6.6.21", "6.6.3", 1),
    ("6.8", "6.8.0", 0),
    ("1.0.0-beta", "1.0.0-alpha", 1),
    ("1.1.0l-1~deb9u5", "1.1.0l-1", -1),
    ("2020.81", "2020.81", 0),
    ("2018.76", "2020.81", -1),
    ("5.6.1", "5.6.0", 1),
]


@pytest.mark.parametrize("left, right, expected", REAL_CASES)
def test_real_versions_compare(left: str, right: str, expected: int) -> None:
    assert compare_versions(left, right) == expected
    assert compare_versions(right, left) == -expected


def test_debian_version_with_epoch_and_revision_parses() -> None:
    version = Version("1:1.2.8.dfsg-5+deb9u1")
    assert version.known and version.epoch == 1
    assert compare_versions("1:1.2.8.dfsg-5+deb9u1", "1:1.2.8") == 1


@pytest.mark.parametrize("text", ["unset", "", "custom", "git", "UNKNOWN", "  ", "-", "*", "1:unset"])
def test_unknown_versions(text: str) -> None:
    assert is_unknown_version(text.split(":")[-1])
    assert not Version(text).known
    assert not in_range(text, end_excluding="99")
    assert not in_range(text, start_including="0")
    assert not in_range(text, exact="1.0")
    assert in_range(text)  # no bound at all: "every version" includes unknown ones


def test_unknown_sorts_before_known() -> None:
    assert sorted(["1.0", "unset", "0.1"], key=Version) == ["unset", "0.1", "1.0"]


@pytest.mark.parametrize(
    "version, bounds, expected",
    [
        ("1.1.1n", {"start_including": "1.1.0", "end_excluding": "1.1.1n"}, False),
        ("1.1.1i", {"start_including": "1.1.0", "end_excluding": "1.1.1n"}, True),
        ("1.2.12", {"end_including": "1.2.12"}, True),
        ("1.3.1", {"end_including": "1.2.12"}, False),
        ("6.6.21", {"start_including": "6.2", "end_excluding": "6.6.34"}, True),
        ("6.6.21", {"start_including": "6.2", "end_excluding": "6.6.15"}, False),
        ("6.6.21+git", {"start_including": "6.2", "end_excluding": "6.6.34"}, True),
        ("6.2", {"start_excluding": "6.2"}, False),
        ("5.6.1", {"exact": "5.6.1"}, True),
        ("5.4.6", {"exact": "5.6.1"}, False),
        ("1:1.2.11", {"end_including": "1.2.12"}, True),  # NVD bounds carry no epoch
        ("1.0", {"end_excluding": "*"}, True),  # "*" bounds do not constrain
    ],
)
def test_in_range(version: str, bounds: dict, expected: bool) -> None:
    assert in_range(version, **bounds) is expected


_part = st.one_of(
    st.integers(min_value=0, max_value=30).map(str),
    st.sampled_from(["a", "k", "n", "p", "zd", "rc", "beta", "git", "dfsg"]),
)
versions = st.builds(
    lambda epoch, parts, seps, suffix: (f"{epoch}:" if epoch else "")
    + "".join(p + s for p, s in zip(parts, seps))
    + suffix,
    st.sampled_from([None, None, 1, 2]),
    st.lists(_part, min_size=1, max_size=5),
    st.lists(st.sampled_from([".", "-", "~", "", "+"]), min_size=5, max_size=5),
    st.sampled_from(["", "", "+git0+abc", "-rc1", "~rc2"]),
)


@given(versions, versions)
def test_antisymmetry(a: str, b: str) -> None:
    assert compare_versions(a, b) == -compare_versions(b, a)


@given(versions, versions, versions)
def test_transitivity(a: str, b: str, c: str) -> None:
    ordered = sorted([a, b, c], key=Version)
    assert compare_versions(ordered[0], ordered[1]) <= 0
    assert compare_versions(ordered[1], ordered[2]) <= 0
    assert compare_versions(ordered[0], ordered[2]) <= 0


@given(versions, versions)
def test_equality_matches_hash(a: str, b: str) -> None:
    if Version(a) == Version(b):
        assert hash(Version(a)) == hash(Version(b))

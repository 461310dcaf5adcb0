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


# -- orders per versioning scheme ------------------------------------------------------------------

from timesys_ci.vulndb.versions import (  # noqa: E402
    DEB, GENERIC, KERNEL, OPENSSL, RPM, SEMVER, at_most_wildcard, compare, order_for, ecosystem_order, same_branch,
)


@pytest.mark.parametrize("order, left, right, expected", [
    (OPENSSL, "1.1.1i", "1.1.1zb", -1), (OPENSSL, "1.1.1z", "1.1.1za", -1), (OPENSSL, "1.1.1zz", "1.1.1zza", -1),
    (OPENSSL, "1.0.2k", "1.0.2zl", -1), (OPENSSL, "3.0.2", "3.0.16", -1), (OPENSSL, "1.1.1-pre9", "1.1.1", -1),
    (OPENSSL, "3.0.0-alpha1", "3.0.0-beta1", -1), (OPENSSL, "1.1.1w", "3.0.0", -1),
    (KERNEL, "6.6.21+git", "6.6.34", -1), (KERNEL, "6.8-rc1", "6.8", -1), (KERNEL, "6.8-rc7", "6.7.12", 1),
    (KERNEL, "5.15.170-yocto-standard", "5.15.170", 0), (KERNEL, "6.12", "6.12.0", 0),
    (SEMVER, "1.0.0-rc.1", "1.0.0", -1), (SEMVER, "1.0.0-alpha", "1.0.0-alpha.1", -1),
    (SEMVER, "1.0.0-alpha.beta", "1.0.0-beta", -1), (SEMVER, "1.0.0-2", "1.0.0-11", -1), (SEMVER, "8.9", "8.9.0", 0),
    (SEMVER, "7.74.0+git", "7.74.0", 0),
    (RPM, "1:1.1.1k-6.el8_5", "1:1.1.1k-5.el8_5", 1), (RPM, "1.1.1k-6.el8_5", "1:1.0.0-1", -1),
    (RPM, "1.0~rc1-1", "1.0-1", -1), (RPM, "1.0^git1-1", "1.0-1", 1), (RPM, "1.0a-1", "1.0.1-1", -1),
    (RPM, "3.0.7-27.el9", "3.0.7-27.el9", 0), (RPM, "2.02-0.86.el8", "2.02-0.87.el8", -1),
    (DEB, "1.1.0l-1~deb9u5", "1.1.0l-1", -1), (DEB, "1:1.2.8.dfsg-5+deb9u1", "1:1.2.8.dfsg-5", 1),
    (DEB, "2.36-9+deb12u4", "2.36-9+deb12u10", -1), (DEB, "1.0~beta", "1.0", -1), (DEB, "1:0.9", "2.0", 1),
])
def test_orders_compare_real_versions(order, left: str, right: str, expected: int) -> None:
    assert compare(order, left, right) == expected
    assert compare(order, right, left) == -expected


def test_foreign_versions_fall_back_to_the_generic_order_and_unknown_ones_do_not_compare() -> None:
    assert compare(SEMVER, "2020-06-08-5a8b3662", "2021") == -1  # not semver: generic order decides
    assert compare(OPENSSL, "fips-1.1.1", "3.2.3") is not None
    assert compare(KERNEL, "custom", "6.6.34") is None and compare(GENERIC, "unset", "1.0") is None


@pytest.mark.parametrize("version, bound, expected", [
    ("6.6.79", "6.6.*", True), ("6.6.0", "6.6.*", True), ("6.7.1", "6.6.*", False), ("5.15.170", "6.6.*", True),
    ("6.7.1", "*", True), ("2.9.1", "2.*", True), ("3.0", "2.*", False),
])
def test_star_upper_bound_is_infinity_not_a_pattern(version: str, bound: str, expected: bool) -> None:
    assert at_most_wildcard(KERNEL, version, bound) is expected


def test_release_series_per_order() -> None:
    assert same_branch(KERNEL, "6.6.21", "6.6.34") and not same_branch(KERNEL, "6.6.21", "6.12.10")
    assert same_branch(OPENSSL, "1.1.1i", "1.1.1zb") and not same_branch(OPENSSL, "1.1.0l", "1.1.1n")
    assert same_branch(OPENSSL, "3.2.3", "3.2.4") and not same_branch(OPENSSL, "3.2.3", "3.3.3")
    assert same_branch(RPM, "1:1.1.1k-5.el8_5", "1:1.1.1k-6.el8_5")  # a distro release is one series
    assert same_branch(GENERIC, "1.36.1", "1.36.2") and not same_branch(GENERIC, "1.36.1", "1.37.0")


def test_which_order_a_version_type_uses() -> None:
    assert order_for("git") is None and order_for("GIT", product="linux_kernel") is None
    assert order_for("semver", product="linux_kernel") is KERNEL
    assert order_for("original_commit_for_fix", product="linux_kernel") is KERNEL
    assert order_for("custom", product="openssl") is OPENSSL and order_for("semver") is SEMVER
    assert order_for("rpm") is RPM and order_for("custom") is GENERIC and order_for(None) is GENERIC
    assert ecosystem_order("AlmaLinux:8") is RPM and ecosystem_order("Debian:12") is DEB
    assert ecosystem_order("Alpine:v3.20") is GENERIC and ecosystem_order("Linux") is KERNEL

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from timesys_ci.gate.policy import DEFAULT_FAIL_ON, GatePolicy, PolicyError, Waiver, load_policy


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    policy = load_policy(None, None, {})
    assert policy.fail_on == DEFAULT_FAIL_ON == "high"
    assert policy.cvss_version == "3"
    assert policy.categories == ("unfixed", "unapplied", "upgradable")  # every affected category
    assert policy.scope == ("kernel", "toolchain", "userspace")
    assert (policy.fail_on_cvss, policy.fail_on_kev, policy.fail_on_epss) == (None, False, None)
    assert (policy.new_only, policy.baseline, policy.waivers) == (False, None, ())


def test_policy_file_reads_every_key(tmp_path: Path) -> None:
    path = write(tmp_path / "policy.toml", """
fail-on = "medium"
cvss-version = 4
fail-on-cvss = 9.0
fail-on-kev = true
fail-on-epss = 0.5
categories = ["unfixed", "upgradable"]
scope = ["kernel", "userspace"]
new-only = true
baseline = "RPT-123"

[[waivers]]
id = "cve-2024-9143"
package = "openssl"
version = "3.2.3"
reason = "not reachable: no SM2 in this build"
expires = 2027-01-31
""")
    policy = load_policy(path, None, {})
    assert policy.fail_on == "medium" and policy.cvss_version == "4"
    assert policy.fail_on_cvss == 9.0 and policy.fail_on_kev and policy.fail_on_epss == 0.5
    assert policy.categories == ("unfixed", "upgradable") and policy.scope == ("kernel", "userspace")
    assert policy.new_only and policy.baseline == "RPT-123"
    assert policy.waivers == (Waiver(id="CVE-2024-9143", package="openssl", version="3.2.3",
                                     reason="not reachable: no SM2 in this build", expires=date(2027, 1, 31)),)


def test_precedence_flags_over_file_over_pyproject(tmp_path: Path) -> None:
    pyproject = write(tmp_path / "pyproject.toml", """
[project]
name = "firmware"

[tool.timesys-ci]
fail-on = "low"
fail-on-kev = true
scope = ["kernel"]
categories = ["unfixed", "unapplied"]
""")
    policy_file = write(tmp_path / "policy.toml", 'fail-on = "critical"\nscope = ["userspace"]\n')
    assert load_policy(None, pyproject, {}).fail_on == "low"
    policy = load_policy(policy_file, pyproject, {"scope": ["toolchain"], "fail_on_epss": None})
    assert policy.fail_on == "critical"  # file over pyproject
    assert policy.scope == ("toolchain",)  # flags over file
    assert policy.fail_on_kev is True  # pyproject value kept where nobody overrides it
    assert policy.categories == ("unfixed", "unapplied")
    assert policy.fail_on_epss is None  # a None flag means "not given"
    assert load_policy(policy_file, pyproject, {"fail-on": "none"}).fail_on == "none"  # kebab flags too


def test_pyproject_without_table_or_missing_is_fine(tmp_path: Path) -> None:
    pyproject = write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert load_policy(None, pyproject, {}) == GatePolicy()
    assert load_policy(None, tmp_path / "nope.toml", {}) == GatePolicy()


def test_pyproject_keys_of_other_settings_can_be_skipped(tmp_path: Path) -> None:
    pyproject = write(tmp_path / "pyproject.toml", '[tool.timesys-ci]\nurl = "https://h.test"\nfail-on = "low"\n')
    with pytest.raises(PolicyError, match=r"^pyproject\.toml: url: unknown key"):
        load_policy(None, pyproject, {})
    assert load_policy(None, pyproject, {}, other_pyproject_keys=["url"]).fail_on == "low"


def test_comma_separated_flag_values() -> None:
    policy = load_policy(None, None, {"categories": "unfixed, upgradable", "scope": "kernel"})
    assert policy.categories == ("unfixed", "upgradable") and policy.scope == ("kernel",)


@pytest.mark.parametrize(
    "text, message",
    [('fail_on_kve = true', "policy.toml: fail_on_kve: unknown key"),
     ('fail-on = "severe"', "policy.toml: fail-on: Input should be 'none', 'low', 'medium', 'high' or 'critical'"),
     ('fail-on-cvss = 11.0', "policy.toml: fail-on-cvss: Input should be less than or equal to 10"),
     ('fail-on-epss = 1.5', "policy.toml: fail-on-epss: Input should be less than or equal to 1"),
     ('fail-on-kev = "maybe"', "policy.toml: fail-on-kev: Input should be a valid boolean"),
     ('categories = ["fixed"]', "policy.toml: categories[0]: Input should be 'unfixed', 'unapplied' or 'upgradable'"),
     ('categories = []', "policy.toml: categories: Value error, must name at least one value"),
     ('scope = ["firmware"]', "policy.toml: scope[0]: Input should be 'kernel', 'toolchain' or 'userspace'"),
     ('cvss-version = "2"', "policy.toml: cvss-version: Input should be '3', '4' or 'any'"),
     ('fail-on = "high"\nfail-on = "low"', "policy.toml: invalid TOML"),
     ],
)
def test_policy_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(write(tmp_path / "policy.toml", text + "\n"), None, {})
    assert str(info.value).startswith(message), str(info.value)
    assert "\n" not in str(info.value)


WAIVER = '[[waivers]]\nid = "CVE-2024-1"\nreason = "accepted"\nexpires = 2027-01-01\n'


@pytest.mark.parametrize(
    "third, message",
    [('[[waivers]]\nid = "CVE-2024-3"\nreason = "r"\nexpires = "next year"\n',
      "policy.toml: waivers[2].expires: invalid date"),
     ('[[waivers]]\nid = "CVE-2024-3"\nreason = "r"\n', "policy.toml: waivers[2].expires: required"),
     ('[[waivers]]\nid = "CVE-2024-3"\nexpires = 2027-01-01\n', "policy.toml: waivers[2].reason: required"),
     ('[[waivers]]\nid = "CVE-2024-3"\nreason = ""\nexpires = 2027-01-01\n',
      "policy.toml: waivers[2].reason: String should have at least 1 character (got '')"),
     ('[[waivers]]\nid = "CVE-2024-3"\nreason = "r"\nexpires = 2027-01-01\npackages = "zlib"\n',
      "policy.toml: waivers[2].packages: unknown key")],
)
def test_waiver_errors_point_at_the_waiver(tmp_path: Path, third: str, message: str) -> None:
    path = write(tmp_path / "policy.toml", WAIVER + WAIVER.replace("CVE-2024-1", "CVE-2024-2") + third)
    with pytest.raises(PolicyError) as info:
        load_policy(path, None, {})
    assert str(info.value) == message


def test_error_names_the_layer_that_gave_the_bad_value(tmp_path: Path) -> None:
    pyproject = write(tmp_path / "pyproject.toml", '[tool.timesys-ci]\nfail-on-epss = 3\n')
    with pytest.raises(PolicyError, match=r"^pyproject\.toml \[tool\.timesys-ci\]: fail-on-epss:"):
        load_policy(None, pyproject, {})
    assert load_policy(None, pyproject, {"fail_on_epss": 0.3}).fail_on_epss == 0.3  # flag replaces it
    with pytest.raises(PolicyError, match=r"^command line: fail-on: "):
        load_policy(None, None, {"fail_on": "urgent"})
    with pytest.raises(PolicyError, match=r"^command line: fail-on-kve: unknown key"):
        load_policy(None, None, {"fail-on-kve": True})


def test_missing_policy_file_and_bad_table(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"nope\.toml: policy file not found"):
        load_policy(tmp_path / "nope.toml", None, {})
    pyproject = write(tmp_path / "pyproject.toml", '[tool]\ntimesys-ci = 3\n')
    with pytest.raises(PolicyError, match=r"^pyproject\.toml: tool\.timesys-ci: must be a table"):
        load_policy(None, pyproject, {})


def test_waiver_matching_and_expiry() -> None:
    waiver = Waiver(id="CVE-2024-1", package="zlib", reason="r", expires=date(2026, 11, 27))
    assert waiver.matches("zlib", "1.3", "cve-2024-1")
    assert not waiver.matches("openssl", "1.3", "CVE-2024-1")
    assert not waiver.expired(date(2026, 11, 27))  # valid through its expiry day
    assert waiver.expired(date(2026, 11, 28))
    pinned = Waiver(id="CVE-2024-1", version="1.3", reason="r", expires=date(2027, 1, 1))
    assert pinned.matches("anything", "1.3", "CVE-2024-1") and not pinned.matches("x", "1.4", "CVE-2024-1")

"""OSV advisories: parsing, which packages they apply to (distribution ecosystems vs upstream), version ranges."""
from __future__ import annotations

import json

import pytest

from timesys_ci.sbom.model import Package
from timesys_ci.vulndb.errors import VulnDataError
from timesys_ci.vulndb.match import osv_verdict, package_probes, tag_version
from timesys_ci.sbom.purl import parse_purl
from timesys_ci.vulndb.products import purl_ecosystem
from timesys_ci.vulndb.record import VulnRecord
from timesys_ci.vulndb.sources.common import Withdrawn
from timesys_ci.vulndb.sources.osv import parse_osv
from .vulndb_helpers import FIXTURES, osv_record

ALSA_0778 = "almalinux/almalinux8/ALSA-2022_1065.json"  # openssl CVE-2022-0778, fixed in 1:1.1.1k-6.el8_5


def _verdict(record: VulnRecord, package: Package):
    return osv_verdict(record, package, package_probes(package))


def test_every_fixture_record_parses() -> None:
    paths = sorted((FIXTURES / "osv").glob("**/*.json"))
    parsed = [parse_osv(json.loads(path.read_text()), str(path)) for path in paths]
    records = [item for item in parsed if isinstance(item, VulnRecord)]
    assert len(paths) > 150 and all(VulnRecord.from_json(r.to_json()) == r for r in records)
    assert any(isinstance(item, Withdrawn) and item.id == "OSV-2023-119" for item in parsed)  # withdrawn upstream


def test_related_and_aliases_are_joined_to_cve_ids() -> None:
    advisory = osv_record("almalinux/almalinux8/ALSA-2022_5818.json")
    assert advisory.cve_ids == ["CVE-2022-1292", "CVE-2022-2068", "CVE-2022-2097"]
    assert advisory.severity_text == "medium"  # "Moderate: openssl security and bug fix update"
    assert osv_record("misc/CURL-CVE-2009-0037.json").cve_ids == ["CVE-2009-0037"]
    assert osv_record("oss-fuzz/dnsmasq/OSV-2021-1807.json").cve_ids == ["OSV-2021-1807"]  # no CVE: its own id


def test_distribution_advisory_applies_only_to_that_distributions_packages() -> None:
    advisory = osv_record(ALSA_0778)
    alma = "pkg:rpm/almalinux/openssl@1.1.1k-5.el8_5?arch=x86_64&epoch=1&distro=almalinux-8"
    verdict = _verdict(advisory, Package("openssl", "1.1.1k-5.el8_5", purl=alma))
    assert verdict is not None and verdict.affected and verdict.authoritative
    assert verdict.source == "osv:AlmaLinux:8" and verdict.fixed_versions == ("1:1.1.1k-6.el8_5",)
    backported = _verdict(advisory, Package("openssl", "1.1.1k-6.el8_5", purl=alma.replace("k-5", "k-6")))
    assert backported is not None and backported.affected is False  # the distribution's fix, same upstream version
    # A Yocto build of OpenSSL 1.1.1k is not an AlmaLinux package: the rpm ranges say nothing about it.
    assert _verdict(advisory, Package("openssl", "1.1.1k", cve_product=["openssl:openssl"])) is None
    assert _verdict(advisory, Package("openssl", "1.0.2k-19.el7", purl="pkg:rpm/centos/openssl@1.0.2k-19.el7")) is None
    # Another release of the distribution: "el9" package, AlmaLinux:8 advisory.
    el9 = "pkg:rpm/almalinux/openssl@3.0.1-40.el9_0?epoch=1"
    assert _verdict(advisory, Package("openssl", "3.0.1-40.el9_0", purl=el9)) is None


def test_purl_ecosystems() -> None:
    assert purl_ecosystem(parse_purl("pkg:rpm/almalinux/openssl@1.1.1k-5.el8_5?distro=almalinux-8")) == (
        "AlmaLinux", "8")
    assert purl_ecosystem(parse_purl("pkg:rpm/almalinux/openssl@1.1.1k-5.el8_5")) == ("AlmaLinux", "8")
    assert purl_ecosystem(parse_purl("pkg:deb/debian/zlib1g@1:1.2.8.dfsg-5?distro=debian-9")) == ("Debian", "9")
    assert purl_ecosystem(parse_purl("pkg:apk/alpine/zlib@1.2.12-r1?distro=3.17.2")) == ("Alpine", "v3.17")
    assert purl_ecosystem(parse_purl("pkg:generic/busybox@1.36.1")) is None


def test_ubuntu_enumerated_versions() -> None:
    record = osv_record("misc/UBUNTU-CVE-2025-38094.json")
    purl = "pkg:deb/ubuntu/linux@{}?arch=source&distro=ubuntu-14.04"
    listed = _verdict(record, Package("linux", "3.13.0-205.256", purl=purl.format("3.13.0-205.256")))
    assert listed is not None and listed.affected and listed.source == "osv:Ubuntu:Pro:14.04:LTS"
    assert record.cve_ids == ["CVE-2025-38094"]
    other_release = purl.format("3.13.0-205.256").replace("ubuntu-14.04", "ubuntu-22.04")
    assert _verdict(record, Package("linux", "3.13.0-205.256", purl=other_release)) is None


def test_ecosystem_less_semver_record_applies_by_name() -> None:
    record = osv_record("misc/CURL-CVE-2009-0037.json")
    old = _verdict(record, Package("curl", "7.19.0"))
    assert old is not None and old.affected and old.fixed_versions == ("7.19.4",) and not old.authoritative
    fixed = _verdict(record, Package("libcurl", "7.19.4", cve_product=["curl"]))
    assert fixed is not None and fixed.affected is False
    assert _verdict(record, Package("wget", "7.19.0")) is None
    assert old.fix_commits == ("https://github.com/curl/curl.git@042cc1f69ec0878f542667cb684378869f859911",)


@pytest.mark.parametrize("tag, version", [("curl-7_61_1", "7.61.1"), ("OpenSSL_1_1_1-pre1", "1.1.1-pre1"),
                                          ("v2.86", "2.86"), ("hostap_2_1", "2.1"), ("v253", "253"),
                                          ("v4.6.0-stable", "4.6.0"), ("2.0.90", "2.0.90")])
def test_git_tags_read_as_versions(tag: str, version: str) -> None:
    assert tag_version(tag) == version


def test_git_range_records_match_only_through_their_tag_lists() -> None:
    dnsmasq = osv_record("oss-fuzz/dnsmasq/OSV-2021-1807.json")
    hit = _verdict(dnsmasq, Package("dnsmasq", "2.86"))
    assert hit is not None and hit.affected and hit.fixed_versions == () and hit.fix_commits  # fix commit known
    miss = _verdict(dnsmasq, Package("dnsmasq", "2.85"))
    assert miss is not None and miss.affected is False
    openssl = osv_record("oss-fuzz/openssl/OSV-2018-109.json")  # GIT range, empty versions list
    assert _verdict(openssl, Package("openssl", "1.1.1")) is None  # commits are never compared with versions


def test_not_osv_is_refused_with_one_line() -> None:
    with pytest.raises(VulnDataError, match=r"^x\.json: not an OSV record"):
        parse_osv({"id": "X"}, "x.json")

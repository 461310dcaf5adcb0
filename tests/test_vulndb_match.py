"""The NVD-configuration matcher (probes, identifiers, strict vendors, configuration logic) on the NVD fixtures."""
from __future__ import annotations

from typing import Iterable, List, Optional

import pytest

from timesys_ci.sbom.model import Package
from timesys_ci.vulndb.match import DEFAULT_IDENTIFIERS, candidate_products, package_probes, record_products
from timesys_ci.vulndb.merge import MergedFinding
from timesys_ci.vulndb.record import Configuration, CpeMatch, Node, VulnRecord
from timesys_ci.vulndb.scan import package_findings
from .vulndb_helpers import fixture_index


def match_package(package: Package, records: Iterable[VulnRecord], identifiers=DEFAULT_IDENTIFIERS,
                  strict: bool = False) -> List[MergedFinding]:
    records = list(records)
    found = package_findings(package, lambda _: records, identifiers, strict)
    return [found[key] for key in sorted(found)]


def _matched(package: Package, identifiers=("CPE", "CVE Product", "Package Name"), strict: bool = False) -> List[str]:
    records = fixture_index().records_for(candidate_products(package, identifiers, strict))
    return [match.cve_id for match in match_package(package, records, identifiers, strict)]


@pytest.mark.parametrize(
    "package, present, absent",
    [
        (Package("openssl", "1.1.1n", cpe_ids=["cpe:/a:openssl:openssl"]), [], ["CVE-2022-0778"]),
        (Package("libopenssl", "1.1.1i", cve_product=["openssl"]), ["CVE-2022-0778"], []),
        (Package("openssl", "1.1.0l-1~deb9u5", cve_product=["openssl:openssl"]), ["CVE-2022-0778"], []),
        (Package("openssl", "3.2.3", cve_product=["openssl:openssl"]), [], ["CVE-2022-0778", "CVE-2024-9143"]),
        (Package("zlib", "1.2.11", cpe_ids=["cpe:/a:gnu:zlib"]), ["CVE-2022-37434"], []),
        (Package("zlib", "1.3.1", cpe_ids=["cpe:2.3:*:*:zlib:1.3.1:*:*:*:*:*:*:*"]), [], ["CVE-2022-37434"]),
        (Package("linux-yocto", "6.6.21+git", cve_product=["linux_kernel"], cve_version="6.6.21"),
         ["CVE-2024-36971"], ["CVE-2024-1086"]),
        (Package("linux", "6.12.38", cve_product=["linux_kernel"]), [], ["CVE-2024-36971", "CVE-2024-1086"]),
        (Package("linux", "6.8-rc1", cve_product=["linux_kernel"]), ["CVE-2024-1086"], []),
        (Package("xz", "5.4.6"), [], ["CVE-2024-3094"]),
        (Package("xz", "5.6.4"), [], ["CVE-2024-3094"]),
        (Package("xz", "5.6.1"), ["CVE-2024-3094"], []),
        (Package("dnsmasq", "2.85", cpe_ids=["cpe:/a:thekelleys:dnsmasq"]), ["CVE-2022-0934", "CVE-2023-28450"], []),
        (Package("curl", "7.82.0", cve_product=["libcurl"], cpe_ids=["cpe:/a:haxx:libcurl"]),
         ["CVE-2024-7264"], ["CVE-2018-14618"]),
        (Package("busybox", "1.36.1"), ["CVE-2022-48174"], ["CVE-2022-28391", "CVE-2021-42386", "CVE-2023-42363"]),
        (Package("busybox", "1.33.2"), ["CVE-2022-28391"], ["CVE-2021-42386"]),
        (Package("busybox", "1.29.3"), ["CVE-2022-28391", "CVE-2018-1000500", "CVE-2021-42386"], []),
        (Package("systemd", "244.5"), ["CVE-2023-26604"], []),
        (Package("expat", "2.2.8", cve_product=["libexpat_project:libexpat"]), ["CVE-2024-45490"], []),
        (Package("dropbear", "2020.81", cpe_ids=["cpe:/a:matt_johnston:dropbear_ssh_server:2020.81"]),
         ["CVE-2021-36369"], []),
        (Package("dropbear", "2022.83", cpe_ids=["cpe:/a:matt_johnston:dropbear_ssh_server"]), [], ["CVE-2021-36369"]),
    ],
)
def test_fixture_matches(package: Package, present: List[str], absent: List[str]) -> None:
    matched = _matched(package)
    assert set(present) <= set(matched)
    assert not set(absent) & set(matched)


def test_fixed_version_is_the_excluding_end() -> None:
    package = Package("openssl", "1.1.1i", cve_product=["openssl:openssl"])
    (match,) = match_package(package, fixture_index().records_for(candidate_products(package)))
    assert (match.cve_id, match.fixed_version, match.identifier) == ("CVE-2022-0778", "1.1.1n", "CVE Product")
    zlib = Package("zlib", "1.2.11")
    (inclusive,) = match_package(zlib, fixture_index().records_for(candidate_products(zlib)))
    assert inclusive.fixed_version is None  # "<= 1.2.12" says nothing about the fix


def test_unknown_versions_never_match_bounded_ranges() -> None:
    assert _matched(Package("linux", "custom", cve_product=["linux_kernel"])) == []
    assert _matched(Package("busybox", "unset")) == []
    assert _matched(Package("busybox", "git")) == []


def test_strict_requires_vendor_when_given() -> None:
    zlib = Package("zlib", "1.2.11", cpe_ids=["cpe:/a:gnu:zlib"])
    assert _matched(zlib, identifiers=("CPE",), strict=False) == ["CVE-2022-37434"]
    assert _matched(zlib, identifiers=("CPE",), strict=True) == []
    right = Package("zlib", "1.2.11", cpe_ids=["cpe:/a:zlib:zlib"])
    assert _matched(right, identifiers=("CPE",), strict=True) == ["CVE-2022-37434"]
    no_vendor = Package("zlib", "1.2.11", cve_product=["zlib"])
    assert _matched(no_vendor, identifiers=("CVE Product",), strict=True) == ["CVE-2022-37434"]


def test_strict_disables_product_aliases() -> None:
    dropbear = Package("dropbear", "2020.81", cpe_ids=["cpe:/a:matt_johnston:dropbear_ssh_server"])
    assert _matched(dropbear, strict=True) == []


def test_identifier_selection_and_fallback_to_name() -> None:
    curl = Package("curl", "7.82.0", cve_product=["haxx:libcurl"])
    assert _matched(curl, identifiers=("CVE Product",)) == ["CVE-2024-7264"]
    assert _matched(curl, identifiers=("Package Name",)) == []  # NVD names the product libcurl
    # No CPE on the package: the selected identifier is absent, so the name is used.
    assert _matched(Package("dnsmasq", "2.85"), identifiers=("CPE",)) == ["CVE-2022-0934", "CVE-2023-28450"]
    purl = Package("anything", "2.85", purl="pkg:generic/thekelleys/dnsmasq@2.85")
    assert _matched(purl, identifiers=("PURL",), strict=True) == ["CVE-2022-0934", "CVE-2023-28450"]


def test_identifier_reported_is_the_first_that_matched() -> None:
    package = Package("busybox", "1.36.1", cpe_ids=["cpe:2.3:*:*:busybox:1.36.1:*:*:*:*:*:*:*"], cve_product=["busybox"])
    (match,) = match_package(package, fixture_index().records_for(candidate_products(package)))
    assert match.identifier == "CPE"


def test_unknown_identifier_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown vuln identifier 'SWID'"):
        package_probes(Package("x", "1"), identifiers=("SWID",))


def _record(*configs: Configuration) -> VulnRecord:
    return VulnRecord(id="CVE-2099-0001", configurations=list(configs))


def _m(criteria: str, vulnerable: bool = True, end: Optional[str] = None) -> CpeMatch:
    return CpeMatch(vulnerable=vulnerable, criteria=criteria, version_end_excluding=end)


def test_and_configuration_with_platform_child_is_decided_by_vulnerable_children() -> None:
    app = Node("OR", False, [_m("cpe:2.3:a:acme:widget:*:*:*:*:*:*:*:*", end="2.0")])
    platform = Node("OR", False, [_m("cpe:2.3:o:microsoft:windows:-:*:*:*:*:*:*:*", vulnerable=False)])
    record = _record(Configuration("AND", False, [app, platform]))
    assert [m.fixed_version for m in match_package(Package("widget", "1.5"), [record])] == ["2.0"]
    assert match_package(Package("widget", "2.0"), [record]) == []
    assert match_package(Package("windows", "1.0"), [record]) == []


def test_and_node_needs_every_vulnerable_child() -> None:
    node = Node("AND", False, [_m("cpe:2.3:a:acme:widget:*:*:*:*:*:*:*:*"), _m("cpe:2.3:a:acme:gadget:*:*:*:*:*:*:*:*")])
    record = _record(Configuration("OR", False, [node]))
    assert match_package(Package("widget", "1.0"), [record]) == []
    either = _record(Configuration("OR", False, [Node("OR", False, node.matches)]))
    assert len(match_package(Package("widget", "1.0"), [either])) == 1


def test_negated_nodes_and_hardware_platforms_are_ignored() -> None:
    hardware = Node("OR", False, [_m("cpe:2.3:h:acme:router:-:*:*:*:*:*:*:*")])
    firmware = Node("OR", False, [_m("cpe:2.3:o:acme:router_firmware:*:*:*:*:*:*:*:*", end="3.1")])
    negated = Node("OR", True, [_m("cpe:2.3:a:acme:router_firmware:*:*:*:*:*:*:*:*")])
    record = _record(Configuration("AND", False, [firmware, hardware, negated]))
    assert len(match_package(Package("router_firmware", "3.0"), [record])) == 1
    assert match_package(Package("router", "1.0"), [record]) == []
    assert record_products(record) == {("acme", "router_firmware")}


def test_record_without_configurations_never_matches() -> None:
    assert match_package(Package("busybox", "1.36.1"), fixture_index().records_about(["CVE-2023-42363"])["CVE-2023-42363"]) == []


def test_exact_version_with_update_field() -> None:
    linux = Package("linux", "6.8rc1", cve_product=["linux_kernel"])
    assert "CVE-2024-1086" in _matched(linux)
    assert "CVE-2024-1086" not in _matched(Package("linux", "6.8rc2", cve_product=["linux_kernel"]))


def test_candidate_products_and_record_products() -> None:
    package = Package("curl", "7.82.0", cve_product=["haxx:libcurl"], cpe_ids=["cpe:/a:haxx:libcurl"])
    assert candidate_products(package) == {"libcurl", "curl"}
    assert candidate_products(package, strict=True) == {"libcurl", "curl"}
    (record,) = fixture_index().records_about(["CVE-2024-7264"])["CVE-2024-7264"]
    assert record_products(record) == {("haxx", "libcurl")}

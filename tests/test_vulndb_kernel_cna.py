"""The Linux kernel CNA's version semantics on its real records (issue 14 item 3).

CVE-2025-21631 (block/bfq-iosched.c): introduced in mainline 6.12 and backported into
stable 5.15.168, 6.1.113, 6.6.54, 6.10.13 and 6.11.2 (the git ranges' first commits and the
CNA's per-branch cpeApplicability say so; the version entries name only 6.12); fixed in
5.15.177, 6.1.125, 6.6.72, 6.12.10 and mainline 6.13.
CVE-2025-21772 (block/partitions/mac.c): affected since the first git commit, fixed in
5.4.291, 5.10.235, 5.15.179, 6.1.129, 6.6.79, 6.12.16, 6.13.4 and mainline 6.14; its version
entries use ``defaultStatus: affected`` with ``unaffected`` stable-branch entries
(``version: 6.6.79, lessThanOrEqual: 6.6.*``).
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import pytest

from timesys_ci.sbom.model import Package
from timesys_ci.vulndb.index import RecordIndex
from timesys_ci.vulndb.match import cve5_status, package_probes
from timesys_ci.vulndb.scan import package_findings
from .vulndb_helpers import cve5_record

KERNEL_CVES = ("CVE-2025-21631", "CVE-2025-21772")
# kernel version -> CVE -> fixed version in that kernel's branch (None: not affected)
EXPECTED: Dict[str, Dict[str, Optional[str]]] = {
    "5.15.170": {"CVE-2025-21631": "5.15.177", "CVE-2025-21772": "5.15.179"},
    "6.1.125": {"CVE-2025-21631": None, "CVE-2025-21772": "6.1.129"},
    "6.6.21": {"CVE-2025-21631": None, "CVE-2025-21772": "6.6.79"},
    "6.6.79": {"CVE-2025-21631": None, "CVE-2025-21772": None},
    "6.12.9": {"CVE-2025-21631": "6.12.10", "CVE-2025-21772": "6.12.16"},
}


def _index() -> RecordIndex:
    return RecordIndex(cve5_record(cve) for cve in KERNEL_CVES)


def _kernel(version: str) -> Package:
    return Package("linux-yocto", f"{version}+git", cve_product=["linux_kernel"], cve_version=version)


@pytest.mark.parametrize("version", sorted(EXPECTED))
def test_kernel_versions_against_the_two_kernel_cna_records(version: str) -> None:
    findings = package_findings(_kernel(version), _index().records_for)
    for cve, fixed in EXPECTED[version].items():
        if fixed is None:
            assert cve not in findings, (version, cve)
            continue
        finding = findings[cve]
        assert finding.sources == ("cve5:Linux",)
        assert finding.fixed_versions == (fixed,)  # the fix in the kernel's own stable branch


def test_package_names_the_kernel_goes_by() -> None:
    for package in (Package("linux", "6.6.21", cpe_ids=["cpe:2.3:o:linux:linux_kernel:6.6.21:*:*:*:*:*:*:*"]),
                    Package("linux-yocto", "6.6.21"), Package("kernel", "6.6.21")):
        assert "CVE-2025-21772" in package_findings(package, _index().records_for), package.name
    assert package_findings(Package("linux-libc-headers", "6.6"), _index().records_for) == {}


def _version_entries(cve: str, version: str) -> Tuple[Optional[str], Tuple[str, ...]]:
    record = cve5_record(cve)
    git_only, numbers = record.affected
    assert cve5_status(git_only, version, "linux_kernel")[0] is None  # git ranges never compare versions
    status, fixes, _ = cve5_status(numbers, version, "linux_kernel")
    return status, fixes


def test_default_status_and_unaffected_stable_branch_entries() -> None:
    assert _version_entries("CVE-2025-21772", "6.6.79") == ("unaffected", ())  # 6.6.79 <= v <= 6.6.*
    assert _version_entries("CVE-2025-21772", "6.6.200")[0] == "unaffected"
    assert _version_entries("CVE-2025-21772", "6.6.78")[0] == "affected"  # defaultStatus: affected
    assert _version_entries("CVE-2025-21772", "6.7.5")[0] == "affected"  # an end-of-life branch, never fixed
    assert _version_entries("CVE-2025-21772", "6.14")[0] == "unaffected"  # 6.14 <= v <= *
    assert _version_entries("CVE-2025-21631", "6.12")[0] == "affected"  # the single "6.12" entry
    assert _version_entries("CVE-2025-21631", "6.11.1")[0] == "unaffected"  # 0 <= v < 6.12


def test_per_branch_reading_of_the_cna_cpe_applicability() -> None:
    # The version entries alone call 5.15.170 unaffected (0 <= v < 6.12); the CNA's per-branch criteria
    # (5.15.168 <= v < 5.15.177) and its git ranges show the backported bug: reported.
    assert _version_entries("CVE-2025-21631", "5.15.170")[0] == "unaffected"
    assert "CVE-2025-21631" in package_findings(_kernel("5.15.170"), _index().records_for)
    # Read as one OR, CVE-2025-21772's criteria would say every kernel below 6.14 is affected, 6.6.79 too;
    # per branch, 6.6.79 has its own criterion (< 6.6.79) and is not.
    assert "CVE-2025-21772" not in package_findings(_kernel("6.6.79"), _index().records_for)
    assert "CVE-2025-21772" in package_findings(_kernel("6.7.5"), _index().records_for)  # no 6.7 criterion
    assert "CVE-2025-21631" in package_findings(_kernel("6.10.14"), _index().records_for)  # >= 6.10.13, EOL
    assert "CVE-2025-21631" not in package_findings(_kernel("6.11.1"), _index().records_for)  # < 6.11.2
    assert "CVE-2025-21631" not in package_findings(_kernel("6.13.1"), _index().records_for)


def test_unknown_kernel_version_gets_no_finding() -> None:
    assert package_findings(Package("linux", "custom", cve_product=["linux_kernel"]), _index().records_for) == {}
    probes = package_probes(_kernel("6.6.21"))
    assert {probe.product for probe in probes} >= {"linux_kernel", "linux-yocto"}

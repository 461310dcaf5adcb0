"""CVE JSON 5 records (OpenSSL CNA files, CVE List V5 copies with ADP containers) and their matching."""
from __future__ import annotations

import json
from typing import Dict

import pytest

from timesys_ci.sbom.model import Package
from timesys_ci.vulndb.errors import VulnDataError
from timesys_ci.vulndb.match import cve5_status, cve5_verdict, package_probes
from timesys_ci.vulndb.record import VulnRecord
from timesys_ci.vulndb.sources.common import Withdrawn
from timesys_ci.vulndb.sources.cve5 import parse_cve5
from .vulndb_helpers import FIXTURES, cve5_record


def test_every_fixture_record_parses_and_round_trips() -> None:
    paths = sorted((FIXTURES / "cve5").glob("*/CVE-*.json"))
    assert len(paths) == 278
    for path in paths:
        record = parse_cve5(json.loads(path.read_text()), str(path))
        assert isinstance(record, VulnRecord) and record.source == "cve5" and record.id == path.stem
        assert VulnRecord.from_json(json.loads(json.dumps(record.to_json()))) == record


def test_openssl_cna_record_keeps_ranges_types_rating_and_fix_commits() -> None:
    record = cve5_record("CVE-2024-9143")
    (entry,) = record.affected
    assert (entry.provider, entry.vendor, entry.product, entry.default_status) == ("openssl", "OpenSSL", "OpenSSL",
                                                                                "unaffected")
    assert [(v.version, v.less_than, v.version_type) for v in entry.versions][:2] == [
        ("3.3.0", "3.3.3", "semver"), ("3.2.0", "3.2.4", "semver")]
    assert entry.versions[-1].version_type == "custom" and entry.versions[-1].less_than == "1.0.2zl"
    assert record.cvss_v3 is None and record.severity_text == "low" and record.severity == "low"
    assert "https://github.com/openssl/openssl/commit/bc7e04d7c8d509fb78fc0e285aa948fb0da04700" in record.fix_commits
    assert record.cwes == ["CWE-125", "CWE-787"]


def test_adp_container_adds_cvss_with_provenance_and_kernel_program_files() -> None:
    record = cve5_record("CVE-2025-21631")
    assert record.assigner == "Linux" and record.cvss_v3 is not None and record.cvss_v3.score == 7.8
    assert record.provenance == {"cvss_v3": "CISA-ADP"} and "CWE-416" in record.cwes
    assert record.program_files == ["block/bfq-iosched.c"]
    assert [entry.repo for entry in record.affected] == [
        "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git"] * 2
    git = [item for item in record.affected[0].versions if item.version_type == "git"]
    assert len(git) == 7  # git ranges kept on the record
    assert record.fix_commits[0].endswith("@f587c1ac68956c4703857d650d9b1cd7bb2ac4d7")
    assert len(record.configurations[0].nodes[0].matches) == 7  # cpeApplicability


def test_cna_severity_words_and_placeholders() -> None:
    xz = cve5_record("CVE-2024-3094")
    assert xz.cvss_v3 is not None and xz.cvss_v3.score == 10.0  # the CNA's own score comes first
    assert xz.affected[0].package_name == "xz" and xz.affected[0].collection_url.startswith("https://github.com")
    openssh = cve5_record("CVE-2023-38408")
    assert openssh.affected == []  # vendor/product "n/a": nothing names the software


def test_rejected_record_is_a_withdrawal_and_structure_errors_are_one_line() -> None:
    rejected = {"dataType": "CVE_RECORD", "cveMetadata": {"cveId": "CVE-2099-0001", "state": "REJECTED"},
                "containers": {"cna": {"rejectedReasons": []}}}
    assert parse_cve5(rejected) == Withdrawn("cve5", "CVE-2099-0001")
    with pytest.raises(VulnDataError, match=r"^x\.json: CVE-2099-0002: containers\.cna: missing$"):
        parse_cve5({"dataType": "CVE_RECORD", "cveMetadata": {"cveId": "CVE-2099-0002"}, "containers": {}}, "x.json")
    with pytest.raises(VulnDataError, match=r"^x\.json: cveMetadata\.cveId: missing$"):
        parse_cve5({"dataType": "CVE_RECORD", "containers": {}}, "x.json")


def _status(cve_id: str, version: str, product: str = "openssl") -> str:
    record = cve5_record(cve_id)
    return cve5_status(record.affected[-1], version, product)[0] or "none"


@pytest.mark.parametrize("cve_id, version, status", [
    ("CVE-2024-9143", "3.2.3", "affected"), ("CVE-2024-9143", "3.2.4", "unaffected"),
    ("CVE-2024-9143", "1.1.1w", "affected"), ("CVE-2024-9143", "1.1.1zb", "unaffected"),
    ("CVE-2024-9143", "1.0.2k", "affected"), ("CVE-2024-9143", "3.4.2", "unaffected"),
    ("CVE-2022-3996", "3.0.7", "affected"), ("CVE-2022-3996", "3.0.8", "unaffected"),  # lessThanOrEqual
    ("CVE-2007-5502", "1.1.1", "unaffected"),  # "fips-1.1.1" ranges are another product line
])
def test_version_status_algorithm_on_openssl_records(cve_id: str, version: str, status: str) -> None:
    assert _status(cve_id, version) == status


def test_fixed_version_is_the_end_of_the_matching_range() -> None:
    record = cve5_record("CVE-2024-9143")
    assert cve5_status(record.affected[0], "3.2.3", "openssl")[1] == ("3.2.4",)
    assert cve5_status(record.affected[0], "1.0.2k", "openssl")[1] == ("1.0.2zl",)


def test_curl_single_versions_and_the_red_hat_cna_curl_entry() -> None:
    curl = cve5_record("CVE-2024-7264")
    probes = package_probes(Package("curl", "7.82.0", cve_product=["libcurl"]))
    (verdict,) = cve5_verdict(curl, probes)
    assert (verdict.source, verdict.affected) == ("cve5:curl", True)
    (past,) = cve5_verdict(curl, package_probes(Package("curl", "8.9.1")))
    assert past.affected is False
    # Red Hat's record lists only "7.61.1 affected" and no defaultStatus: other versions are unknown, not a verdict.
    assert cve5_verdict(cve5_record("CVE-2018-14618"), package_probes(Package("curl", "7.74.0"))) == []


def test_distribution_entries_do_not_apply_to_other_builds() -> None:
    xz = cve5_record("CVE-2024-3094")
    verdicts: Dict[str, bool] = {v.source: v.affected for v in cve5_verdict(xz, package_probes(Package("xz", "5.6.1")))}
    assert verdicts == {"cve5:redhat": True}  # the upstream entry (packageName xz, GitHub collection)
    assert [v.affected for v in cve5_verdict(xz, package_probes(Package("xz", "5.4.6")))] == [False]
    entry = next(entry for entry in xz.affected if entry.product == "Red Hat Enterprise Linux 9")
    assert entry.default_status == "unaffected" and entry.cpes == ["cpe:/o:redhat:enterprise_linux:9"]


def test_strict_vendor_matching_uses_the_cpe_names_of_the_table() -> None:
    record = cve5_record("CVE-2024-9143")

    def verdicts(token: str) -> list:
        probes = package_probes(Package("openssl", "3.2.3", cve_product=[token]), ("CVE Product",), strict=True)
        return cve5_verdict(record, probes, strict=True)

    assert verdicts("openssl:openssl")[0].affected
    assert verdicts("acme:openssl") == []

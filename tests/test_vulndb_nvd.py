from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from timesys_ci.vulndb.errors import VulnDataError
from timesys_ci.vulndb.sources.nvd import load_nvd_bytes, load_nvd_file, parse_nvd_document, to_api_envelope
from timesys_ci.cvss import severity_for
from timesys_ci.vulndb.record import VulnRecord

NVD_DIR = Path(__file__).parent / "fixtures" / "vulndb" / "nvd"


def _record(cve_id: str) -> VulnRecord:
    name = next(NVD_DIR.glob(f"{cve_id}*.json"))
    (record,) = load_nvd_file(name)
    return record


def test_single_cve_object_fkie_layout() -> None:
    record = _record("CVE-2024-36971")
    assert record.id == "CVE-2024-36971"
    assert record.description.startswith("In the Linux kernel")
    assert record.published == "2024-06-10T09:15:09.127"
    assert record.vuln_status == "Modified"
    assert record.kev is True
    assert record.cvss_v3 is not None and record.cvss_v3.score == 7.8 and record.cvss_v3.version == "3.1"
    assert record.cvss_v3.severity == "high"
    assert record.cwes == ["CWE-416"]
    assert any("Patch" in ref.tags for ref in record.references)
    ends = [match.version_end_excluding for node in record.configurations[0].nodes for match in node.matches]
    assert "6.6.34" in ends


def test_api_response_page() -> None:
    record = _record("CVE-2024-3094")
    assert record.cvss_v3 is not None and record.cvss_v3.score == 10.0
    criteria = [m.criteria for c in record.configurations for n in c.nodes for m in n.matches]
    assert criteria == ["cpe:2.3:a:tukaani:xz:5.6.0:*:*:*:*:*:*:*", "cpe:2.3:a:tukaani:xz:5.6.1:*:*:*:*:*:*:*"]


def test_records_without_configurations_import() -> None:
    record = _record("CVE-2023-42363")
    assert record.vuln_status == "Received" and record.configurations == []


def test_primary_metric_preferred() -> None:
    cve = json.loads((NVD_DIR / "CVE-2022-0778.json").read_text())
    secondary = {"source": "cna", "type": "Secondary",
                 "cvssData": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N", "baseScore": 1.0}}
    cve["metrics"]["cvssMetricV31"].insert(0, secondary)
    (record,) = parse_nvd_document(cve, "x.json")
    assert record.cvss_v3 is not None and record.cvss_v3.score == 7.5
    assert record.cvss_v2 is not None and record.cvss_v2.version == "2.0"


def test_cvss_v4_metric() -> None:
    cve = {"id": "CVE-2099-0001", "metrics": {"cvssMetricV40": [
        {"type": "Secondary", "cvssData": {"version": "4.0", "vectorString": "CVSS:4.0/AV:N", "baseScore": 9.3}}]}}
    (record,) = parse_nvd_document(cve)
    assert record.cvss_v4 is not None and record.cvss_v4.score == 9.3 and record.cvss_v4.severity == "critical"
    assert record.severity == "critical"


def test_feed_envelope_plain_and_gzip_and_rejected_skipped() -> None:
    cves = [json.loads(path.read_text()) for path in sorted(NVD_DIR.glob("CVE-*[0-9].json"))]
    rejected = {"id": "CVE-2099-9999", "vulnStatus": "Rejected", "descriptions": []}
    feed = {"vulnerabilities": [{"cve": cve} for cve in cves + [rejected]]}
    data = json.dumps(feed).encode()
    plain = load_nvd_bytes(data, "feed.json")
    zipped = load_nvd_bytes(gzip.compress(data), "feed.json.gz")
    assert [r.id for r in plain] == [r.id for r in zipped] == [c["id"] for c in cves]
    assert "CVE-2099-9999" not in {r.id for r in plain}
    assert len(load_nvd_bytes(json.dumps(to_api_envelope(cves)).encode())) == len(cves)


def test_to_json_round_trip_for_every_fixture() -> None:
    for path in NVD_DIR.glob("*.json"):
        for record in load_nvd_file(path):
            stored = json.loads(json.dumps(record.to_json()))
            assert VulnRecord.from_json(stored) == record


@pytest.mark.parametrize(
    "payload, fragment",
    [
        (b"", "invalid JSON at line 1 column 1"),
        (b'{"id": "CVE-1", ', "invalid JSON at line 1"),
        (b"[1, 2]", "not NVD CVE API 2.0 JSON"),
        (b'{"vulnerabilities": {}}', "'vulnerabilities' must be a list"),
        (b'{"vulnerabilities": [{"nocve": 1}]}', "vulnerabilities[0] has no 'cve' object"),
        (b'{"id": "CVE-2020-1", "configurations": [{"nodes": [{"cpeMatch": [{"vulnerable": true}]}]}]}',
         "CVE-2020-1: cpeMatch entry without a 'criteria' string"),
        (b'{"id": "CVE-2020-2", "configurations": [{"nodes": [{"cpeMatch": [{"criteria": "bogus"}]}]}]}',
         "CVE-2020-2: 'bogus' is not a CPE name"),
        (b'{"id": "CVE-2020-3", "configurations": {}}', "CVE-2020-3: 'configurations' must be a list"),
        (b"\x1f\x8bnot really gzip", "corrupt gzip data"),
    ],
)
def test_malformed_input_names_file_and_record(payload: bytes, fragment: str) -> None:
    with pytest.raises(VulnDataError) as info:
        load_nvd_bytes(payload, "feeds/nvd.json")
    message = str(info.value)
    assert message.startswith("feeds/nvd.json") and fragment in message and "\n" not in message


@pytest.mark.parametrize(
    "score, band", [(0.0, "none"), (0.1, "low"), (3.9, "low"), (4.0, "medium"), (6.9, "medium"),
                    (7.0, "high"), (8.9, "high"), (9.0, "critical"), (10.0, "critical"), (None, None)]
)
def test_severity_bands(score, band) -> None:
    assert severity_for(score) == band


def test_one_cve_wrapper_file_and_rejected_record_withdrawn() -> None:
    """A `{"cve": {...}}` item saved on its own is read; a Rejected record becomes a withdrawal."""
    from timesys_ci.vulndb.sources.common import Withdrawn
    from timesys_ci.vulndb.sources.nvd import iter_nvd_document

    cve = json.loads((NVD_DIR / "CVE-2022-37434.json").read_text())
    (record,) = load_nvd_bytes(json.dumps({"cve": cve}).encode(), "wrapped.json")
    assert record.id == "CVE-2022-37434" and record.source == "nvd" and record.configurations
    assert list(iter_nvd_document({"cve": {"id": "CVE-2099-1", "vulnStatus": "Rejected"}})) == [
        Withdrawn("nvd", "CVE-2099-1")]


def test_patch_references_to_commits_are_the_fix_commits() -> None:
    zlib = _record("CVE-2022-37434")
    assert "https://github.com/madler/zlib/commit/eff308af425b67093bab25f80f1ae950166bece1" in zlib.fix_commits
    assert not any("openwall" in url for url in zlib.fix_commits)  # an advisory tagged Patch is not a fix commit
    assert _record("CVE-2022-48174").fix_commits == []

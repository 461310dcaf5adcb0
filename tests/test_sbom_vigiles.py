from __future__ import annotations

import json
from pathlib import Path

from timesys_ci.sbom import VulnerabilityStatement, load_sbom

MANIFESTS = Path(__file__).parent / "fixtures" / "vulndb" / "manifests"
EXAMPLE = Path(__file__).parents[1] / "examples" / "core-image-minimal.vigiles.json"


def _by_name(sbom):
    return {package.name: package for package in sbom.packages}


def test_yocto_example_manifest() -> None:
    sbom = load_sbom(EXAMPLE.read_text(), str(EXAMPLE))
    assert (sbom.format, sbom.manifest_name, sbom.distro, sbom.machine) == (
        "vigiles", "core-image-minimal", "scarthgap", "beaglebone-yocto")
    assert sbom.manifest_version == "1.19"
    packages = _by_name(sbom)
    assert set(packages) == {"busybox", "glibc", "linux-yocto", "ncurses", "openssl", "util-linux", "xz", "zlib"}
    glibc = packages["glibc"]
    assert (glibc.version, glibc.cve_version, glibc.match_version) == ("2.39+git", "2.39", "2.39")
    assert glibc.cpe_ids == ["cpe:2.3:*:*:glibc:2.39:*:*:*:*:*:*:*"]
    assert "CVE-2024-2961" in glibc.patched_cves
    assert packages["openssl"].cve_product == ["openssl:openssl"]
    assert packages["linux-yocto"].cve_product == ["linux_kernel"]
    assert packages["busybox"].component_type == ["component"]


def test_openwrt_manifest_cpe_string_and_unknown() -> None:
    sbom = load_sbom((MANIFESTS / "openwrt-ath79.vigiles.json").read_text())
    packages = _by_name(sbom)
    assert packages["openssl"].cpe_ids == ["cpe:/a:openssl:openssl"]
    assert packages["json-c"].cpe_ids == []  # "unknown"
    assert packages["json-c"].key == "libjson-c"
    assert packages["hostapd"].version == "2020-06-08-5a8b3662"
    assert sbom.whitelist == set()


def test_buildroot_manifest_whitelist_ignore_and_defaults() -> None:
    sbom = load_sbom((MANIFESTS / "buildroot-som60.vigiles.json").read_text())
    packages = _by_name(sbom)
    assert sbom.whitelist == {"CVE-2024-45490"}
    assert packages["systemd"].ignored_cves == ["CVE-2023-26604"]
    assert packages["libzlib"].cpe_ids == []  # "UNKNOWN"
    assert packages["libzlib"].cve_version == "1.2.11"  # defaults to version
    assert packages["libcurl"].cve_product == ["curl", "libcurl"]
    assert packages["busybox"].patched_cves == {"CVE-2018-1000500": ["0001-wget-CVE-2018-1000500.patch"]}
    assert packages["linux"].match_version == "custom"


def test_lenient_optional_fields() -> None:
    sbom = load_sbom(json.dumps({"packages": {"foo": {}, "bar": {"version": 1.2, "patched_cves": ["cve-2020-1"],
                                                               "cpe_id": None, "license": None}}}))
    packages = _by_name(sbom)
    assert packages["foo"].version == "unset" and packages["foo"].cve_product == ["foo"]
    assert packages["bar"].version == "1.2" and packages["bar"].patched_cves == {"CVE-2020-1": []}
    assert sbom.manifest_name is None and sbom.vulnerabilities == []


def test_vulnerabilities_statements() -> None:
    document = {
        "packages": {"busybox": {"version": "1.36.1"}},
        "vulnerabilities": [
            {"id": "CVE-2023-42363", "analysis": {"state": "resolved_with_pedigree", "justification": "",
                                                  "detail": "backported-patch: x"},
             "source": {"name": "Patch"}, "affects": [{"product": "busybox", "versions": []}],
             "properties": {"name": "patches", "value": "a.patch, b.patch"}},
            {"id": "cve-2022-48174", "analysis": {"state": "not_affected", "justification": "code_not_present"},
             "source": {"name": "External Whitelist"}},
        ],
    }
    sbom = load_sbom(json.dumps(document))
    assert sbom.vulnerabilities == [
        VulnerabilityStatement("CVE-2023-42363", "resolved_with_pedigree", "busybox", None, ("a.patch", "b.patch")),
        VulnerabilityStatement("CVE-2022-48174", "not_affected", None, "code_not_present", ()),
    ]

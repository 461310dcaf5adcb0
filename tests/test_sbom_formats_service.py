"""End to end: CycloneDX and SPDX documents uploaded with the client are read and scanned by the local service."""
from __future__ import annotations

import json

from timesys.vigiles import manifests

from .openssl_cna_reading import cves_affecting
from .sbom_formats_support import BUSYBOX_BOM_REF, DISTRO, VULNSCOUT_CDX, YOCTO_SPDX2, read, spdx3_walnascar


def statuses(report: dict) -> dict:
    return {(package, entry["cve_id"]): entry["status"] for package, entries in report["cves"].items() for entry in entries}


def test_cyclonedx_json_and_xml_are_scanned(configured: object) -> None:
    found = statuses(manifests.upload_manifest(read(VULNSCOUT_CDX), manifest_name="yocto-cdx"))
    assert found[("busybox", "CVE-2022-48174")] == "Unfixed"
    assert found[("linux_kernel", "CVE-2024-36971")] == "Unfixed, Upgrade Available"  # NVD: fixed in 6.6.34
    found = statuses(manifests.upload_manifest(read(DISTRO / "alpine.syft.cdx14.xml"), manifest_name="alpine"))
    assert found[("zlib", "CVE-2022-37434")] == "Unfixed, Patch Available"  # NVD names the zlib fix commit
    assert found[("busybox", "CVE-2022-48174")] == "Unfixed"


def test_cyclonedx_statements_decide_the_status(configured: object) -> None:
    bom = json.loads(read(VULNSCOUT_CDX))
    bom["vulnerabilities"] = [{"id": "CVE-2022-48174", "analysis": {"state": "resolved"}, "affects": [{"ref": BUSYBOX_BOM_REF}]}]
    report = manifests.upload_manifest(json.dumps(bom), manifest_name="yocto-cdx-vex")
    assert statuses(report)[("busybox", "CVE-2022-48174")] == "Fixed"


def test_yocto_spdx2_recipe_is_scanned_with_its_fixed_cves(configured: object) -> None:
    report = manifests.upload_manifest(read(YOCTO_SPDX2 / "recipe-busybox.spdx.json"), manifest_name="busybox")
    found = statuses(report)
    assert found[("busybox", "CVE-2022-48174")] == "Unfixed"  # not in the recipe's "CVEs fixed"
    assert found[("busybox", "CVE-2022-28391")] == "Fixed"  # listed there
    assert report["counts"]["unfixed"] == 1 and report["counts"]["fixed"] == 2


def test_spdx_tag_value_upload_is_read(configured: object) -> None:
    report = manifests.upload_manifest(read(DISTRO / "centos-7.trivy.spdx22.spdx"), manifest_name="centos")
    assert "manifest_token" in report and report["counts"]["unfixed"] == 0


def test_yocto_spdx3_vex_fixed_is_fixed(configured: object) -> None:
    report = manifests.upload_manifest(spdx3_walnascar(), manifest_name="walnascar")
    found = statuses(report)
    assert found.pop(("busybox", "CVE-2022-28391")) == "Fixed"
    # OpenSSL 3.4.2 (libcrypto3): exactly the OpenSSL CNA's CVEs for it, each with its fixed release.
    assert set(found) == {("libcrypto3", cve) for cve in cves_affecting("3.4.2")}
    assert set(found.values()) == {"Unfixed, Upgrade Available"}

"""A long-lived service does not grow with each scan (issue 10, item 0): RSS after 10 scans is within 10 % of
its RSS after the first.

`service start` runs as a process on the bundled sample data; one manifest (the som60 Buildroot image's packages
copied 150 times: 1,350 packages, ~8,000 findings) is uploaded 10 times over HTTP. Before scans ran on one scan
thread with malloc_trim and a fixed mmap threshold, each of waitress's 8 worker threads kept its own glibc arena
holding its scans' freed peak: 97 MB after scan 1, 311 MB after scan 10. This is a memory check, not a timing test.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import timesys
from timesys.core import endpoints

from .support.service_process import service_process

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "tests" / "fixtures" / "vulndb" / "manifests" / "buildroot-som60.vigiles.json"

pytestmark = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def big_manifest(copies: int) -> str:
    document = json.loads(MANIFEST.read_text())
    document["packages"] = {f"{name}-copy{index}": dict(package, name=f"{name}-copy{index}")
                            for index in range(copies) for name, package in document["packages"].items()}
    return json.dumps(document)


def test_memory_after_ten_scans_stays_near_memory_after_one(tmp_path: Path) -> None:
    text = big_manifest(150)
    after: list[float] = []
    with service_process(tmp_path, "mem@example.com") as service:
        client = timesys.LLAPI(key_file_path=service.key_file, url=service.url, timeout=(10.0, 300.0))
        for _ in range(10):
            report = endpoints.MANIFEST_UPLOAD.call(client, manifest=text, filter_results=False, upload_only=False)
            after.append(rss_mb(service.pid))
        client.close()
    findings = sum(len(entries) for entries in report["cves"].values())
    assert findings > 5000  # the scans really built big reports
    assert after[-1] <= after[0] * 1.10, f"RSS after each scan (MB): {[round(value) for value in after]}"

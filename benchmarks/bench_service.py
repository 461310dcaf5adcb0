#!/usr/bin/env python3
"""Benchmark the local Vigiles service over real HTTP on loopback.

Run from the repository root (needs the `service` extra installed):

    python3 benchmarks/bench_service.py [--heartbeats 500] [--copies 400]

It measures
1. `--heartbeats` sequential heartbeats through the `timesys` library (one keep-alive
   session, every request signed and verified), and
2. one upload + scan of the largest manifest buildable from the repository's manifests:
   every package of `examples/*.vigiles.json` and `tests/fixtures/vulndb/manifests/`,
   repeated `--copies` times with a numbered suffix on the package key (so each copy is a
   distinct package that still matches the real NVD sample records by CPE/product).
Figures go to stdout. Nothing here asserts a time: it is a measurement, not a test.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import timesys  # noqa: E402
from timesys.core import endpoints  # noqa: E402
from timesys_ci.service.datadir import create_user  # noqa: E402
from timesys_ci.service.server import running_service  # noqa: E402


def largest_manifest(copies: int) -> str:
    sources = sorted((ROOT / "examples").glob("*.vigiles.json")) + sorted(
        (ROOT / "tests" / "fixtures" / "vulndb" / "manifests").glob("*.vigiles.json"))
    base = {}
    for path in sources:
        base.update(json.loads(path.read_text())["packages"])
    packages = {f"{key}-{n}": dict(package, name=f"{package.get('name', key)}-{n}") for n in range(copies)
                for key, package in base.items()}
    return json.dumps({"manifest_version": "1.19", "manifest_name": "benchmark", "distro": "scarthgap",
                       "packages": packages}, indent=2, sort_keys=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heartbeats", type=int, default=500)
    parser.add_argument("--copies", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_service(Path(tmp) / "data") as service:
        client = timesys.LLAPI(key_file_path=create_user(service.storage, "bench@example.com", Path(tmp) / "key",
                                                         service.url))
        timings = []
        started = time.perf_counter()
        for _ in range(args.heartbeats):
            before = time.perf_counter()
            endpoints.HEARTBEAT.call(client)
            timings.append(time.perf_counter() - before)
        total = time.perf_counter() - started
        timings.sort()
        print(f"heartbeats: {args.heartbeats} in {total:.3f} s ({args.heartbeats / total:.0f}/s); "
              f"mean {statistics.mean(timings) * 1000:.2f} ms, p50 {timings[len(timings) // 2] * 1000:.2f} ms, "
              f"p95 {timings[int(len(timings) * 0.95)] * 1000:.2f} ms")

        manifest = largest_manifest(args.copies)
        packages = len(json.loads(manifest)["packages"])
        started = time.perf_counter()
        result = endpoints.MANIFEST_UPLOAD.call(client, manifest=manifest, filter_results=False, upload_only=False)
        elapsed = time.perf_counter() - started
        findings = sum(len(entries) for entries in result["cves"].values())
        print(f"upload + scan: {packages} packages ({len(manifest) / 1e6:.1f} MB) in {elapsed:.3f} s; "
              f"{findings} findings, counts unfixed={result['counts']['unfixed']} fixed={result['counts']['fixed']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

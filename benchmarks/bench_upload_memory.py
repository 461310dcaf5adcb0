#!/usr/bin/env python3
"""Client memory while uploading a big manifest to the local service (issue 10, item 3).

Run from the repository root (needs the `service` extra installed):

    python3 benchmarks/bench_upload_memory.py [--size-mb 50] [--scan]

It writes a Vigiles manifest of ``--size-mb`` MiB (Yocto flavour, thousands of packages with long
patch lists and non-ASCII text, so the form encoding has plenty to escape; ``--kinds``: Latin-1 only,
and with characters beyond U+00FF, which Python stores at two bytes each), starts
``timesys-ci service start --max-body ...`` as a subprocess, and uploads the manifest with
``timesys.vigiles.manifests.upload_manifest`` (``upload_only`` unless ``--scan``) from two fresh child
processes, each reading the manifest from disk after its imports:

* ``rss``: the child's peak RSS (VmHWM) minus its RSS before it read the manifest -- everything the
  upload cost, the manifest text itself included;
* ``tracemalloc``: the peak of Python allocations traced from just before reading the manifest.

Both are printed as MiB and as a multiple of the manifest's size; the goal is at most 4x.
Nothing here asserts anything: it is a measurement, not a test.

Figures measured on this machine (2 cores, shared), 2026-12-01, Python 3.11, 50.2 MiB manifests, upload_only,
``python3 benchmarks/bench_upload_memory.py`` (before: the same script run on the parent commit):

    manifest  measure        before (urlencode, kept hmac_msg, str+bytes copies)   after (streamed body, incremental HMAC)
    latin1    RSS peak       615.8 MiB = 12.3x   upload 16.1 s                     100.3 MiB = 2.0x   upload 8.6 s
    latin1    tracemalloc    656.4 MiB = 13.1x                                     150.5 MiB = 3.0x (upload alone 50.6 MiB)
    wide      RSS peak       666.1 MiB = 13.3x   upload 21.8 s                     150.4 MiB = 3.0x   upload 10.5 s
    wide      tracemalloc    706.6 MiB = 14.1x                                     200.7 MiB = 4.0x (upload alone 100.8 MiB)

The tracemalloc peak after the change is the script's own ``read_text`` (bytes + decoded str); the
upload itself adds half a MiB to the text it was given, which Python holds at 1 (latin1) or 2 (wide)
bytes per character.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024


SUMMARIES = {
    # Latin-1 text: Python keeps the str at one byte per character.
    "latin1": "Bibliothèque « utilitaire » : façade für Übersetzungen, 100% +x&y=z",
    # One character beyond U+00FF makes Python store the whole str at two bytes per character.
    "wide": "Bibliothèque « utilitaire » — façade für Übersetzungen, 日本語 100% +x&y=z",
}


def build_manifest(size: int, kind: str = "wide", seed: int = 3) -> str:
    rng = random.Random(seed)
    packages: Dict[str, Any] = {}
    text_size = 0
    n = 0
    while text_size < size * 0.925:  # the estimate leaves out the nesting's indentation
        n += 1
        key = f"pkg{n:05d}-{rng.choice(('core', 'utils', 'libs', 'tools'))}"
        version = f"{rng.randint(0, 9)}.{rng.randint(0, 40)}.{rng.randint(0, 9)}"
        package = {
            "checksums": [{"algorithm": "SHA256", "checksum_value": f"{rng.getrandbits(256):064x}"}],
            "component_type": ["component"], "cpe_id": [f"cpe:2.3:*:*:{key}:{version}:*:*:*:*:*:*:*"],
            "cve_product": key, "cve_version": version, "license": "GPL-2.0-only & MIT", "name": key,
            "package_supplier": "Organization: OpenEmbedded ()", "version": version,
            "summary": SUMMARIES[kind],
            "patches": [f"0{i:03d}-fix-{rng.getrandbits(40):010x} (backport #{i}).patch" for i in range(300)],
            "recipe": f"recipes-core/{key}/{key}_{version}.bb", "homepage": f"https://example.org/{key}?a=1&b=2",
        }
        encoded = len(json.dumps(package, indent=2, ensure_ascii=False).encode())
        packages[key] = package
        text_size += encoded + len(key) + 8
    return json.dumps({"manifest_version": "1.19", "manifest_name": "big-upload", "distro": "scarthgap",
                       "date": "2026-03-01T12:00:00+00:00", "image": "core-image-big", "machine": "qemux86-64",
                       "packages": packages}, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _env() -> Dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + os.environ["PYTHONPATH"]
                                                     if os.environ.get("PYTHONPATH") else "")}


def _vm(name: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(name)


def child(mode: str, key: str, url: str, path: str, scan: bool) -> None:
    """Runs in a fresh interpreter: import, note the baseline, read the manifest, upload, report."""
    import timesys
    from timesys.vigiles import manifests

    timesys.llapi.configure(key_file_path=key, url=url, timeout=(10.0, 3600.0))
    import tracemalloc

    if mode == "tracemalloc":
        tracemalloc.start()
    baseline = _vm("VmRSS")
    text = Path(path).read_text(encoding="utf-8")
    size = Path(path).stat().st_size
    out: Dict[str, Any] = {"mode": mode, "bytes": size, "str_bytes": sys.getsizeof(text)}
    if mode == "tracemalloc":
        out["read_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
    started = time.perf_counter()
    result = manifests.upload_manifest(text, upload_only=not scan)
    out["seconds"] = round(time.perf_counter() - started, 2)
    out["token"] = bool(result.get("manifest_token"))
    if mode == "tracemalloc":
        out["upload_peak"] = tracemalloc.get_traced_memory()[1]
        out["peak"] = max(out["read_peak"], out["upload_peak"])
    else:
        out["peak"] = _vm("VmHWM") - baseline
    print(json.dumps(out))


def measure(kind: str, size_mb: float, scan: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        manifest = tmp / "big.vigiles.json"
        manifest.write_text(build_manifest(int(size_mb * MIB), kind), encoding="utf-8")
        size = manifest.stat().st_size
        cli = [sys.executable, "-m", "timesys_ci", "service"]
        subprocess.run([*cli, "add-user", "big@example.com", "--data", str(tmp / "data"), "--key-file",
                        str(tmp / "key")], check=True, capture_output=True, env=_env())
        server = subprocess.Popen([*cli, "start", "--data", str(tmp / "data"), "--port", "0", "--print-url",
                                   "--max-body", str(size * 4)], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, env=_env())
        try:
            assert server.stdout is not None
            ready, _, _ = select.select([server.stdout], [], [], 120)
            url = server.stdout.readline().decode().strip() if ready else ""
            if not url.startswith("http"):
                raise SystemExit("the service did not start")
            print(f"{kind} manifest: {size / MIB:.1f} MiB; service at {url}")
            for mode in ("rss", "tracemalloc"):
                run = subprocess.run([sys.executable, __file__, "--child", mode, str(tmp / "key"), url, str(manifest)]
                                     + (["--scan"] if scan else []), capture_output=True, text=True, env=_env())
                if run.returncode != 0:
                    raise SystemExit(f"{mode} child failed:\n{run.stderr[-3000:]}")
                result = json.loads(run.stdout.strip().splitlines()[-1])
                detail = ""
                if mode == "tracemalloc":
                    detail = (f" (reading the file {result['read_peak'] / MIB:.1f} MiB, then the upload itself "
                              f"{result['upload_peak'] / MIB:.1f} MiB; the text is a {result['str_bytes'] / MIB:.1f} "
                              f"MiB str)")
                print(f"{mode:>13}: peak {result['peak'] / MIB:7.1f} MiB = {result['peak'] / result['bytes']:.1f}x "
                      f"the manifest; upload {result['seconds']:.2f} s{detail}", flush=True)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=50, help="manifest size in MiB (default 50)")
    parser.add_argument("--scan", action="store_true", help="upload and scan (default: upload_only)")
    parser.add_argument("--kinds", default="latin1,wide",
                        help="manifests to try: latin1 (one byte per character in Python), wide (two)")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "KEY", "URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, scan=args.scan)
        return 0
    for kind in [item.strip() for item in args.kinds.split(",") if item.strip()]:
        measure(kind, args.size_mb, args.scan)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

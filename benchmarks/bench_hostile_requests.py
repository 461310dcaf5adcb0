#!/usr/bin/env python3
"""Cost of the hostile requests of issue 11 against a real `service start` subprocess.

Run from the repository root (needs the service extra):

    python3 benchmarks/bench_hostile_requests.py [--only unsigned,badsig,xml-bomb,cpe]

Each attack is sent over loopback to a fresh service; the script prints the
answer's status, the wall time until the answer and the growth of the service
process's resident memory (sampled every 10 ms from /proc) while it handled it:

- ``unsigned``: a 63 MB form body (`%41` repeated, plus one stray `%`) without
  an X-Auth-Signature header;
- ``badsig``: the same body from a known email with a wrong signature;
- ``xml-bomb``: a 10.5 MB CycloneDX XML whose internal entity expands ~98x
  (just under expat's 100x amplification limit), signed by a known user;
- ``cpe``: a CycloneDX JSON whose one component has a 2 MB CPE naming busybox
  (a product with records in the bundled data), signed, so it is matched.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timesys.core import signing  # noqa: E402

RESOURCE = "/api/v1/vigiles/manifests"


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _measure(pid: int, send: Callable[[], requests.Response]) -> tuple[int, float, float]:
    """(status, seconds, peak RSS growth in MiB) of one request."""
    base = _rss_kib(pid)
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            try:
                peak[0] = max(peak[0], _rss_kib(pid))
            except OSError:
                return
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    try:
        status = send().status_code
    finally:
        elapsed = time.monotonic() - started
        done.set()
        sampler.join()
    return status, elapsed, (peak[0] - base) / 1024


def _xml_bomb() -> str:
    value = "A" * 290  # each 3-byte reference gives 290 bytes: ratio ~97.7, under expat's 100x
    references = "&a;" * 3_500_000
    return ('<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY a "' + value + '">]>\n'
            '<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1"><components>'
            f'<component type="library"><name>{references}</name><version>1</version></component>'
            '</components></bom>\n')


def _cpe_bom() -> str:
    cpe = "cpe:2.3:a:busybox:busybox:1.36.1:" + "x:" * 1_000_000
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                       "components": [{"type": "library", "name": "busybox", "version": "1.36.1", "cpe": cpe}]})


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="unsigned,badsig,xml-bomb,cpe")
    args = parser.parse_args(argv)
    wanted = args.only.split(",")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        data, key_file = Path(tmp) / "data", Path(tmp) / "key.json"
        subprocess.run([sys.executable, "-m", "timesys_ci", "service", "add-user", "bench@example.com", "--data",
                        str(data), "--key-file", str(key_file)], check=True, env=env, capture_output=True)
        credentials = json.loads(key_file.read_text())
        key, email = credentials["organization_key"].encode(), credentials["email"]

        def signed(manifest: str) -> Callable[[], requests.Response]:
            params = {"manifest": manifest, "filter_results": "False", "upload_only": "False", "email": email}
            signature, _ = signing.sign(key, "POST", RESOURCE, params)
            return lambda: requests.post(url + RESOURCE, data=params, timeout=600,
                                         headers={signing.SIGNATURE_HEADER: signature.decode()})

        big = b"email=" + email.replace("@", "%40").encode() + b"&manifest=" + b"%41" * 21_000_000 + b"%"
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        attacks: dict[str, Callable[[], Any]] = {
            "unsigned": lambda: requests.post(url + RESOURCE, data=big, headers=form, timeout=600),
            "badsig": lambda: requests.post(url + RESOURCE, data=big, timeout=600,
                                            headers={**form, signing.SIGNATURE_HEADER: "A" * 43 + "="}),
            "xml-bomb": signed(_xml_bomb()),
            "cpe": signed(_cpe_bom()),
        }
        for name in wanted:
            process = subprocess.Popen([sys.executable, "-m", "timesys_ci", "service", "start", "--data", str(data),
                                        "--port", "0", "--print-url"], stdout=subprocess.PIPE,
                                       stderr=subprocess.DEVNULL, env=env, text=True)
            try:
                url = process.stdout.readline().strip()  # type: ignore[union-attr]
                status, seconds, growth = _measure(process.pid, attacks[name])
                print(f"{name:9} status {status}  {seconds:7.2f} s  service RSS +{growth:7.1f} MiB", flush=True)
            finally:
                process.kill()
                process.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

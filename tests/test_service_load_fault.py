"""Load and fault: bounded concurrent mixed clients, then kill -9 of `service start` during uploads.

After a restart on the same data dir the database must pass `PRAGMA
integrity_check`, every upload the service acknowledged must be there with
its report, and no SBOM may be left half-stored: the only manifests without
a report are `upload_only` ones.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from timesys.core import signing

from .cli_helpers import run_cli
from .support.hostile import HEARTBEAT, heartbeat, signed_call, upload

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
WORKERS = 6
MAX_OPERATIONS = 40  # per worker: the load is bounded in count as well as in time
KILL_AFTER = 8  # acknowledged uploads before the kill


def _manifest(packages: int) -> str:
    """A manifest big enough that its scan takes a while (so the kill lands mid-scan)."""
    example = json.loads((ROOT / "examples" / "core-image-minimal.vigiles.json").read_text())
    base = list(example["packages"].values())
    return json.dumps({**example, "packages": {f"{p['name']}-{n}": {**p, "name": f"{p['name']}-{n}"}
                                               for n in range(packages // len(base)) for p in base}})


@contextmanager
def _service(data: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    process = subprocess.Popen([sys.executable, "-m", "timesys_ci", "service", "start", "--data", str(data),
                                "--port", "0", "--print-url"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               env=ENV, text=True)
    try:
        yield process.stdout.readline().strip(), process  # type: ignore[union-attr]
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def test_kill_during_concurrent_uploads_loses_nothing_acknowledged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    keys = []
    for index in range(3):
        key = tmp_path / f"key{index}.json"
        added = run_cli("service", "add-user", f"u{index}@example.com", "--data", str(data), "--key-file", str(key),
                        "--url", "http://127.0.0.1:1", home=tmp_path)
        assert added.returncode == 0, added.stderr
        keys.append(key)
    small, big = _manifest(8), _manifest(400)
    acknowledged: list[tuple[str, bool]] = []  # (manifest token, upload_only)
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    killed = threading.Event()

    with _service(data) as (url, process):
        def worker(number: int) -> None:
            key = keys[number % len(keys)]
            for step in range(MAX_OPERATIONS):
                if stop.is_set():
                    return
                try:
                    kind = (number + step) % 5
                    if kind in (0, 1):  # uploads, some upload_only; names say which
                        upload_only = kind == 1
                        name = f"{'uo' if upload_only else 'scan'}-{number}-{step}"
                        response = upload(url, key, big if step % 2 else small, manifest_name=name,
                                          upload_only=str(upload_only), timeout=60)
                        assert response.status_code == 200, response.text[:200]
                        with lock:
                            acknowledged.append((response.json()["manifest_token"], upload_only))
                    elif kind == 2:
                        assert signed_call(url, key, "GET", "/api/v1/vigiles/manifests", {}).status_code == 200
                    elif kind == 3:  # a bad signature, with a body
                        response = requests.post(url + HEARTBEAT, data={"email": "u0@example.com", "x": "y" * 50_000},
                                                 headers={signing.SIGNATURE_HEADER: "C" * 43 + "="}, timeout=30)
                        assert response.status_code == 401
                    else:
                        assert heartbeat(url, key) == 200
                except (requests.RequestException, http.client.HTTPException, OSError) as exc:
                    # After the kill a request may fail any way a cut connection can fail (refused, reset,
                    # a truncated body: ChunkedEncodingError/IncompleteRead); before it, that is a failure.
                    if not killed.is_set():
                        failures.append(f"{type(exc).__name__} before the kill: {exc}")
                    return
                except AssertionError as exc:
                    failures.append(str(exc))
                    return

        threads = [threading.Thread(target=worker, args=(number,)) for number in range(WORKERS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 120
        while len(acknowledged) < KILL_AFTER and time.monotonic() < deadline and any(t.is_alive() for t in threads):
            time.sleep(0.05)
        time.sleep(0.3)  # let new uploads get into their scans
        killed.set()
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        stop.set()
        for thread in threads:
            thread.join(90)
    assert failures == []
    assert len(acknowledged) >= KILL_AFTER

    with _service(data) as (url, _):
        with sqlite3.connect(data / "vigiles.sqlite3", timeout=30) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            rows = connection.execute("SELECT m.token, m.name, COUNT(r.token) FROM manifests m"
                                      " LEFT JOIN reports r ON r.manifest_token = m.token GROUP BY m.token").fetchall()
        connection.close()
        stored = {token: (name, reports) for token, name, reports in rows}
        for token, upload_only in acknowledged:
            assert token in stored, f"acknowledged upload {token} is missing"
            assert stored[token][1] == (0 if upload_only else 1), (token, stored[token])
        half_done = [name for name, reports in stored.values() if reports == 0 and not name.startswith("uo-")]
        assert half_done == [], f"manifests stored without their report: {half_done}"
        # The restarted service serves the stored data.
        token, upload_only = next(item for item in acknowledged if not item[1])
        response = signed_call(url, keys[0], "GET", f"/api/v1/vigiles/manifests/{token}/reports/latest", {})
        assert response.status_code in (200, 404)  # 404 when the token belongs to another user
        assert heartbeat(url, keys[0]) == 200

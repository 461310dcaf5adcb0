"""A real `timesys-ci service start` process with one user, for tests that measure the process itself (CPU, RSS)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@dataclass
class ServiceProcess:
    process: subprocess.Popen
    url: str
    key_file: Path

    @property
    def pid(self) -> int:
        return self.process.pid


@contextmanager
def service_process(tmp_path: Path, email: str) -> Iterator[ServiceProcess]:
    """Add `email` as a user of a fresh data dir, start the service on a free port, SIGTERM it afterwards."""
    data, key = tmp_path / "data", tmp_path / "key"
    subprocess.run([sys.executable, "-m", "timesys_ci", "service", "add-user", email, "--data", str(data),
                    "--key-file", str(key)], check=True, capture_output=True, env=ENV, timeout=120)
    process = subprocess.Popen([sys.executable, "-m", "timesys_ci", "service", "start", "--data", str(data), "--port",
                                "0", "--print-url"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=ENV)
    try:
        url = process.stdout.readline().strip()  # type: ignore[union-attr]
        yield ServiceProcess(process, url, key)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

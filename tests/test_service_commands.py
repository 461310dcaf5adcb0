"""`python -m timesys_ci service ...` as subprocesses: start/stop, add-user, import-vulns."""
from __future__ import annotations

import gzip
import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path


import timesys
from timesys.core import endpoints

ROOT = Path(__file__).resolve().parents[1]
NVD = ROOT / "tests" / "fixtures" / "vulndb" / "nvd"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, "-m", "timesys_ci", *args], capture_output=True, text=True, env=ENV,
                            timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(result.stderr)
    return result


def test_help_for_every_service_command() -> None:
    for words in (["service"], ["service", "start"], ["service", "add-user"], ["service", "import-vulns"]):
        assert run(*words, "--help").stdout.startswith("usage:")


def test_add_user_writes_a_private_groups_key_file(tmp_path: Path) -> None:
    key = tmp_path / "keys" / "linuxlink_key"
    out = run("service", "add-user", "dev@example.com", "--data", str(tmp_path / "d"), "--key-file", str(key),
              "--url", "http://127.0.0.1:8123/")
    content = json.loads(key.read_text())
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert content["server_url"] == "http://127.0.0.1:8123" and content["email"] == "dev@example.com"
    assert content["organization_key"] not in out.stdout + out.stderr
    again = run("service", "add-user", "dev@example.com", "--data", str(tmp_path / "d"), "--key-file",
                str(tmp_path / "k2"), check=False)
    assert again.returncode == 2 and again.stderr.strip() == (
        f"timesys-ci: error: user dev@example.com already exists in {tmp_path / 'd'}")


def test_import_vulns_formats(tmp_path: Path) -> None:
    data = tmp_path / "d"
    record = json.loads((NVD / "CVE-2022-0778.json").read_text())
    record["id"] = "CVE-2099-0001"  # a record the bundled sample does not have
    single = tmp_path / "single.json"
    single.write_text(json.dumps(record))
    page = tmp_path / "page.json.gz"
    second = dict(record, id="CVE-2099-0002")
    page.write_bytes(gzip.compress(json.dumps({"resultsPerPage": 1, "startIndex": 0, "totalResults": 1,
                                               "format": "NVD_CVE", "version": "2.0",
                                               "vulnerabilities": [{"cve": second}]}).encode()))
    feed = tmp_path / "nvdcve-2.0-2099.json"
    feed.write_text(json.dumps({"format": "NVD_CVE", "version": "2.0",
                                "vulnerabilities": [{"cve": dict(record, id="CVE-2099-0003")}]}))
    out = run("service", "import-vulns", "--data", str(data), str(single), str(page), str(feed))
    assert f"{single}: 1 CVE records" in out.stdout and "33 CVE records in total" in out.stdout
    bad = tmp_path / "bad.json"
    bad.write_text("{ nope")
    failed = run("service", "import-vulns", "--data", str(data), str(bad), check=False)
    assert failed.returncode == 2 and str(bad) in failed.stderr and "Traceback" not in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1


def test_start_refuses_remote_host_without_flag(tmp_path: Path) -> None:
    result = run("service", "start", "--data", str(tmp_path / "d"), "--host", "0.0.0.0", check=False)
    assert result.returncode == 2 and "--allow-remote" in result.stderr


def test_start_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    data, key = tmp_path / "d", tmp_path / "key"
    run("service", "add-user", "dev@example.com", "--data", str(data), "--key-file", str(key))
    process = subprocess.Popen([sys.executable, "-m", "timesys_ci", "service", "start", "--data", str(data), "--port",
                                "0", "--print-url"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        url = process.stdout.readline().strip()  # type: ignore[union-attr]
        client = timesys.LLAPI(key_file_path=key, url=url)
        assert endpoints.HEARTBEAT.call(client) == {"ok": True}
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
    log = process.stderr.read()  # type: ignore[union-attr]
    assert "POST /api/v1/vigiles/heartbeat 200" in log and "stopped" in log

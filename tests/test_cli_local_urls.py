"""Issue 12 item 5: `--local` writes report URLs that work, and the service commands say what they do.

`upload --local` records its port in the data dir; `service start --data DIR` reopens on it, so the
URL printed and written into every output serves the report later; `service add-user` writes the
URL of the service running on the data dir. Subprocesses throughout, with exact messages.
"""
from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from timesys_ci.service import address

from .cli_helpers import REPO_ROOT, clean_env, run_cli

EXAMPLE = REPO_ROOT / "examples" / "core-image-minimal.vigiles.json"
E = "timesys-ci: error: "
SECRET = "no-user-key-is-printed"  # run_cli checks that this never appears; the local key is checked below


def _wait_until_serving(data_dir: Path, process: subprocess.Popen, timeout: float = 60) -> address.Address:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        running = address.running(data_dir)
        if running is not None:
            return running
        time.sleep(0.1)
    raise AssertionError("the service did not start")


def test_local_report_url_works_once_the_data_dir_is_served(tmp_path: Path) -> None:
    data = tmp_path / "cache" / "local-service"
    env = {"TIMESYS_CI_CACHE": str(tmp_path / "cache")}
    run = run_cli("upload", "--local", str(EXAMPLE), "--json", str(tmp_path / "r.json"), "--markdown",
                  str(tmp_path / "r.md"), home=tmp_path, env=env, secret=SECRET)
    assert run.returncode == 1, run.stderr
    port = json.loads((data / "service.json").read_text())["port"]
    url = json.loads((tmp_path / "r.json").read_text())["report"]["report_url"]
    assert url.startswith(f"http://127.0.0.1:{port}/cves/reports/R") and f"Report: {url}" in run.stdout
    command = shlex.join([sys.executable, "-m", "timesys_ci", "service", "start", "--data", str(data)])
    note = (f"note: the local service stopped with this run: the report URL works once it runs again on "
            f"http://127.0.0.1:{port}: {command}")
    assert note in run.stdout.splitlines()
    assert note[len("note: "):] in (tmp_path / "r.md").read_text()

    # The printed command, as printed: it listens on the recorded port and serves the report.
    process = subprocess.Popen(shlex.split(command), env=clean_env(tmp_path), cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        serving = _wait_until_serving(data, process)
        assert serving.url == f"http://127.0.0.1:{port}" and serving.pid == process.pid
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert answer.status == 200 and b"core-image-minimal" in answer.read()
        again = run_cli("service", "start", "--data", str(data), home=tmp_path)
        assert (again.returncode, again.error_line) == (
            2, E + f"--data {data}: a service (pid {process.pid}) already serves it at http://127.0.0.1:{port}")
        added = run_cli("service", "add-user", "dev@example.com", "--data", str(data), "--key-file",
                        str(tmp_path / "dev.key"), home=tmp_path)
        assert added.stdout == (f"created dev@example.com; key file written to {tmp_path / 'dev.key'} (server_url "
                                f"http://127.0.0.1:{port} (the service running on that data dir))\n")
        assert json.loads((tmp_path / "dev.key").read_text())["server_url"] == f"http://127.0.0.1:{port}"
        # A run while it serves the data dir points at it.
        second = run_cli("upload", "--local", str(EXAMPLE), home=tmp_path, env=env, secret=SECRET)
        assert (f"note: the report is served by the service running on {data} (pid {process.pid})"
                in second.stdout.splitlines())
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "pid" not in json.loads((data / "service.json").read_text())  # stopped: the port stays recorded
    local_key = json.loads((data / "linuxlink_key").read_text())["organization_key"]
    assert local_key not in run.stdout + run.stderr


def test_add_user_without_a_running_service_and_bad_data_and_port(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run = run_cli("service", "add-user", "a@example.com", "--data", str(data), "--key-file", str(tmp_path / "a.key"),
                  home=tmp_path)
    assert run.stdout == (f"created a@example.com; key file written to {tmp_path / 'a.key'} (server_url "
                          f"http://127.0.0.1:8000 (where `service start --data {data}` listens))\n")
    explicit = run_cli("service", "add-user", "b@example.com", "--data", str(data), "--key-file",
                       str(tmp_path / "b.key"), "--url", "http://127.0.0.1:9999/", home=tmp_path)
    assert explicit.stdout.endswith("(server_url http://127.0.0.1:9999)\n")
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    for argv, message in (
            (["service", "start", "--data", str(not_a_dir)], f"--data {not_a_dir}: exists and is not a directory"),
            (["service", "add-user", "c@example.com", "--data", str(not_a_dir), "--key-file", "k"],
             f"--data {not_a_dir}: exists and is not a directory"),
            (["service", "start", "--data", str(data), "--port", "99999"],
             "service start: argument --port: '99999' is not a port number (0 to 65535; 0: any free port)"),
            (["upload", "--local", "--local-data", str(not_a_dir), str(EXAMPLE)],
             f"--local-data {not_a_dir}: exists and is not a directory")):
        bad = run_cli(*argv, home=tmp_path)
        assert (bad.returncode, bad.error_line, bad.stdout) == (2, E + message, ""), argv

"""Bad input never gets a 500; parallel requests lose nothing; the database survives a kill."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

import timesys
from timesys.core import endpoints

from .cli_helpers import run_cli
from .conftest import LocalVigiles
from .support.hostile import signed_post

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "examples" / "core-image-minimal.vigiles.json").read_text()


@pytest.mark.parametrize("body, status, message", [
    (b"email=u%40example.com&manifest=%7Bnot+json", 412, "invalid JSON at line 1 column 2"),
    (b"email=u%40example.com&manifest=%7B%22distro%22%3A+%22x%22%7D", 412, "packages"),
    (b"email=u%40example.com&manifest=%7B%22packages%22%3A+%5B%5D%7D", 412, "packages"),
    (b"email=u%40example.com&manifest=", 400, "'manifest' is required"),
    (b"email=u%40example.com&manifest=%7B%7D", 412, "unrecognised SBOM"),
    (b"email=u%40example.com&manifest=%7B%7D&upload_only=maybe", 400, "must be True or False"),  # before the parse
    (b"email=u%40example.com&manifest=%FF%FE", 400, "malformed form body"),
    (b"email=u%40example.com&manifest=x&export_format=docx", 400, "'export_format' must be one of"),
])
def test_bad_uploads_get_a_4xx_json(local_vigiles: LocalVigiles, body: bytes, status: int, message: str) -> None:
    key_file = local_vigiles.add_user("u@example.com")
    response = signed_post(local_vigiles.url, key_file, "/api/v1/vigiles/manifests", body)
    assert response.status_code == status, response.text
    assert message in response.json()["message"]
    assert requests.get(local_vigiles.url + "/", timeout=10).status_code == 200  # still serving


def test_wrong_content_type_and_methods(local_vigiles: LocalVigiles) -> None:
    key_file = local_vigiles.add_user("u@example.com")
    response = signed_post(local_vigiles.url, key_file, "/api/v1/vigiles/manifests", b'{"manifest": "{}"}',
                           "application/json")
    assert response.status_code == 415 and "x-www-form-urlencoded" in response.json()["message"]
    assert requests.put(local_vigiles.url + "/api/v1/vigiles/heartbeat", timeout=10).status_code == 405
    assert requests.get(local_vigiles.url + "/api/v1/vigiles/nothing", timeout=10).json()["status_code"] == 404


def test_missing_parameters_and_unknown_tokens(local_vigiles: LocalVigiles) -> None:
    client = local_vigiles.client()
    cases = [
        (lambda: client.POST("/api/v1/vigiles/groups", {}), timesys.BadRequestError, "'group_name' is required"),
        (lambda: client.GET("/api/v1/vigiles/cves", {}), timesys.BadRequestError, "'product' is required"),
        (lambda: client.GET("/api/v1/vigiles/manifests/MNOPE"), timesys.NotFoundError, "'MNOPE' not found"),
        (lambda: client.GET("/api/v1/vigiles/reports/RNOPE", {"format": "csv"}), timesys.NotFoundError, "not found"),
        (lambda: client.GET("/api/v1/vigiles/cves/CVE-1999-0001"), timesys.NotFoundError, "not found"),
        (lambda: client.GET("/api/v1/vigiles/groups", {"include_private_workspaces": "perhaps"}),
         timesys.BadRequestError, "must be True or False"),
        (lambda: client.PATCH("/api/v1/vigiles/groups/GNOPE/settings", {"vuln_strict_match": "on"}),
         timesys.NotFoundError, "not found"),
        (lambda: client.GET("/api/v1/vigiles/manifests", {"group_token": ["a", "b"]}), timesys.BadRequestError,
         "given 2 times"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()


def test_oversized_body_is_refused_with_the_limit(tmp_path: Path) -> None:
    from timesys_ci.service.datadir import create_user
    from timesys_ci.service.server import running_service

    with running_service(tmp_path / "data", max_body=10_000, seed=False) as service:
        client = timesys.LLAPI(key_file_path=create_user(service.storage, "u@example.com", tmp_path / "k", service.url))
        with pytest.raises(timesys.BadRequestError, match="limit of 10000 bytes") as info:
            endpoints.MANIFEST_UPLOAD.call(client, manifest="x" * 20_000, filter_results=False, upload_only=True)
        assert info.value.status == 413
        assert endpoints.HEARTBEAT.call(client) == {"ok": True}


def test_stop_when_a_worker_wakes_the_loop_first(tmp_path: Path) -> None:
    """The race behind a flaky "Bad file descriptor" in stop(): another thread's pull of the trigger wakes
    the loop, which runs the shut-down before stop()'s own pull writes to the trigger's pipe."""
    import socket

    from timesys_ci.service.server import running_service

    with running_service(tmp_path / "data", seed=False) as service:
        trigger = service.server.trigger
        real_pull = trigger._physical_pull
        host, port = service.server.effective_host, service.server.effective_port

        def pulled_by_a_worker_first() -> None:
            real_pull()  # a worker finishing a response pulls it at the same moment...
            service._thread.join(10)  # ...the loop runs the shut-down and returns...
            assert not service._thread.is_alive()
            real_pull()  # ...then stop()'s own write lands: the pipe must still be open

        trigger._physical_pull = pulled_by_a_worker_first  # type: ignore[method-assign]
    assert trigger._closed and trigger._fds == []  # closed once nothing can pull it any more
    with pytest.raises(OSError):
        socket.create_connection((host, port), timeout=5).close()


def test_parallel_uploads_lose_nothing(local_vigiles: LocalVigiles) -> None:
    clients = [local_vigiles.client() for _ in range(4)]
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(client: timesys.LLAPI) -> None:
        try:
            for _ in range(5):
                upload = endpoints.MANIFEST_UPLOAD.call(client, manifest=EXAMPLE, filter_results=False,
                                                        upload_only=False)
                with lock:
                    results.append(upload["manifest_token"])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(results)) == 20
    stored = sum(len(endpoints.MANIFESTS_LIST.call(client)) for client in clients)
    assert stored == 20
    assert all(len(endpoints.MANIFEST_REPORTS.call(client, manifest_token=token)["reports"]) == 1
               for client in clients for token in [m["manifest_token"] for m in endpoints.MANIFESTS_LIST.call(client)])


def test_killed_service_loses_nothing(tmp_path: Path) -> None:
    """SIGKILL between requests: everything answered before the kill is in the database afterwards."""
    data = tmp_path / "data"
    key = tmp_path / "key.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    added = run_cli("service", "add-user", "k@example.com", "--data", str(data), "--key-file", str(key),
                    "--url", "http://127.0.0.1:1", home=tmp_path)
    assert added.returncode == 0, added.stderr
    process = subprocess.Popen([sys.executable, "-m", "timesys_ci", "service", "start", "--data", str(data),
                                "--port", "0", "--print-url"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env, text=True)
    try:
        url = process.stdout.readline().strip()  # type: ignore[union-attr]
        client = timesys.LLAPI(key_file_path=key, url=url)
        tokens = [endpoints.MANIFEST_UPLOAD.call(client, manifest=EXAMPLE, filter_results=False,
                                                 upload_only=False)["manifest_token"] for _ in range(3)]
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    from timesys_ci.service.storage import Storage

    storage = Storage(data)
    assert [storage.manifest(token)["token"] for token in tokens] == tokens
    assert all(storage.latest_report(token) is not None for token in tokens)
    assert storage.db.connection().execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    import sqlite3

    from timesys_ci.service.storage import SchemaError, Storage

    Storage(tmp_path).close()
    with sqlite3.connect(tmp_path / "vigiles.sqlite3") as connection:
        connection.execute("PRAGMA user_version = 99")
    with pytest.raises(SchemaError, match="newer than this program"):
        Storage(tmp_path)

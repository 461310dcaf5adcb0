"""Retries, timeouts and error mapping against real HTTP servers on loopback."""
from __future__ import annotations

import base64
import gzip
import shutil
import socket
import subprocess
import ssl
from pathlib import Path
from typing import Any

import pytest

import timesys
from timesys.core.llapi import LLAPI
from timesys.core.transport import RetryPolicy, parse_retry_after
from timesys.utilities import heartbeat
from timesys.vigiles import cves, manifests, reports

from .conftest import DEMO_EMAIL, DEMO_KEY
from .support.scripted_server import Answer, ScriptedServer


@pytest.fixture
def client(fresh_llapi: LLAPI, write_key_file: Any) -> LLAPI:
    path = write_key_file({"email": DEMO_EMAIL, "organization_key": DEMO_KEY})
    fresh_llapi.configure(key_file_path=path, timeout=(2, 2))
    fresh_llapi._transport.retry = RetryPolicy(max_attempts=3, backoff_factor=0.01, backoff_max=0.05)
    return fresh_llapi


def test_retry_on_503_then_success(client: LLAPI, caplog: pytest.LogCaptureFixture,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    with ScriptedServer(Answer(status=503, body={"message": "busy"}), Answer()) as server:
        client.configure(url=server.url)
        with caplog.at_level("WARNING", logger="timesys"):
            assert heartbeat() == {"ok": True}
    assert len(server.requests) == 2
    assert server.requests[0].headers["X-Auth-Signature"] == server.requests[1].headers["X-Auth-Signature"]
    assert "heartbeat: HTTP 503; retry 1 of 2 in " in caplog.text
    assert capsys.readouterr().out == ""  # reported through the logger, never printed


def test_retry_after_is_honoured(client: LLAPI) -> None:
    waits: list[float] = []
    client._transport._sleep = waits.append
    with ScriptedServer(Answer(status=429, headers={"Retry-After": "1"}), Answer()) as server:
        client.configure(url=server.url)
        assert heartbeat() == {"ok": True}
    assert waits == [1.0]


def test_retry_after_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
    assert RetryPolicy(retry_after_max=10).delay(1, 60.0) is None


def test_gives_up_after_max_attempts(client: LLAPI) -> None:
    with ScriptedServer(default=Answer(status=503, body={"message": "down for maintenance"})) as server:
        client.configure(url=server.url)
        with pytest.raises(timesys.ServerError) as info:
            heartbeat()
    assert len(server.requests) == 3
    assert info.value.status == 503 and info.value.server_message == "down for maintenance"
    assert "\n" not in str(info.value)


def test_500_on_post_is_not_retried(client: LLAPI) -> None:
    with ScriptedServer(Answer(status=500, body=b"oops")) as server:
        client.configure(url=server.url)
        with pytest.raises(timesys.ServerError, match=r"HTTP 500"):
            manifests.upload_manifest("{}")
    assert len(server.requests) == 1


def test_502_retried_for_get_not_for_post(client: LLAPI) -> None:
    with ScriptedServer(Answer(status=502), Answer(body=["CVE-1"])) as server:
        client.configure(url=server.url)
        assert cves.search_cves_by_product("zlib", ids_only=True) == ["CVE-1"]
    with ScriptedServer(Answer(status=502), Answer()) as server:
        client.configure(url=server.url)
        with pytest.raises(timesys.ServerError):
            heartbeat()
    assert len(server.requests) == 1


def test_timeout_when_server_never_answers(client: LLAPI) -> None:
    client.configure(timeout=(1, 0.5))
    with ScriptedServer(default=Answer(action="hang")) as server:
        client.configure(url=server.url)
        with pytest.raises(timesys.RequestTimeoutError, match="within the timeout"):
            heartbeat()  # POST: a read timeout may mean the server acted, so no retry
        assert len(server.requests) == 1
        with pytest.raises(timesys.RequestTimeoutError):
            cves.get_cve_info("CVE-1")  # GET: retried, then given up
        assert len(server.requests) == 1 + 3


def test_dropped_connection(client: LLAPI) -> None:
    with ScriptedServer(Answer(action="drop"), Answer(body={"id": "CVE-1"})) as server:
        client.configure(url=server.url)
        assert cves.get_cve_info("CVE-1") == {"id": "CVE-1"}  # idempotent: retried
    with ScriptedServer(Answer(action="drop"), Answer()) as server:
        client.configure(url=server.url)
        with pytest.raises(timesys.ConnectionFailedError):
            heartbeat()
        assert len(server.requests) == 1


def test_connection_refused_is_retried_then_reported(client: LLAPI) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client.configure(url=f"http://127.0.0.1:{port}")
    waits: list[float] = []
    client._transport._sleep = waits.append
    with pytest.raises(timesys.ConnectionFailedError, match=f"127.0.0.1:{port}"):
        heartbeat()  # never connected: safe to retry even a POST
    assert len(waits) == 2


def test_401_with_json_body(client: LLAPI) -> None:
    with ScriptedServer(Answer(status=401, body={"message": "signature mismatch", "status_code": 401})) as server:
        client.configure(url=server.url)
        with pytest.raises(timesys.AuthenticationError) as info:
            heartbeat()
    error = info.value
    assert error.status == 401 and error.server_message == "signature mismatch"
    assert str(error) == "Vigiles server returned an error: signature mismatch (HTTP 401)"
    assert isinstance(error, timesys.VigilesError) and isinstance(error, Exception)
    assert len(server.requests) == 1


@pytest.mark.parametrize("status, error_class", [(403, timesys.AuthenticationError), (404, timesys.NotFoundError),
                                                 (412, timesys.BadRequestError), (400, timesys.BadRequestError)])
def test_status_mapping(client: LLAPI, status: int, error_class: type) -> None:
    with ScriptedServer(Answer(status=status, body=b"<html>nope</html>")) as server:
        client.configure(url=server.url)
        with pytest.raises(error_class, match=f"HTTP {status}"):
            manifests.get_manifest_info("M1")


def test_invalid_json_response(client: LLAPI) -> None:
    with ScriptedServer(Answer(body=b"not json")) as server:
        client.configure(url=server.url)
        with pytest.raises(timesys.InvalidResponseError, match="error parsing JSON response"):
            heartbeat()


def test_raw_download_is_byte_exact(client: LLAPI) -> None:
    payload = bytes(range(256)) * 4
    with ScriptedServer(Answer(body=payload)) as server:
        client.configure(url=server.url)
        assert reports.download_report("R1", "xlsx") == payload


def test_one_session_reuses_connections(client: LLAPI) -> None:
    with ScriptedServer() as server:
        client.configure(url=server.url)
        heartbeat()
        session = client._transport.session
        heartbeat()
        assert client._transport.session is session
    assert all("timesys/" in request.headers["User-Agent"] for request in server.requests)


def test_upload_saves_exported_report(client: LLAPI, tmp_path: Path) -> None:
    exported = base64.b64encode(gzip.compress(b"%PDF-1.4 fake")).decode()
    with ScriptedServer(Answer(body={"manifest_token": "M1", "exported_report": exported})) as server:
        client.configure(url=server.url)
        result = manifests.upload_manifest("{}", export_format="pdf", export_path=tmp_path / "report.txt")
    assert result == {"manifest_token": "M1"}
    assert (tmp_path / "report.pdf").read_bytes() == b"%PDF-1.4 fake"
    body = server.requests[0].body.decode()
    assert "export_format=pdf" in body and server.requests[0].headers["Content-Type"] == \
        "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_tls_verification_and_ca_bundle(client: LLAPI, self_signed: tuple[Path, Path], tmp_path: Path) -> None:
    cert, key = self_signed
    with ScriptedServer() as server:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.httpd.socket = context.wrap_socket(server.httpd.socket, server_side=True)
        client.configure(url=server.url.replace("http://", "https://"))
        with pytest.raises(timesys.TLSError, match="certificate verify failed"):
            heartbeat()  # unknown issuer: not retried
        client.configure(verify_cert=str(cert))
        assert heartbeat() == {"ok": True}
    with pytest.raises(timesys.ConfigurationError, match="missing.pem: CA bundle not found"):
        client.configure(verify_cert=str(tmp_path / "missing.pem"))


def test_proxy_from_environment(client: LLAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY is honoured: the request goes to the proxy with the absolute URL."""
    with ScriptedServer() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "")
        client.configure(url="http://vigiles.invalid.test")
        assert heartbeat() == {"ok": True}
    assert proxy.requests[0].path == "http://vigiles.invalid.test/api/v1/vigiles/heartbeat"

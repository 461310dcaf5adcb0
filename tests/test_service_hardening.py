"""Issue 11: each defect the review found, attacked again over real HTTP on loopback.

One test (or a few) per defect, named after it; each failed on the code the
review attacked. Memory bounds are checked with tracemalloc around a request
to the in-process service (the service thread's allocations are traced too),
never with timings.
"""
from __future__ import annotations

import base64
import csv
import gzip
import io
import json
import logging
import os
import socket
import sqlite3
import stat
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable
from xml.etree import ElementTree as ET

from urllib.parse import urlencode

import pytest
import requests

import timesys
from timesys.core import endpoints, signing
from timesys.core.llapi import LLAPI

from .conftest import LocalVigiles
from .exports_support import cyclonedx_errors
from .support.hostile import FORM, HEARTBEAT, UPLOAD, credentials, heartbeat, signed_call, stored_counts, upload
from .support.scripted_server import Answer, ScriptedServer

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "examples" / "core-image-minimal.vigiles.json").read_text()
CDX_NS = "http://cyclonedx.org/schema/bom/1.5"


def peak_growth(action: Callable[[], Any]) -> tuple[Any, int]:
    """(result, peak bytes allocated by Python above the start) while `action` runs."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        result = action()
        return result, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def vigiles_manifest(packages: dict[str, dict[str, Any]], **top: Any) -> str:
    return json.dumps({"manifest_name": "attack", "manifest_version": "1.19", **top, "packages": packages})


def busybox(**fields: Any) -> dict[str, Any]:
    """A package matched to the bundled busybox CVEs, with the given fields replaced."""
    return {"name": "busybox", "version": "1.36.1", "cve_product": "busybox", "cve_version": "1.36.1", **fields}


def one_line_4xx(response: requests.Response) -> str:
    assert 400 <= response.status_code < 500, response.text[:500]
    message = response.json()["message"]
    assert "\n" not in message and "Traceback" not in message
    return str(message)


@pytest.fixture
def user(local_vigiles: LocalVigiles) -> Path:
    return local_vigiles.add_user("u@example.com")


# -- 1. authentication before decoding ------------------------------------------------------------

def _slow_path_body(size: int) -> bytes:
    """A form body that the old decoder sent down its pure-Python path (a stray '%')."""
    return b"email=u%40example.com&manifest=" + b"%41" * (size // 3) + b"%"


def test_unsigned_large_body_is_refused_before_it_is_decoded(local_vigiles: LocalVigiles, user: Path) -> None:
    body = _slow_path_body(16 * 1024 * 1024)
    response, peak = peak_growth(lambda: requests.post(local_vigiles.url + UPLOAD, data=body, timeout=120,
                                                       headers={"Content-Type": FORM}))
    assert response.status_code == 401 and "unknown email or bad signature" in response.json()["message"]
    assert peak < len(body) // 2, f"{peak / 2**20:.0f} MiB allocated for an unsigned request"
    # Undecodable content is not even looked at without a signature: 401, not 400.
    response = requests.post(local_vigiles.url + UPLOAD, data=b"email=u%40example.com&manifest=%FF%FE",
                             headers={"Content-Type": FORM}, timeout=10)
    assert response.status_code == 401
    assert heartbeat(local_vigiles.url, user) == 200


@pytest.mark.parametrize("email", ["u%40example.com", "nobody%40example.com"])
def test_badly_signed_large_body_costs_one_streamed_pass(local_vigiles: LocalVigiles, user: Path, email: str) -> None:
    body = _slow_path_body(16 * 1024 * 1024).replace(b"u%40example.com", email.encode(), 1)
    response, peak = peak_growth(lambda: requests.post(
        local_vigiles.url + UPLOAD, data=body, timeout=120,
        headers={"Content-Type": FORM, signing.SIGNATURE_HEADER: "A" * 43 + "="}))
    assert response.status_code == 401 and "unknown email or bad signature" in response.json()["message"]
    # The body is read once; its values are decoded in 1 MiB chunks while hashed, never whole.
    assert peak < 2.5 * len(body), f"{peak / 2**20:.0f} MiB allocated for a {len(body) / 2**20:.0f} MiB body"
    assert stored_counts(local_vigiles.storage.data_dir) == (0, 0)


def test_streamed_canonical_string_equals_the_signing_recipe() -> None:
    from timesys_ci.service import form as form_module
    from timesys_ci.service.auth import canonical_chunks
    from timesys_ci.service.form import scan_form

    params = {"manifest": "é" * 3000 + "%&=+", "with_field": ["b", "a", "é"], "email": "x@y", "version": "",
              "Z": "big " * 1000}
    raw = urlencode(list(params.items()), doseq=True).encode()
    old_chunk = form_module.CHUNK
    form_module.CHUNK = 7  # many chunk boundaries, some inside %XX escapes
    try:
        streamed = b"".join(canonical_chunks(scan_form(raw, "body")))
    finally:
        form_module.CHUNK = old_chunk
    assert streamed == signing.canonical_string(params).encode("utf-8")


# -- 9. constant work for unknown emails ----------------------------------------------------------

def test_unknown_emails_cost_what_known_ones_do(local_vigiles: LocalVigiles, user: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from timesys_ci.service import auth
    from timesys_ci.service.storage.keys import KeyStore

    work: list[tuple[str, int]] = []
    original_chunks, original_open = auth.canonical_chunks, KeyStore.open

    def counted_chunks(form: Any) -> Iterator[bytes]:
        total = 0
        for chunk in original_chunks(form):
            total += len(chunk)
            yield chunk
        work.append(("hashed", total))

    def counted_open(self: KeyStore, email: str, sealed: bytes) -> bytes:
        work.append(("unsealed", 1))
        return original_open(self, email, sealed)

    monkeypatch.setattr(auth, "canonical_chunks", counted_chunks)
    monkeypatch.setattr(KeyStore, "open", counted_open)
    for email in ("u@example.com", "v@example.com"):  # same length: the same bytes to hash
        response = requests.post(local_vigiles.url + HEARTBEAT, data={"email": email, "pad": "x" * 5000}, timeout=10,
                                 headers={signing.SIGNATURE_HEADER: "B" * 43 + "="})
        assert response.status_code == 401 and response.json()["message"] == (
            "authentication failed: unknown email or bad signature")
    known, unknown = work[:len(work) // 2], work[len(work) // 2:]
    assert known == unknown and [kind for kind, _ in known] == ["unsealed", "hashed"] and known[1][1] > 5000


# -- 3. files private, keys never in clear --------------------------------------------------------

def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _assert_private(data_dir: Path) -> None:
    assert _mode(data_dir) == 0o700
    files = [path for path in data_dir.iterdir() if path.name.startswith("vigiles.sqlite3")]
    assert {path.name for path in files} >= {"vigiles.sqlite3", "vigiles.sqlite3-wal", "vigiles.sqlite3-shm"}
    for path in files + [data_dir / "service-secret.key"]:
        assert _mode(path) == 0o600, path


def _database_bytes(data_dir: Path) -> bytes:
    return b"".join(path.read_bytes() for path in data_dir.iterdir() if path.name.startswith("vigiles.sqlite3"))


def test_data_dir_is_private_and_holds_no_key_in_clear(local_vigiles: LocalVigiles, user: Path) -> None:
    data_dir = local_vigiles.storage.data_dir
    assert heartbeat(local_vigiles.url, user) == 200
    _assert_private(data_dir)
    _, key = credentials(user)
    assert key not in _database_bytes(data_dir)
    assert key.hex().encode() not in _database_bytes(data_dir)


def test_local_mode_data_dir_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from timesys_ci.job.local import local_service

    monkeypatch.setenv("TIMESYS_CI_CACHE", str(tmp_path / "cache"))
    with local_service() as local:
        email, key = credentials(local.key_file)
        assert heartbeat(local.url, local.key_file) == 200
        _assert_private(local.data_dir)
        assert key not in _database_bytes(local.data_dir)


def test_existing_data_dir_is_tightened_and_its_keys_sealed(tmp_path: Path) -> None:
    from timesys_ci.service.server import running_service
    from timesys_ci.service.storage.schema import MIGRATIONS

    data_dir = tmp_path / "old"
    data_dir.mkdir(mode=0o755)
    os.chmod(data_dir, 0o755)
    legacy_key = "legacy-key-kept-in-clear-by-version-1"
    with sqlite3.connect(data_dir / "vigiles.sqlite3") as connection:  # what version 1 wrote
        connection.execute("PRAGMA journal_mode = WAL")
        connection.executescript(MIGRATIONS[0])  # type: ignore[arg-type]
        connection.execute("INSERT INTO users (email, api_key, is_admin, workspace_token, created)"
                           " VALUES ('old@example.com', ?, 0, 'WOLD', '2025-01-01T00:00:00Z')", (legacy_key,))
        connection.execute("INSERT INTO groups (token, name, organization_token, kind, owner_email, created)"
                           " VALUES ('WOLD', 'Private Workspace', 'ORG-LOCAL', 'workspace', 'old@example.com', '')")
        connection.execute("PRAGMA user_version = 1")
    connection.close()
    for path in data_dir.iterdir():
        os.chmod(path, 0o644)
    assert legacy_key.encode() in _database_bytes(data_dir)
    with running_service(data_dir, seed=False) as service:
        key_file = tmp_path / "old-key.json"
        key_file.write_text(json.dumps({"email": "old@example.com", "organization_key": legacy_key,
                                        "server_url": service.url}))
        assert heartbeat(service.url, key_file) == 200  # the old key still signs
        _assert_private(data_dir)
        assert legacy_key.encode() not in _database_bytes(data_dir)
        service.storage.close()


# -- 4. one transaction per upload ----------------------------------------------------------------

@pytest.mark.parametrize("extra", [
    {"with_field": ["nonsense"]},
    {"export_format": "cyclonedx-vex", "cyclonedx_version": "0.9"},
    {"export_format": "cyclonedx-vex", "cyclonedx_format": "yaml"},
])
def test_refused_upload_stores_nothing(local_vigiles: LocalVigiles, user: Path, extra: dict[str, Any]) -> None:
    client = LLAPI(key_file_path=user)
    group = endpoints.GROUP_CREATE.call(client, group_name="Team")["token"]
    response = upload(local_vigiles.url, user, EXAMPLE, group_token=group, subfolder_name="release-9", **extra)
    one_line_4xx(response)
    assert stored_counts(local_vigiles.storage.data_dir) == (0, 0)
    assert endpoints.FOLDERS_LIST.call(client, group_token=group) == []  # the subfolder was not made either


def test_upload_with_a_new_subfolder_is_stored_whole(local_vigiles: LocalVigiles, user: Path) -> None:
    client = LLAPI(key_file_path=user)
    group = endpoints.GROUP_CREATE.call(client, group_name="Team")["token"]
    first = upload(local_vigiles.url, user, EXAMPLE, group_token=group, subfolder_name="rel").json()
    second = upload(local_vigiles.url, user, EXAMPLE, group_token=group, subfolder_name="rel").json()
    assert first["folder_token"] == second["folder_token"] and first["folder_token"].startswith("F")
    folders = endpoints.FOLDERS_LIST.call(client, group_token=group)
    assert [folder["folder_token"] for folder in folders] == [first["folder_token"]]
    assert stored_counts(local_vigiles.storage.data_dir) == (2, 2)


# -- 5. every parser error a 4xx; names that cannot break a download ------------------------------

def _nested_cdx_json(depth: int) -> str:
    # Built as text: json.dumps itself would recurse too deep.
    opening = "".join(f'{{"type": "library", "name": "c{level}", "version": "1", "components": [' for level in range(depth))
    leaf = '{"type": "library", "name": "leaf", "version": "1"}'
    return ('{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [' + opening + leaf + "]}" * depth
            + "]}")


def _nested_cdx_xml(depth: int) -> str:
    opening = "".join(f'<component type="library"><name>c{level}</name><version>1</version><components>'
                      for level in range(depth))
    closing = "</components></component>" * depth
    return (f'<?xml version="1.0"?><bom xmlns="{CDX_NS}" version="1"><components>'
            f'{opening}<component type="library"><name>leaf</name></component>{closing}</components></bom>')


HOSTILE_DOCUMENTS = {
    "json-nested-5000": "[" * 5000 + "]" * 5000,
    "json-object-nested-100000": '{"a":' * 100_000 + "1" + "}" * 100_000,
    "cyclonedx-json-components-600": _nested_cdx_json(600),
    "cyclonedx-xml-components-600": _nested_cdx_xml(600),
    "integer-5000-digits": vigiles_manifest({"busybox": busybox(version="VERSION")}).replace('"VERSION"', "7" * 5000),
    "lone-surrogate-name": vigiles_manifest({"busybox": busybox(name="busy\ud800box")}),
    "lone-surrogate-key": vigiles_manifest({"x\udc00": busybox()}),
    "lone-surrogate-manifest-name": vigiles_manifest({"busybox": busybox()}, manifest_name="\udbff"),
}


def test_integer_document_really_holds_a_5000_digit_integer() -> None:
    assert '"version": ' + "7" * 5000 in HOSTILE_DOCUMENTS["integer-5000-digits"]


@pytest.mark.parametrize("name", sorted(HOSTILE_DOCUMENTS))
def test_parser_errors_are_one_line_4xx(local_vigiles: LocalVigiles, user: Path, name: str) -> None:
    for upload_only in ("False", "True"):
        message = one_line_4xx(upload(local_vigiles.url, user, HOSTILE_DOCUMENTS[name], upload_only=upload_only))
        assert "manifest" in message
    assert stored_counts(local_vigiles.storage.data_dir) == (0, 0)
    assert heartbeat(local_vigiles.url, user) == 200


def _disposition(response: requests.Response) -> dict[str, str]:
    """The Content-Disposition parameters, as a strict reader splits them."""
    import re

    header = response.headers["Content-Disposition"]
    assert "\r" not in header and "\n" not in header
    kind, _, rest = header.partition(";")
    assert kind == "attachment"
    params = re.findall(r'\s*([^=;\s]+)=("(?:[^"\\]|\\.)*"|[^;]*)\s*(?:;|$)', rest)
    assert "".join(f"{name}={value}" for name, value in params).replace(" ", "") == rest.replace(";", "").replace(
        " ", ""), header
    return {name: value[1:-1] if value.startswith('"') else value for name, value in params}


def _download(local_vigiles: LocalVigiles, key_file: Path, token: str) -> requests.Response:
    return signed_call(local_vigiles.url, key_file, "GET", f"/api/v1/vigiles/manifests/{token}",
                       {"send_file": "True"})


@pytest.mark.parametrize("bad", ["a\r\nX-Injected: yes", "a\nb", "tab\tname", "nul\x00", "del\x7f", "nel\x85",
                                 "line\u2028sep", "non\ufffechar"])
def test_manifest_name_with_control_characters_is_refused(local_vigiles: LocalVigiles, user: Path, bad: str) -> None:
    assert "manifest_name" in one_line_4xx(upload(local_vigiles.url, user, EXAMPLE, manifest_name=bad))
    assert stored_counts(local_vigiles.storage.data_dir) == (0, 0)


def test_any_manifest_name_downloads_with_its_exact_name(local_vigiles: LocalVigiles, user: Path) -> None:
    for name in ['café ünïcødé ✓ "quoted"; filename=evil.sh', "日本語", "plain-name_1.0", 'x"; size=1']:
        token = upload(local_vigiles.url, user, EXAMPLE, manifest_name=name).json()["manifest_token"]
        response = _download(local_vigiles, user, token)
        assert response.status_code == 200, response.text
        params = _disposition(response)
        assert set(params) <= {"filename", "filename*"}, params  # no injected parameter
        exact = params.get("filename*")
        if exact is not None:
            from urllib.parse import unquote

            charset, _, encoded = exact.partition("''")
            assert charset == "UTF-8" and unquote(encoded) == f"{name}.json"
            assert all(32 <= ord(char) < 127 and char not in '"\\' for char in params["filename"])
        else:
            assert params["filename"] == f"{name}.json"
        assert response.content == EXAMPLE.encode()


def test_name_from_the_document_is_cleaned(local_vigiles: LocalVigiles, user: Path) -> None:
    manifest = vigiles_manifest({"busybox": busybox()}, manifest_name="evil\r\nSet-Cookie: x=1")
    body = upload(local_vigiles.url, user, manifest).json()
    assert body["manifest_name"] == "evil  Set-Cookie: x=1"
    assert _download(local_vigiles, user, body["manifest_token"]).status_code == 200


# -- 2. XML: no entity or DTD declarations; robust detection; upload_only parses once ------------

def _entity_bomb(references: int) -> str:
    return ('<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY a "' + "A" * 290 + '">]>\n'
            f'<bom xmlns="{CDX_NS}" version="1"><components><component type="library">'
            f'<name>{"&a;" * references}</name><version>1</version></component></components></bom>')


@pytest.mark.parametrize("document", [
    _entity_bomb(300_000),
    f'<?xml version="1.0"?><!DOCTYPE bom SYSTEM "http://127.0.0.1:1/x.dtd"><bom xmlns="{CDX_NS}"/>',
    f'<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY x SYSTEM "file:///etc/passwd">]><bom xmlns="{CDX_NS}">&x;</bom>',
    f'<?xml version="1.0"?><!DOCTYPE bom><bom xmlns="{CDX_NS}" version="1"/>',
], ids=["entity-amplification", "external-dtd", "external-entity", "plain-doctype"])
def test_xml_with_dtd_or_entities_is_refused_unexpanded(local_vigiles: LocalVigiles, user: Path,
                                                         document: str) -> None:
    for upload_only in ("False", "True"):
        response, peak = peak_growth(lambda: upload(local_vigiles.url, user, document, upload_only=upload_only))
        assert "DTD" in one_line_4xx(response)
        # Expanded, the first document's name would be 87 MB of text.
        assert peak < 32 * 2**20, f"{peak / 2**20:.0f} MiB for a {len(document)} byte document"
    assert stored_counts(local_vigiles.storage.data_dir) == (0, 0)


def test_format_is_detected_past_a_long_prolog(local_vigiles: LocalVigiles, user: Path) -> None:
    xml = (f'<?xml version="1.0"?>\n<!--{"x" * 20000}-->\n<bom xmlns="{CDX_NS}" version="1"><components>'
           '<component type="library"><name>busybox</name><version>1.36.1</version>'
           '<cpe>cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*</cpe></component></components></bom>')
    body = upload(local_vigiles.url, user, xml).json()
    assert body["counts"]["unfixed"] > 0, body
    tag = "".join(f"# comment line {n} {'y' * 80}\n" for n in range(200)) + (
        "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nDocumentName: t\n"
        "PackageName: busybox\nSPDXID: SPDXRef-busybox\nPackageVersion: 1.36.1\n"
        "ExternalRef: SECURITY cpe23Type cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*\n")
    assert len(tag) > 8192
    body = upload(local_vigiles.url, user, tag).json()
    assert body["counts"]["unfixed"] > 0, body
    # A namespace merely mentioned in a comment does not make a document CycloneDX.
    decoy = '<?xml version="1.0"?><!-- http://cyclonedx.org/schema/bom/1.5 --><html/>'
    assert "neither CycloneDX nor SPDX" in one_line_4xx(upload(local_vigiles.url, user, decoy))


def test_upload_only_reads_the_document_once(local_vigiles: LocalVigiles, user: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from timesys_ci.sbom import detect

    calls: list[str] = []
    original = detect._sniff

    def counted(text: str, source: Any) -> Any:
        calls.append(source)
        return original(text, source)

    monkeypatch.setattr(detect, "_sniff", counted)
    assert upload(local_vigiles.url, user, EXAMPLE, upload_only="True").status_code == 200
    assert len(calls) == 1
    calls.clear()
    assert upload(local_vigiles.url, user, EXAMPLE).status_code == 200
    assert len(calls) == 1  # the scan reuses what the upload read


# -- 6. connection limits and timeouts ------------------------------------------------------------

def _half_open(url: str, count: int) -> list[socket.socket]:
    host, port = url.rsplit("/", 1)[-1].split(":")
    sockets = []
    for _ in range(count):
        connection = socket.create_connection((host, int(port)), timeout=10)
        connection.sendall(b"POST /api/v1/vigiles/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nem")
        sockets.append(connection)
    return sockets


def test_idle_half_open_connections_do_not_starve_other_clients(local_vigiles: LocalVigiles, user: Path) -> None:
    sockets = _half_open(local_vigiles.url, 100)
    try:
        assert heartbeat(local_vigiles.url, user, timeout=10) == 200
        assert requests.get(local_vigiles.url + "/", timeout=10).status_code == 200
    finally:
        for connection in sockets:
            connection.close()


def test_idle_connections_are_closed_after_the_channel_timeout(tmp_path: Path) -> None:
    from timesys_ci.service.server import ServerLimits, running_service

    limits = ServerLimits(channel_timeout=1, cleanup_interval=1)
    with running_service(tmp_path / "data", seed=False, limits=limits) as service:
        (connection,) = _half_open(service.url, 1)
        connection.settimeout(15)
        try:
            assert connection.recv(1024) == b""  # closed by the server, not by the test's timeout
        finally:
            connection.close()
        service.storage.close()


# -- 7. CPE parse results cached, CPE length bounded ----------------------------------------------

def test_long_or_repeated_bad_cpes_are_parsed_at_most_once(local_vigiles: LocalVigiles, user: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from timesys_ci.vulndb import cpe

    splits: list[int] = []
    original = cpe._split_fs
    monkeypatch.setattr(cpe, "_split_fs", lambda text: splits.append(len(text)) or original(text))
    huge = "cpe:2.3:a:busybox:busybox:1.36.1:" + "x:" * 1_000_000  # 2 MB, too many attributes
    bad = "cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*:extra"  # short, too many attributes
    packages = {f"p{n}": busybox(name=f"p{n}", cpe_id=[huge if n % 2 else bad]) for n in range(20)}
    response = upload(local_vigiles.url, user, vigiles_manifest(packages))
    assert response.status_code == 200, response.text[:300]
    assert all(length < 10_000 for length in splits), "a 2 MB CPE was split"
    assert splits.count(len(bad)) <= 1, f"the same bad CPE was parsed {splits.count(len(bad))} times"


# -- 8. exports: CSV formulas neutralised, XML always well-formed and schema-valid ----------------

FORMULA_NAMES = ["=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=tab", "\r=cr"]


def test_csv_cells_cannot_start_a_formula(local_vigiles: LocalVigiles, user: Path) -> None:
    packages = {name: busybox(name=name, patched_cves={"CVE-2022-48174": [f"{name}.patch"]}) for name in FORMULA_NAMES}
    report = upload(local_vigiles.url, user, vigiles_manifest(packages)).json()
    response = signed_call(local_vigiles.url, user, "GET", f"/api/v1/vigiles/reports/{report['report_token']}",
                           {"format": "csv", "filtered": "False"})
    assert response.status_code == 200, response.text[:300]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))
    cells = [cell for row in rows[1:] for cell in row]
    assert {row[0] for row in rows[1:]} == {f"'{name}" for name in FORMULA_NAMES}
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


CONTROL_NAME = "ctl\x01\x08\x0b\x0c\x1f\x7f\ufffe\uffff name"


@pytest.mark.parametrize("version", ["1.4", "1.5", "1.6", "1.7"])
def test_xml_exports_are_well_formed_and_schema_valid(local_vigiles: LocalVigiles, user: Path, version: str) -> None:
    manifest = vigiles_manifest({CONTROL_NAME: busybox(name=CONTROL_NAME, license="MIT\x02",
                                                       patched_cves={"CVE-2022-48174": ["fix\x03.patch"]})},
                                manifest_name="doc\x04name")
    uploaded = upload(local_vigiles.url, user, manifest, export_format="cyclonedx-sbom-vex", cyclonedx_format="xml",
                      cyclonedx_version=version)
    assert uploaded.status_code == 200, uploaded.text[:300]
    exported = gzip.decompress(base64.b64decode(uploaded.json()["exported_report"]))
    downloaded = signed_call(local_vigiles.url, user, "GET",
                             f"/api/v1/vigiles/reports/{uploaded.json()['report_token']}",
                             {"format": "cyclonedx-sbom-vex", "sbom_format": "xml", "sbom_version": version,
                              "filtered": "False"})
    assert downloaded.status_code == 200, downloaded.text[:300]
    for document in (exported, downloaded.content):
        root = ET.fromstring(document)
        names = [element.text for element in root.iter(f"{{http://cyclonedx.org/schema/bom/{version}}}name")]
        assert any(name and name.startswith("ctl") for name in names)
        assert cyclonedx_errors(document, "xml", version) == []


# -- 10. the client: bounded gunzip, no umask toggling ---------------------------------------------

def _client_against(server: ScriptedServer, write_key_file: Callable[..., Path], fresh_llapi: LLAPI) -> None:
    key_file = write_key_file({"email": "c@example.com", "key": "k", "server_url": server.url})
    fresh_llapi.configure(key_file_path=key_file)


def test_client_refuses_an_exported_report_that_expands_past_the_limit(
        tmp_path: Path, write_key_file: Callable[..., Path], fresh_llapi: LLAPI, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from timesys.core import utils
    from timesys.vigiles import manifests

    monkeypatch.setattr(utils, "MAX_EXPORTED_REPORT_BYTES", 4 * 2**20)
    bomb = base64.b64encode(gzip.compress(bytes(64 * 2**20), compresslevel=9)).decode()
    assert len(bomb) < 200_000
    answer = Answer(body={"manifest_token": "M1", "exported_report": bomb})
    with ScriptedServer(answer) as server:
        _client_against(server, write_key_file, fresh_llapi)
        (result, peak) = peak_growth(lambda: manifests.upload_manifest(
            EXAMPLE, export_format="csv", export_path=tmp_path / "report.txt"))
    assert result == {"manifest_token": "M1"}
    assert not (tmp_path / "report.csv").exists() and list(tmp_path.glob(".report*")) == []
    assert "expands to more than 4194304 bytes" in caplog.text
    assert peak < 24 * 2**20, f"{peak / 2**20:.0f} MiB to refuse the bomb"
    # A report within the limit is written.
    fine = base64.b64encode(gzip.compress(b"a,b\r\n" * 1000)).decode()
    with ScriptedServer(Answer(body={"manifest_token": "M2", "exported_report": fine})) as server:
        _client_against(server, write_key_file, fresh_llapi)
        manifests.upload_manifest(EXAMPLE, export_format="csv", export_path=tmp_path / "report.txt")
    assert (tmp_path / "report.csv").read_bytes() == b"a,b\r\n" * 1000


def _umask() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("Umask:"):
            return int(line.split()[1], 8)
    pytest.skip("no Umask line in /proc/self/status")
    raise AssertionError


def test_files_are_written_without_touching_the_umask(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from timesys.core.utils import save_file, write_bytes_atomic

    expected = 0o666 & ~_umask()

    def forbidden(mask: int) -> int:
        raise AssertionError("os.umask called: it is process-wide, racy under threads")

    monkeypatch.setattr(os, "umask", forbidden)
    new = write_bytes_atomic(tmp_path / "new.txt", b"x")
    assert _mode(new) == expected
    save_file(base64.b64encode(gzip.compress(b"report")), tmp_path / "saved.pdf")
    assert _mode(tmp_path / "saved.pdf") == expected and (tmp_path / "saved.pdf").read_bytes() == b"report"
    os.chmod(new, 0o640)
    write_bytes_atomic(new, b"y")  # replacing keeps the mode
    assert _mode(new) == 0o640
    assert _mode(write_bytes_atomic(tmp_path / "secret", b"k", mode=0o600)) == 0o600

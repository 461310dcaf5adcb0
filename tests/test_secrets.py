"""The API key never appears in logs, reprs, errors or outputs (DEBUG level, full run of calls)."""
from __future__ import annotations

import logging
from typing import Any

import pytest

import timesys
from timesys.core.llapi import LLAPI
from timesys.core.transport import RetryPolicy
from timesys.utilities import get_app_db_version, heartbeat
from timesys.vigiles import cves, folders, groups, manifests, reports

from .conftest import DEMO_EMAIL, DEMO_KEY
from .support.scripted_server import Answer, ScriptedServer


def test_key_never_logged(fresh_llapi: LLAPI, write_key_file: Any, caplog: pytest.LogCaptureFixture,
                          capsys: pytest.CaptureFixture[str]) -> None:
    logging.getLogger("urllib3").setLevel(logging.DEBUG)
    path = write_key_file({"email": DEMO_EMAIL, "organization_key": DEMO_KEY, "server_url": "http://127.0.0.1:9"},
                          mode=0o644)
    errors: list[str] = []
    with caplog.at_level(logging.DEBUG), ScriptedServer(Answer(status=503), Answer(status=401, body={"message": "no"}),
                                                       default=Answer(body={"ok": True})) as server:
        fresh_llapi.configure(key_file_path=path, url=server.url, log_level="DEBUG", verify_cert=False)
        fresh_llapi._transport.retry = RetryPolicy(max_attempts=2, backoff_factor=0.01)
        fresh_llapi.group_token, fresh_llapi.folder_token = "G", "F"
        calls = [heartbeat, heartbeat, get_app_db_version, lambda: cves.get_cve_info("CVE-1", ["cisa"]),
                 lambda: cves.set_status("group", "CVE-1", "zlib", "resolved"), folders.get_folders,
                 lambda: groups.update_group_settings(vuln_identifiers=["CPE"]), manifests.get_manifests,
                 lambda: manifests.upload_manifest("{}", manifest_name="m"), lambda: reports.download_report("R", "csv"),
                 lambda: manifests.delete_manifest("M", True)]
        for call in calls:
            try:
                call()
            except timesys.VigilesError as exc:
                errors.append(str(exc) + repr(exc))
        fresh_llapi.configure(dry_run=True)
        described = repr(heartbeat())
    output = capsys.readouterr()
    everything = caplog.text + output.out + output.err + "".join(errors) + repr(fresh_llapi) + repr(
        fresh_llapi.current_config)
    assert len(server.requests) == len(calls) + 1  # one retry
    assert errors and "HTTP 401" in errors[0]
    assert "DEBUG" in caplog.text and "/api/v1/vigiles/manifests" in caplog.text
    assert DEMO_KEY not in everything
    # The signature is a secret-bearing value too; only dry-run's documented output shows it.
    signatures = {request.headers["X-Auth-Signature"] for request in server.requests}
    assert not any(signature in everything for signature in signatures)
    assert DEMO_KEY not in described

"""`main(argv)` run many times in one process: each run's configuration stays in that run.

Two different configurations back to back (keys, URLs, flavour, group token from the environment,
--debug, --color): the second run sees nothing of the first, `timesys.llapi` is never touched, and
the loggers' handlers, levels and propagation are as they were before either run.
"""
from __future__ import annotations

import importlib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

import timesys
from timesys.core import signing
from timesys.core.llapi import active_client
from timesys_ci.cli import state

from .cli_helpers import run_cli
from .support.clock import FakeClock
from .support.scripted_server import Answer, Recorded, ScriptedServer

KEY_A, KEY_B = "first-run-key-AAAA-not-real", "second-run-key-BBBB-not-real"
LOGGERS = ("timesys", "timesys_ci")


def _key(path: Path, email: str, key: str, url: str) -> Path:
    path.write_text(json.dumps({"email": email, "organization_key": key, "server_url": url}))
    os.chmod(path, 0o600)
    return path


def _params(request: Recorded) -> dict[str, str]:
    parts = urlsplit(request.path)
    return dict(parse_qsl(parts.query) + parse_qsl(request.body.decode()))


def _signed_with(request: Recorded, key: str) -> bool:
    resource = urlsplit(request.path).path
    expected = signing.signature(key.encode(), request.method, resource, _params(request))
    return signing.signatures_match(expected, request.headers[signing.SIGNATURE_HEADER])


def _logging_state() -> list[tuple[Any, ...]]:
    return [(name, tuple(logging.getLogger(name).handlers), logging.getLogger(name).level,
             logging.getLogger(name).propagate) for name in LOGGERS] + [("", tuple(logging.getLogger().handlers))]


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[state.CliRun]:
    """Every CliRun main() makes, kept for inspection after the run."""
    made: list[state.CliRun] = []
    real = state.cli_run

    @contextmanager
    def recording(*args: Any, **kwargs: Any) -> Iterator[state.CliRun]:
        with real(*args, **kwargs) as run:
            made.append(run)
            yield run

    monkeypatch.setattr(importlib.import_module("timesys_ci.cli.main"), "cli_run", recording)
    return made


def test_two_configurations_back_to_back_share_nothing(tmp_path: Path, runs: list[state.CliRun]) -> None:
    shared_before = (timesys.llapi.configured, timesys.llapi.email, timesys.llapi.url, timesys.llapi.api)
    logging_before = _logging_state()
    with ScriptedServer(default=Answer(body=[{"manifest_name": "img", "manifest_token": "M1"}])) as first, \
            ScriptedServer(default=Answer(body=[{"manifest_name": "img", "manifest_token": "M1"}])) as second:
        key_a = _key(tmp_path / "a.key", "a@example.com", KEY_A, first.url)
        key_b = _key(tmp_path / "b.key", "b@example.com", KEY_B, second.url)
        one = run_cli("--debug", "--color", "always", "--api", "products", "-k", str(key_a), "manifest", "list",
                      home=tmp_path, env={"VIGILES_GROUP_TOKEN": "GROUP-A"}, secret=KEY_A)
        two = run_cli("-k", str(key_b), "manifest", "list", home=tmp_path, env={"VIGILES_GROUP_TOKEN": "GROUP-B"},
                      secret=KEY_B)
        assert KEY_A not in two.stderr and KEY_A.encode() not in two.stdout_bytes
        assert one.returncode == two.returncode == 0, (one.stderr, two.stderr)

        # The first run: its key, its URL, its flavour (products: "product_token"), the group token of its
        # environment, debug and colour.
        [request_a] = first.requests
        assert urlsplit(request_a.path).path == "/api/v1/vigiles/manifests" and _signed_with(request_a, KEY_A)
        assert _params(request_a) == {"email": "a@example.com", "product_token": "GROUP-A"}
        assert "\033[" in one.stdout and " debug: GET /api/v1/vigiles/manifests" in one.stderr
        # The second: its own key, URL and token, and none of the rest.
        [request_b] = second.requests
        assert urlsplit(request_b.path).path == "/api/v1/vigiles/manifests" and _signed_with(request_b, KEY_B)
        assert _params(request_b) == {"email": "b@example.com", "group_token": "GROUP-B"}  # groups flavour
        assert "\033[" not in two.stdout and two.stderr == ""

    first_run, second_run = runs
    assert first_run.redactor.secrets == {KEY_A} and second_run.redactor.secrets == {KEY_B}
    first_client, second_client = first_run._client, second_run._client  # each run's own, made on first use
    assert first_client is not None and second_client is not None and first_client is not second_client
    assert timesys.llapi not in (first_client, second_client)
    assert (first_client.email, first_client.api) == ("a@example.com", "products")
    assert (second_client.email, second_client.api) == ("b@example.com", "groups")
    assert first_client._transport._session is None  # closed when its run ended
    # Nothing outlives the runs: the shared client, the active client, the loggers, the fallback run.
    assert (timesys.llapi.configured, timesys.llapi.email, timesys.llapi.url, timesys.llapi.api) == shared_before
    assert active_client() is timesys.llapi
    assert _logging_state() == logging_before
    assert state.current_run().redactor.secrets.isdisjoint({KEY_A, KEY_B})


def test_each_run_waits_on_its_own_clock(tmp_path: Path) -> None:
    """The run's clock is what the client's retry back-off sleeps on: nothing really waits."""
    busy = Answer(status=503, body={"message": "busy"})
    with ScriptedServer(busy, busy, busy) as server:
        key = _key(tmp_path / "k.key", "a@example.com", KEY_A, server.url)
        clock = FakeClock()
        run = run_cli("-k", str(key), "heartbeat", home=tmp_path, secret=KEY_A, clock=clock)
        assert run.returncode == 0 and len(server.requests) == 4, run.stderr
        assert len(clock.sleeps) == 3 and all(0 < wait <= 2 for wait in clock.sleeps)
        other = FakeClock()
        assert run_cli("-k", str(key), "heartbeat", home=tmp_path, secret=KEY_A, clock=other).returncode == 0
        assert other.sleeps == [] and len(clock.sleeps) == 3


def test_a_run_leaves_the_shared_client_of_scripts_alone(tmp_path: Path, fresh_llapi: timesys.LLAPI) -> None:
    """A script that configured `timesys.llapi` and then calls main() keeps its configuration."""
    with ScriptedServer() as mine, ScriptedServer() as cli:
        fresh_llapi.configure(key_file_path=_key(tmp_path / "mine.key", "me@example.com", KEY_A, mine.url),
                              api="products")
        run = run_cli("-k", str(_key(tmp_path / "cli.key", "cli@example.com", KEY_B, cli.url)), "heartbeat",
                      home=tmp_path, secret=KEY_B)
        assert run.returncode == 0, run.stderr
        assert (fresh_llapi.email, fresh_llapi.url, fresh_llapi.api) == ("me@example.com", mine.url, "products")
        assert timesys.utilities.heartbeat() == {"ok": True}
        assert [len(mine.requests), len(cli.requests)] == [1, 1]

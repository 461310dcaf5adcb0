"""Running the CLI for the tests: `main(argv)` in this process (fast), or `python -m timesys_ci` as a subprocess.

`run_cli` runs in-process by default, as a fresh process would see it: a clean environment (no VIGILES_*,
proxies...), HOME and the working directory in a tmp dir, no terminal, empty stdin, stdout as bytes, and
other libraries' log warnings on stderr (no root handlers). Its clock is an `InstantClock` (real time, but
sleeping returns at once): retry back-off and `--wait-timeout` polling never really wait. `process=True` starts a real `python -m timesys_ci` instead:
only for what needs a process (entry points, the exit status the OS sees, signals). Every run checks that
the API key appears in neither stdout nor stderr.

`service` is a `ScriptedServer` (records every request, answers what the test scripts).
"""
from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Optional
from urllib.parse import parse_qsl, urlsplit

import pytest

from timesys_ci.cli import main
from timesys_ci.clock import Clock

from .conftest import DEMO_EMAIL, DEMO_KEY
from .support.clock import InstantClock
from .support.scripted_server import Answer, Recorded, ScriptedServer

REPO_ROOT = Path(__file__).resolve().parent.parent
V = "/api/v1/vigiles"


@dataclass
class Run:
    argv: list[str]
    returncode: int
    stdout_bytes: bytes
    stderr: str

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def error_line(self) -> str:
        """The error output, which must be exactly one line."""
        lines = [line for line in self.stderr.splitlines() if ": error: " in line]
        assert len(lines) == 1, self.stderr
        return lines[0]


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a run: no VIGILES_* or proxy variables from the caller, HOME in a tmp dir."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("VIGILES_", "LINUXLINK_")) and "proxy" not in name.lower()
           and name not in ("NO_COLOR", "LOG_LEVEL")}
    env.update(HOME=str(home), PYTHONPATH=str(REPO_ROOT), **extra)
    return env


def run_cli(*argv: str, home: Path, env: Optional[dict[str, str]] = None, secret: str = DEMO_KEY,
            clock: Optional[Clock] = None, process: bool = False) -> Run:
    """The CLI with `argv`, in-process (default; `clock` defaults to a new `InstantClock`) or as a subprocess."""
    environment = clean_env(home, **(env or {}))
    if process:
        assert clock is None, "a subprocess runs on the real clock"
        completed = subprocess.run([sys.executable, "-m", "timesys_ci", *argv], capture_output=True, env=environment,
                                   cwd=str(home), timeout=120)
        run = Run(list(argv), completed.returncode, completed.stdout, completed.stderr.decode("utf-8", "replace"))
    else:
        run = run_in_process(list(argv), environment, home, clock if clock is not None else InstantClock())
    assert secret.encode() not in run.stdout_bytes, "API key on stdout"
    assert secret not in run.stderr, "API key on stderr"
    return run


def run_in_process(argv: list[str], environ: dict[str, str], cwd: Path, clock: Clock) -> Run:
    """`main(argv)` with this environment, working directory and clock, its streams captured; all restored after."""
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace", write_through=True)
    stdin = io.TextIOWrapper(io.BytesIO(b""), encoding="utf-8")
    saved_environ, saved_cwd, saved_streams = dict(os.environ), os.getcwd(), (sys.stdin, sys.stdout, sys.stderr)
    root = logging.getLogger()
    saved_handlers = root.handlers[:]
    try:
        os.environ.clear()
        os.environ.update(environ)
        os.chdir(cwd)
        sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
        root.handlers = []  # as in a new process: warnings of loggers without a handler go to stderr (lastResort)
        try:
            code = main(argv, clock=clock)
        except SystemExit as exc:  # what a process would exit with
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        root.handlers = saved_handlers
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_environ)
    return Run(argv, code, stdout.buffer.getvalue(), stderr.buffer.getvalue().decode("utf-8", "replace"))


@dataclass
class Service:
    """A Vigiles-compatible service for a test: its URL, a key file for it, and what it received."""

    url: str
    key_file: Path
    home: Path
    server: ScriptedServer

    def answer(self, *answers: Answer, default: Optional[Answer] = None) -> None:
        self.server.script.extend(answers)
        if default is not None:
            self.server.default = default

    @property
    def requests(self) -> list[Recorded]:
        return self.server.requests

    def run(self, *argv: str, env: Optional[dict[str, str]] = None, clock: Optional[Clock] = None) -> Run:
        return run_cli("-k", str(self.key_file), *argv, home=self.home, env=env, clock=clock)


def write_key(path: Path, server_url: Optional[str], key_member: str = "organization_key") -> Path:
    content: dict[str, str] = {"email": DEMO_EMAIL, key_member: DEMO_KEY}
    if server_url is not None:
        content["server_url"] = server_url
    path.write_text(json.dumps(content))
    os.chmod(path, 0o600)
    return path


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    home = tmp_path / "home"
    home.mkdir()
    with ScriptedServer() as server:
        yield Service(server.url, write_key(tmp_path / "linuxlink_key", server.url), home, server)


def wire(request: Recorded) -> tuple[str, str, list[tuple[str, str]]]:
    """(method, path, sorted params without email) of a recorded request."""
    parts = urlsplit(request.path)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if request.body:
        pairs += parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
    assert ("email", DEMO_EMAIL) in pairs
    return request.method, parts.path, sorted(pair for pair in pairs if pair[0] != "email")

"""Issue 12 items 6 and 8, and the exit-status table: the conventions a new user expects, as subprocesses."""
from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

import timesys
from timesys_ci.cli import exit_codes, main

from .cli_helpers import REPO_ROOT, Service, run_cli, service, write_key  # noqa: F401 - fixture
from .conftest import DEMO_EMAIL, DEMO_KEY
from .support.scripted_server import Answer

THIN_REPORT = REPO_ROOT / "tests" / "fixtures" / "gate" / "report-thin.json"
E = "timesys-ci: error: "
ANSI_BOLD = "\033[1m"


def test_version_help_hint_and_quiet_verbose(tmp_path: Path) -> None:
    run = run_cli("--version", home=tmp_path)
    assert (run.returncode, run.stdout) == (0, f"timesys-ci {timesys.__version__}\n")
    bare = run_cli(home=tmp_path)
    assert (bare.returncode, bare.stdout, bare.stderr) == (
        2, "", E + "no command given; 'timesys-ci --help' lists the commands\n")
    group = run_cli("manifest", home=tmp_path)
    assert group.error_line == (E + "manifest: the following arguments are required: SUBCOMMAND "
                                "(see 'timesys-ci manifest --help')")
    both = run_cli("-q", "-v", "version", home=tmp_path)
    assert (both.returncode, both.error_line) == (2, E + "-q/--quiet cannot be combined with -v/--verbose or --debug")
    help_text = run_cli("--help", home=tmp_path).stdout
    assert "70 internal error" in " ".join(help_text.split()) and "130 interrupted" in " ".join(help_text.split())


def test_color_per_no_color_and_force_color(tmp_path: Path) -> None:
    """Output is not a terminal here: colour only when forced, never with --color never."""
    def header(*argv: str, **env: str) -> str:
        return run_cli(*argv, "config", "show", home=tmp_path, env=env).stdout.splitlines()[0]

    assert ANSI_BOLD not in header()
    assert ANSI_BOLD in header(FORCE_COLOR="1")
    assert ANSI_BOLD in header(FORCE_COLOR="1", NO_COLOR="")  # an empty NO_COLOR disables nothing
    assert ANSI_BOLD not in header("--color", "never", FORCE_COLOR="1")
    assert ANSI_BOLD in header("--color", "always", NO_COLOR="1")
    assert ANSI_BOLD not in header(FORCE_COLOR="0")


def test_no_format_is_compact_json_also_with_json(tmp_path: Path) -> None:
    run = run_cli("--json", "-f", "version", home=tmp_path)
    assert run.stdout == json.dumps({"version": timesys.__version__}, separators=(",", ":")) + "\n"
    gate = run_cli("-f", "gate", str(THIN_REPORT), "--json", home=tmp_path)
    assert gate.returncode == 1 and len(gate.stdout.splitlines()) == 1 and json.loads(gate.stdout)["gate"]


def test_retries_are_one_short_line_each(service: Service) -> None:
    service.answer(Answer(status=503, body={"message": "busy"}), default=Answer(body={"ok": True}))
    run = service.run("heartbeat")
    assert run.returncode == 0
    [line] = run.stderr.splitlines()
    assert line.startswith("timesys-ci: warning: POST /api/v1/vigiles/heartbeat: HTTP 503; retry 1 of 3 in ")
    service.answer(Answer(status=503, body={"message": "busy"}))
    assert service.run("-q", "heartbeat").stderr == ""


def test_connection_retries_print_no_urllib3_internals(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    key = write_key(tmp_path / "key", f"http://127.0.0.1:{port}")
    run = run_cli("-k", str(key), "heartbeat", home=tmp_path)
    assert run.returncode == 3
    lines = run.stderr.splitlines()
    assert lines[:3] == [f"timesys-ci: warning: POST /api/v1/vigiles/heartbeat: connection refused; retry {n} of 3 in "
                         + line.split(" in ", 1)[1] for n, line in zip((1, 2, 3), lines)]
    assert lines[3] == (E + f"connection to 127.0.0.1:{port} failed: Failed to establish a new connection: "
                        "[Errno 111] Connection refused")
    assert "HTTPConnection" not in run.stderr and "object at 0x" not in run.stderr


def test_kev_and_epss_rules_without_data_warn(tmp_path: Path) -> None:
    run = run_cli("gate", str(THIN_REPORT), "--fail-on", "none", "--fail-on-epss", "0.5", "--fail-on-kev",
                  "--json", str(tmp_path / "g.json"), home=tmp_path)
    assert run.returncode == 0, run.stderr
    # 3 gated: the two "Unfixed" and the "Unfixed, Patch Available" one (every affected category is gated).
    warnings = ["fail-on-epss 0.5 could not apply: none of the 3 gated finding(s) has an EPSS score (give "
                "--epss-scores FILE with FIRST's EPSS CSV)",
                "fail-on-kev could not apply: there is no KEV data for any of the 3 gated finding(s) (give "
                "--kev-catalog FILE with CISA's KEV catalog)"]
    assert [f"warning: {text}" for text in warnings] == [line for line in run.stdout.splitlines()
                                                         if line.startswith("warning:")]
    assert json.loads((tmp_path / "g.json").read_text())["warnings"] == warnings
    quiet = run_cli("-q", "gate", str(THIN_REPORT), home=tmp_path)
    assert (quiet.returncode, quiet.stdout) == (1, "Gate: FAIL, 2 finding(s) (fail-on high)\n")


def test_products_flavour_folder_list_sends_the_product_token(tmp_path: Path) -> None:
    key = tmp_path / "linuxlink_key"
    key.write_text(json.dumps({"email": DEMO_EMAIL, "key": DEMO_KEY}))  # a LinuxLink key: products flavour
    dash = tmp_path / "dashboard_config"
    dash.write_text(json.dumps({"product": "PRD1", "folder": "FLD9"}))
    run = run_cli("--dry-run", "-k", str(key), "-d", str(dash), "folder", "list", home=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.json()["url"] == ("https://linuxlink.timesys.com/api/v1/vigiles/folders?"
                                 "email=jane.doe%40example.com&product_token=PRD1")


def test_empty_list_filtered_by_the_configured_folder_says_so(service: Service, tmp_path: Path) -> None:
    dash = tmp_path / "dash"
    dash.write_text(json.dumps({"group": "G1", "folder": "F1"}))
    service.answer(Answer(body=[]))
    run = service.run("-d", str(dash), "group", "activity_log", "G1")
    assert run.stdout == "(none)\n"
    assert run.stderr == ("timesys-ci: note: only entries of folder F1 (the configured folder) were asked for; "
                          "give -f/--folder-token for another one\n")


@pytest.mark.parametrize("raised, code, message", [
    (KeyboardInterrupt(), exit_codes.INTERRUPTED, E + "interrupted\n"),
    (RuntimeError("boom"), exit_codes.INTERNAL, E + "internal error: RuntimeError: boom\n"),
])
def test_interrupted_and_internal_error_statuses(monkeypatch: pytest.MonkeyPatch, capsys: Any,
                                                 raised: BaseException, code: int, message: str) -> None:
    from timesys_ci.cli import builtins

    def fail(args: Any) -> int:
        raise raised

    monkeypatch.setattr(builtins, "run_version", fail)
    assert main(["version"]) == code
    assert capsys.readouterr().err == message

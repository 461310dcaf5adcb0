"""The command table and what is derived from it: argparse tree, reference spellings, extras, rendering."""
from __future__ import annotations

import inspect
import io
import json
from typing import Any

import pytest

from timesys_ci.cli import main, registry
from timesys_ci.cli.commands import COMMANDS
from timesys_ci.cli.parser import build_parser, leaf_parsers
from timesys_ci.cli.progress import Progress, human_size
from timesys_ci.cli.render import render, use_color
from timesys_ci.cli.table import spellings

# Every command path of the reference CLI (vigiles-api.md 8.4), in its reference spelling.
REFERENCE_COMMANDS = [
    "version", "heartbeat", "test", "about", "manifest list", "manifest info", "manifest download",
    "manifest upload", "manifest delete", "manifest rescan", "manifest latest-report", "manifest move",
    "manifest copy", "manifest custom-score set", "manifest reports", "report download", "report compare",
    "folder list", "folder create", "folder archive", "folder unarchive", "group list_active", "group list_archived",
    "group create", "group delete", "group info", "group archive", "group unarchive", "group settings info",
    "group settings update", "group members list", "group members add", "group members update",
    "group members remove", "group activity_log", "cves search", "cves info", "cves set_status", "cves status",
    "product list", "product create", "product info",
]


def test_table_params_are_library_keywords() -> None:
    for command in COMMANDS:
        accepted = inspect.signature(command.function).parameters
        for arg in command.all_args():
            assert arg.param in accepted, (command.words, arg.param)
        assert command.summary(), command.words


def test_every_reference_command_exists() -> None:
    parser = build_parser()
    for path in REFERENCE_COMMANDS:
        with pytest.raises(SystemExit) as info:
            parser.parse_args([*path.split(), "--help"])
        assert info.value.code == 0, path


@pytest.mark.parametrize("argv, dest, value", [
    (["folder", "list", "--group_token", "G"], "arg_group_token", "G"),
    (["folder", "list", "--folder-token", "F", "--archived_only"], "arg_archived_only", True),
    (["cves", "search", "p", "--ids_only"], "arg_ids_only", True),
    (["cves", "search", "p", "--ids-only"], "arg_ids_only", True),
    (["group", "list-active", "--include_private_workspaces"], "arg_include_private_workspaces", True),
    (["group", "activity-log", "G", "--log_type", "create_note"], "arg_log_type", "create_note"),
    (["cves", "set-status", "all", "CVE-1", "p", "resolved"], "arg_scope", "all"),
    (["manifest", "custom-score", "set", "M", "-p", "x", "--cve-id", "C", "-s", "1", "--verison", "2"],
     "arg_product_version", "2"),
    (["manifest", "custom-score", "set", "M", "-p", "x", "--cve_id", "C", "-s", "1", "--version", "2"],
     "arg_product_version", "2"),
    (["manifest", "upload", "m.json", "--kconfig", "k"], "arg_kernel_config", "k"),
    (["manifest", "upload", "m.json", "-k", "k"], "arg_kernel_config", "k"),
    (["report", "compare", "a", "b", "--remove_whitelist"], "arg_remove_whitelist", True),
    (["report", "compare", "a", "b", "--remove-not-affected"], "arg_remove_not_affected", True),
    (["-k", "key", "-u", "https://h", "-i", "-d", "dash", "-f", "heartbeat"], "key_file", "key"),
    (["heartbeat", "--key-file", "key"], "key_file", "key"),
    (["--url", "https://a", "heartbeat", "--url", "https://b"], "url", "https://b"),
])
def test_reference_spellings(argv: list[str], dest: str, value: Any) -> None:
    assert getattr(build_parser().parse_args(argv), dest) == value


def test_short_globals_only_before_the_command() -> None:
    args = build_parser().parse_args(["-i", "manifest", "info", "M", "-i", "json"])
    assert args.insecure is True and args.arg_file_format == "json"
    args = build_parser().parse_args(["manifest", "info", "M", "--insecure", "--json", "--debug", "--api", "groups"])
    assert (args.insecure, args.json, args.debug, args.api) == (True, True, True, "groups")


def test_spellings() -> None:
    assert spellings("--group_token") == ["--group_token", "--group-token"]
    assert spellings("list-active") == ["list-active", "list_active"]
    assert spellings("heartbeat") == ["heartbeat"]


def test_extra_command_modules(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(registry, "EXTRA_COMMAND_MODULES", ["tests.cli_extra_example"])
    monkeypatch.setenv("HOME", "/nonexistent")
    for name in ("VIGILES_GROUP_TOKEN", "VIGILES_KEY", "VIGILES_KEY_FILE", "VIGILES_DASHBOARD_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    parser = build_parser()
    leaf = next(p for p in leaf_parsers(parser) if p.prog.endswith("example-gate"))
    assert "--json" in leaf._option_string_actions and "--group-token" in leaf._option_string_actions
    assert main(["example-gate", "--json", "--group-token", "GX", "--threshold", "critical"]) == 1
    assert json.loads(capsys.readouterr().out) == {"gate": "failed", "group": "GX", "threshold": "critical"}
    assert main(["--no-such-option", "example-gate"]) == 2


def test_render_human_forms() -> None:
    text = render({"name": "core", "ok": True, "missing": None, "counts": {"unfixed": 3, "kernel": {"fixed": 1}},
                   "tags": [], "rows": [{"a": 1, "b": "x"}, {"a": 22, "c": [1, 2]}], "ids": ["CVE-1", "CVE-2"]})
    assert text.splitlines() == [
        "name:    core", "ok:      true", "missing: -", "counts:", "  unfixed: 3", "  kernel:", "    fixed: 1",
        "tags:    (none)", "rows:", "  A   B  C", "  1   x  -", "  22  -  [1,2]", "ids:", "  CVE-1", "  CVE-2"]
    assert render([]) == "(none)" and render("plain") == "plain"
    assert render([{"a": 1}, "x"]).splitlines() == ["- a: 1", "- x"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_color_and_progress_only_on_terminals() -> None:
    assert use_color(_Terminal(), {}) is True
    assert use_color(_Terminal(), {"NO_COLOR": ""}) is True  # no-color.org: only a non-empty NO_COLOR counts
    assert use_color(_Terminal(), {"NO_COLOR": "1"}) is False
    assert use_color(_Terminal(), {"TERM": "dumb"}) is False
    assert use_color(io.StringIO(), {}) is False
    assert use_color(io.StringIO(), {"FORCE_COLOR": "1", "NO_COLOR": "1"}) is True  # CI logs render ANSI
    assert use_color(io.StringIO(), {"FORCE_COLOR": "0"}) is False
    assert use_color(_Terminal(), {}, mode="never") is False and use_color(io.StringIO(), {}, mode="always")
    quiet = io.StringIO()
    with Progress("uploading x (1 kB)", stream=quiet):
        pass
    assert quiet.getvalue() == ""
    terminal = _Terminal()
    with Progress("uploading x (1 kB)", stream=terminal, interval=0.001):
        pass
    assert "uploading x (1 kB)" in terminal.getvalue() and terminal.getvalue().endswith("\r")
    assert [human_size(n) for n in (12, 1234, 5_600_000)] == ["12 bytes", "1.2 kB", "5.6 MB"]

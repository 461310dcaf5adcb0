"""Every CLI command as a subprocess against the local service, in human and --json mode.

`test_cli_commands.py` checks the exact request each command sends (scripted peer);
here the same commands run against the real local service and must succeed with
sensible output in both modes.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from .cli_helpers import REPO_ROOT, Run, run_cli
from .conftest import LocalVigiles

EXAMPLE = REPO_ROOT / "examples" / "core-image-minimal.vigiles.json"


class Session:
    def __init__(self, local_vigiles: LocalVigiles, home: Path) -> None:
        self.home = home
        self.key_file = local_vigiles.add_user("cli@example.com")
        self.secret = json.loads(self.key_file.read_text())["organization_key"]
        self.env = {"VIGILES_KEY_FILE": str(self.key_file)}

    def run(self, *argv: str, json_mode: bool = False, env: dict[str, str] | None = None) -> Run:
        args = ("--json", *argv) if json_mode else argv
        run = run_cli(*args, home=self.home, env={**self.env, **(env or {})}, secret=self.secret)
        assert run.returncode == 0, f"{argv}: {run.stderr}"
        assert "Traceback" not in run.stderr
        if json_mode:
            run.json()  # valid JSON
        else:
            assert "{'" not in run.stdout, "a Python repr in human output"
        return run


@pytest.fixture
def session(local_vigiles: LocalVigiles, tmp_path: Path) -> Session:
    return Session(local_vigiles, tmp_path)


@pytest.mark.parametrize("json_mode", [False, True], ids=["human", "json"])
def test_every_command_against_the_local_service(session: Session, json_mode: bool, tmp_path: Path) -> None:
    run: Callable[..., Run] = lambda *argv, **kw: session.run(*argv, json_mode=json_mode, **kw)  # noqa: E731
    from timesys import __version__

    assert __version__ in run("version").stdout
    run("heartbeat")
    run("test")
    run("about")
    run("config", "show")
    run("doctor")
    group = session.run("--json", "group", "create", "Team CLI", "-d", "from the CLI").json()["token"]
    run("group", "create", "Sub", "-g", group)
    run("group", "list_active")
    run("group", "list-active", "-p")
    run("group", "info", "-g", group, "-s")
    run("group", "settings", "info", "-g", group)
    run("group", "settings", "update", "-g", group, "-i", "CPE", "Package Name", "-s", "off")
    run("group", "members", "list", group)
    run("group", "members", "add", group, "-e", "other@example.com", "-r", "viewer")
    run("group", "members", "update", group, "-e", "other@example.com", "-r", "editor")
    run("group", "members", "remove", group, "-e", "other@example.com")
    folder = session.run("--json", "folder", "create", "rel", "-g", group).json()["folder_token"]
    run("folder", "list", "--group_token", group)
    run("folder", "list", "-f", folder, "-a")
    run("folder", "archive", folder)
    run("folder", "unarchive", folder)
    env = {"VIGILES_GROUP_TOKEN": group}
    uploaded = session.run("--json", "manifest", "upload", str(EXAMPLE), "-n", "cim", "-e", "description",
                           env=env).json()
    token, report = uploaded["manifest_token"], uploaded["report_token"]
    assert report
    run("manifest", "upload", str(EXAMPLE), "-o", env=env)
    run("manifest", "list", env=env)
    run("manifest", "info", token)
    run("manifest", "info", token, "-f", "spdx")
    run("manifest", "download", token, "-o", str(tmp_path / "m.json"))
    assert (tmp_path / "m.json").read_bytes() == EXAMPLE.read_bytes()
    run("manifest", "rescan", token, "-o")
    run("manifest", "reports", token)
    run("manifest", "latest-report", token, "-e", "published")
    run("manifest", "custom-score", "set", token, "-p", "busybox", "--cve-id", "CVE-2022-48174", "-s", "4.2")
    run("cves", "search", "busybox", "-v", "1.36.1", "--ids_only")
    run("cves", "info", "CVE-2022-48174", "-f", "description,impact")
    run("cves", "set_status", "manifest", "CVE-2022-48174", "busybox", "not_affected", "-j", "code_not_present",
        "-m", token)
    run("cves", "status", "CVE-2022-48174", "busybox", "1.36.1", token)
    run("group", "activity_log", group, "-t", "update_vuln_status")
    second = session.run("--json", "manifest", "rescan", token).json()["report_token"]
    run("report", "compare", report, second, "--remove_not_affected")
    run("report", "download", "csv", second, "-o", str(tmp_path / "r.csv"))
    run("report", "download", "cyclonedx-vex", second, "-o", str(tmp_path / "r.xml"), "--cyclonedx-format", "xml")
    assert (tmp_path / "r.csv").read_text().startswith("package,")
    copied = session.run("--json", "manifest", "copy", token, "-g", group).json()
    copy_token = copied["tokens"][token]
    run("manifest", "move", copy_token, "-f", folder)
    run("manifest", "delete", copy_token, "-c")
    run("group", "archive", group)
    run("group", "list_archived")
    run("group", "unarchive", group)
    run("product", "create", "LinuxLink product", "-d", "old API", env={"VIGILES_API": "products"})
    run("product", "list", env={"VIGILES_API": "products"})
    run("product", "info", "-p", group, env={"VIGILES_API": "products"})
    run("group", "delete", group)
    assert (run("heartbeat").json() == {"ok": True}) if json_mode else "ok" in run("heartbeat").stdout


def test_dry_run_sends_nothing(session: Session, local_vigiles: LocalVigiles) -> None:
    run = session.run("--dry-run", "manifest", "upload", str(EXAMPLE))
    description = run.json()
    assert description["method"] == "POST" and description["url"].endswith("/api/v1/vigiles/manifests")
    assert session.run("--json", "manifest", "list").json() == []

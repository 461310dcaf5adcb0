"""Bad input, service failures and their one-line errors and exit statuses; config show, doctor, --debug."""
from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from .cli_helpers import Service, run_cli, service, write_key  # noqa: F401 - fixture
from .conftest import DEMO_EMAIL, DEMO_KEY
from .support.scripted_server import Answer


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_version_needs_no_key(tmp_path: Path) -> None:
    run = run_cli("version", home=tmp_path)
    assert run.returncode == 0 and run.stdout.strip() and run.stderr == ""
    assert "version" in run_cli("--json", "version", home=tmp_path).json()


def test_no_key_anywhere(tmp_path: Path) -> None:
    run = run_cli("heartbeat", home=tmp_path)
    assert run.returncode == 2
    assert run.error_line.startswith("timesys-ci: error: no API key: use -k/--key-file, set VIGILES_KEY_FILE")


@pytest.mark.parametrize("env, message", [
    ({"VIGILES_KEY": "{not json"}, "VIGILES_KEY: not valid JSON ("),
    ({"VIGILES_KEY": json.dumps({"organization_key": DEMO_KEY})}, "VIGILES_KEY: missing member 'email'"),
    ({"VIGILES_KEY": json.dumps({"email": DEMO_EMAIL, "key": DEMO_KEY}), "VIGILES_INSECURE": "maybe"},
     "VIGILES_INSECURE: expected 1/true/yes/on or 0/false/no/off, not 'maybe'"),
    ({"VIGILES_KEY": json.dumps({"email": DEMO_EMAIL, "key": DEMO_KEY}), "VIGILES_TIMEOUT": "soon"},
     "VIGILES_TIMEOUT: expected a positive number of seconds, not 'soon'"),
    ({"VIGILES_KEY": json.dumps({"email": DEMO_EMAIL, "key": DEMO_KEY}), "VIGILES_API": "enterprise"},
     "VIGILES_API: expected groups or products, not 'enterprise'"),
    ({"VIGILES_DASHBOARD_CONFIG_JSON": '{"folder": "F"}'},
     "VIGILES_DASHBOARD_CONFIG_JSON: missing or empty member 'group' (or 'product')"),
    ({"VIGILES_KEY_FILE": "/nonexistent/key"}, "/nonexistent/key: key file not found"),
])
def test_bad_configuration(tmp_path: Path, env: dict[str, str], message: str) -> None:
    run = run_cli("heartbeat", home=tmp_path, env=env)
    assert run.returncode == 2
    assert run.error_line.startswith(f"timesys-ci: error: {message}")
    assert run.stdout == ""


def test_key_file_errors_name_the_file(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text(json.dumps({"email": DEMO_EMAIL, "organization_key": 7}))
    run = run_cli("-k", str(key), "heartbeat", home=tmp_path)
    assert run.returncode == 2
    assert run.error_line == f"timesys-ci: error: {key}: member 'organization_key' must be a string, not int"


@pytest.mark.parametrize("status, code", [(404, 2), (400, 2), (412, 2), (408, 3), (403, 3), (500, 3)])
def test_answers_caused_by_the_input_exit_2(service: Service, status: int, code: int) -> None:
    """A 4xx the user's input caused (unknown token, bad value) is a usage error; busy, auth and 5xx are the service's."""
    service.answer(Answer(status=status, body={"message": "Manifest not found"}),
                   default=Answer(status=status, body={"message": "Manifest not found"}))
    run = service.run("--timeout", "5", "manifest", "info", "MNFNOPE")
    assert run.returncode == code
    assert run.error_line == f"timesys-ci: error: Vigiles server returned an error: Manifest not found (HTTP {status})"
    assert run.stdout == ""


def test_authentication_failure(service: Service) -> None:
    service.answer(Answer(status=401, body={"message": "Invalid signature"}))
    run = service.run("--json", "heartbeat")
    assert run.returncode == 3 and "Invalid signature (HTTP 401)" in run.error_line and run.stdout == ""


def test_service_down(tmp_path: Path) -> None:
    port = _closed_port()
    key = write_key(tmp_path / "key", f"http://127.0.0.1:{port}")
    run = run_cli("-k", str(key), "--timeout", "2", "heartbeat", home=tmp_path)
    assert run.returncode == 3
    assert run.error_line.startswith(f"timesys-ci: error: connection to 127.0.0.1:{port} failed")


def test_tls_failure(service: Service) -> None:
    # TLS spoken to a plain-HTTP server fails in the handshake.
    https = service.url.replace("http://", "https://")
    run = service.run("--url", https, "heartbeat")
    assert run.returncode == 3
    assert run.error_line.startswith("timesys-ci: error: TLS failure talking to 127.0.0.1:")


def test_usage_errors_are_one_line(service: Service) -> None:
    for argv, text in ((["manifest", "info"], "manifest info: the following arguments are required: manifest-token"),
                       (["report", "download", "docx", "R1", "--stdout"], "argument file-type: invalid choice"),
                       (["--bogus", "heartbeat"], "unrecognized arguments: --bogus"),
                       (["manifest"], "manifest: the following arguments are required: SUBCOMMAND"),
                       ([], "no command given; 'timesys-ci --help' lists the commands")):
        run = service.run(*argv)
        assert run.returncode == 2 and text in run.error_line, (argv, run.stderr)
        assert len(run.stderr.splitlines()) == 1
    assert service.requests == []


def test_unreadable_input_file(service: Service, tmp_path: Path) -> None:
    run = service.run("manifest", "upload", "missing.json")
    assert run.returncode == 2 and run.error_line == "timesys-ci: error: missing.json: manifest file not found"
    binary = tmp_path / "sbom.bin"
    binary.write_bytes(b"\xff\xfe\x00")
    run = service.run("manifest", "upload", str(binary))
    assert run.returncode == 2 and f"{binary}: manifest file is not UTF-8 text" in run.error_line
    sbom = tmp_path / "ok.json"
    sbom.write_text("{}")
    run = service.run("manifest", "upload", str(sbom), "-k", str(tmp_path / "nope.config"))
    assert run.returncode == 2 and "nope.config: kernel config file not found" in run.error_line
    assert service.requests == []


def test_library_parameter_error_is_a_usage_error(service: Service) -> None:
    run = service.run("cves", "status", "CVE-1", "zlib", "", "MNF1")
    assert run.returncode == 2 and run.error_line == "timesys-ci: error: package_version is required"


def test_debug_shows_detail_but_never_the_key(service: Service) -> None:
    service.answer(Answer(status=503), default=Answer(body={"ok": True}))
    run = service.run("--debug", "heartbeat", "--timeout", "5")
    assert run.returncode == 0
    assert "timesys.core.transport debug: POST /api/v1/vigiles/heartbeat -> HTTP 200" in run.stderr
    assert "heartbeat: HTTP 503; retry 1 of 3 in " in run.stderr
    assert run.stderr.count(DEMO_KEY) == 0  # checked by run_cli too


def test_config_show_sources(service: Service, tmp_path: Path) -> None:
    dash = tmp_path / "dash"
    dash.write_text(json.dumps({"group": "GDASH", "folder": "FDASH"}))
    run = service.run("--json", "-d", str(dash), "config", "show", "--timeout", "9",
                      env={"VIGILES_URL": "https://vigiles.example.test", "VIGILES_FOLDER_TOKEN": "FENV"})
    assert run.returncode == 0, run.stderr
    shown = run.json()
    assert shown["key"] == {"value": "<redacted>", "source": "flag --key-file"}
    assert shown["email"]["value"] == DEMO_EMAIL
    assert shown["url"] == {"value": "https://vigiles.example.test", "source": "env VIGILES_URL"}
    assert shown["group_token"] == {"value": "GDASH", "source": f"file {dash}"}
    assert shown["folder_token"] == {"value": "FENV", "source": "env VIGILES_FOLDER_TOKEN"}
    assert shown["timeout"] == {"value": 9.0, "source": "flag --timeout"}
    assert shown["api"]["value"] == "groups"
    human = service.run("config", "show").stdout
    assert human.splitlines()[0].split() == ["SETTING", "VALUE", "SOURCE"]
    assert "<redacted>" in human and "flag --key-file" in human


def test_config_show_without_key(tmp_path: Path) -> None:
    run = run_cli("--json", "config", "show", home=tmp_path)
    assert run.returncode == 0 and run.json()["key"] == {"value": None, "source": "none"}


def test_doctor_all_good(service: Service) -> None:
    run = service.run("--json", "doctor", env={"VIGILES_GROUP_TOKEN": "G1"})
    assert run.returncode == 0, run.stdout
    checks = {check["name"]: check for check in run.json()["checks"]}
    assert run.json()["ok"] is True
    assert checks["key"]["status"] == "ok" and DEMO_EMAIL in checks["key"]["detail"]
    assert checks["heartbeat"]["status"] == "ok" and checks["flavour"]["detail"].startswith("groups")
    assert checks["dashboard config"]["detail"] == "group G1 (env VIGILES_GROUP_TOKEN)"
    human = service.run("doctor")
    assert human.returncode == 0 and "[ok]   heartbeat" in human.stdout
    assert "[warn] dashboard config" in human.stdout and "fix: " in human.stdout


def test_doctor_configuration_problems(tmp_path: Path) -> None:
    run = run_cli("doctor", home=tmp_path, env={"VIGILES_CA_BUNDLE": "/nonexistent/ca.pem"})
    assert run.returncode == 2
    assert "[fail] key" in run.stdout and "no API key" in run.stdout
    assert "[fail] TLS" in run.stdout and "/nonexistent/ca.pem not found" in run.stdout
    assert "[skip] heartbeat" in run.stdout


def test_doctor_service_failure(service: Service) -> None:
    service.answer(default=Answer(status=401, body={"message": "Unknown email"}))
    run = service.run("--json", "doctor")
    assert run.returncode == 3
    heartbeat = run.json()["checks"][-1]
    assert heartbeat["status"] == "fail" and "Unknown email" in heartbeat["detail"]
    assert "email and key" in heartbeat["fix"]


def test_completion_scripts(tmp_path: Path) -> None:
    import shutil
    import subprocess

    bash = run_cli("completion", "bash", home=tmp_path)
    assert bash.returncode == 0 and "complete -o default -F _timesys_ci timesys-ci vigiles" in bash.stdout
    script = tmp_path / "completion.bash"
    script.write_text(bash.stdout)
    if shutil.which("bash"):
        def complete(*words: str) -> set[str]:
            line = " ".join(f"'{w}'" for w in ("timesys-ci",) + words)
            probe = (f"source {script}; COMP_WORDS=({line}); COMP_CWORD={len(words)}; _timesys_ci; "
                     'printf "%s\\n" "${COMPREPLY[@]}"')
            out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout
            return set(out.split())
        assert {"manifest", "group", "doctor", "completion", "heartbeat", "test"} <= complete("")
        assert {"list_active", "list-active", "activity_log", "settings", "members"} <= complete("group", "")
        assert complete("group", "settings", "up") == {"update"}
        assert {"--group_token", "--group-token", "--archived_only"} <= complete("--json", "folder", "list", "--")
        assert {"--verison", "--version"} <= complete("manifest", "custom-score", "set", "--ver")
    zsh = run_cli("completion", "zsh", home=tmp_path)
    assert zsh.stdout.startswith("#compdef timesys-ci vigiles")
    entry = next(line for line in zsh.stdout.splitlines() if line.startswith("  '_ group settings' '"))
    assert {"info", "update", "--help"} <= set(entry.split("' '")[1].rstrip("'").split())

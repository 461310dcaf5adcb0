"""The client library stays light: `import timesys` loads neither pydantic nor the service stack.

Build hooks call the client in loops, so its start-up is paid again and again; pydantic (the CI
layer's settings models) and werkzeug/waitress (the local service) belong to `timesys_ci` only.
Checked in a fresh interpreter, since this test process has imported everything already.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("pydantic", "pydantic_core", "werkzeug", "waitress", "timesys_ci")
PROBE = """
import json, sys
import timesys
from timesys import utilities, vigiles
from timesys.vigiles import cves, folders, groups, manifests, products, reports
timesys.llapi.configure(dry_run=True)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_importing_the_client_library_loads_no_heavy_package() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "timesys" in loaded and "requests" in loaded
    assert not loaded & set(HEAVY), f"import timesys pulled in {sorted(loaded & set(HEAVY))}"


CLI_PROBE = """
import contextlib, io, json, sys
from timesys_ci.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(sys.argv[1:])
print(json.dumps([code, sorted({name.split(".")[0] for name in sys.modules}), sorted(sys.modules)]))
"""


def _cli_modules(*argv: str) -> tuple[int, set[str], set[str]]:
    result = subprocess.run([sys.executable, "-c", CLI_PROBE, *argv], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    code, packages, modules = json.loads(result.stdout.strip().splitlines()[-1])
    return code, set(packages), set(modules)


def test_help_imports_no_command_module() -> None:
    code, packages, modules = _cli_modules("--help")
    assert code == 0
    assert not packages & {"pydantic", "pydantic_core", "requests", "werkzeug", "waitress", "sqlite3"}, packages
    commands = {"timesys_ci.cli.commands", "timesys_ci.cli.builtins", "timesys_ci.job.cli",
                "timesys_ci.buildsystems.entry", "timesys_ci.service.commands", "timesys_ci.kernel.cli",
                "timesys_ci.vulndb.commands", "timesys_ci.settings", "timesys_ci.cli.runtime"}
    assert not modules & commands, sorted(modules & commands)


def test_a_command_help_imports_only_that_command() -> None:
    code, packages, modules = _cli_modules("heartbeat", "--help")
    assert code == 0 and "timesys_ci.cli.commands" in modules
    assert not packages & {"pydantic", "pydantic_core", "werkzeug", "waitress", "sqlite3"}, packages
    assert not modules & {"timesys_ci.job.cli", "timesys_ci.vulndb.commands", "timesys_ci.service.commands",
                          "timesys_ci.settings"}

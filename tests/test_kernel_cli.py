"""`timesys-ci kernel-triage`: through main(argv) and as a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .kernel_support import FIXTURES, config_text, make_build_dir, make_source_tree, write
from .test_kernel_triage import BFQ, MAC, NO_FILES, contract_report
from timesys_ci.cli import main

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.chdir(tmp_path)  # no pyproject.toml policy from the repository
    for name in ("TIMESYS_CI_KERNEL_BUILD_DIR", "TIMESYS_CI_KERNEL_SOURCE_DIR"):
        monkeypatch.delenv(name, raising=False)
    source = make_source_tree(tmp_path / "kernel-source")
    build = make_build_dir(tmp_path / "build", source_dir=source)
    report = write(tmp_path / "report.json", json.dumps(contract_report()))
    return {"source": source, "build": build, "report": report, "dir": tmp_path}


def run(args: list[str]) -> int:
    return main(["kernel-triage", *map(str, args)])


def test_summary_outputs_and_gate_exit(tree: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    triaged, result_json = tree["dir"] / "out" / "triaged.json", tree["dir"] / "triage.json"
    code = run([tree["report"], "--kernel-build-dir", tree["build"], "--cve-records", FIXTURES,
                "-o", triaged, "--json", result_json, "--fail-on", "critical"])
    out = capsys.readouterr().out
    assert "4 kernel CVE(s) matched, 1 set aside as not_affected (code_not_present)" in out
    assert f"{MAC} linux-yocto 6.6.21: not compiled: block/partitions/mac.c" in out
    assert ("kept: 2 (compiled 1, undecided 0, no file data 1, evidence for another kernel 0); 1 already fixed or "
            "triaged before") in out
    assert f"file data: 2 CVE record file(s) under {FIXTURES}" in out
    assert "evidence: kbuild-cmd (strong)" in out
    assert code == 1 and "Gate: FAIL" in out  # the contract report has critical userspace findings
    entries = {e["cve_id"]: e for e in json.loads(triaged.read_text())["cves"]["linux-yocto"]}
    assert entries[MAC]["vuln_status"] == "not_affected" and entries[BFQ]["vuln_status"] is None
    document = json.loads(result_json.read_text())
    assert document["counts"]["set_aside"] == 1 and document["gate"]["passed"] is False
    # The triaged report gates like any saved report: the set-aside CVE no longer counts.
    gate_json = tree["dir"] / "gate.json"
    assert main(["gate", str(triaged), "--scope", "kernel", "--fail-on", "medium", "--json", str(gate_json)]) == 1
    findings = json.loads(gate_json.read_text())["findings"]
    failing = {f["cve_id"] for f in findings if f["outcome"] == "fail"}
    assert failing == {NO_FILES, BFQ}


def test_json_on_stdout_and_passing_gate(tree: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert run([tree["report"], "--kernel-build-dir", tree["build"], "--cve-records", FIXTURES / f"{MAC}.json",
                "--json", "--fail-on", "none"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert {d["cve_id"]: d["outcome"] for d in document["decisions"]} == {
        NO_FILES: "no_file_data", BFQ: "no_file_data", MAC: "set_aside"}


def test_environment_names_the_build_dir_and_kbuild_fallback(tree: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TIMESYS_CI_KERNEL_BUILD_DIR", str(tree["build"]))
    assert run([tree["report"], "--cve-records", FIXTURES, "--json", "--fail-on", "none"]) == 0
    assert json.loads(capsys.readouterr().out)["evidence"][0]["kind"] == "kbuild-cmd"
    monkeypatch.delenv("TIMESYS_CI_KERNEL_BUILD_DIR")
    monkeypatch.setenv("TIMESYS_CI_KERNEL_SOURCE_DIR", str(tree["source"]))
    config = write(tree["dir"] / "linux.config", config_text())
    assert run([tree["report"], "--kernel-config", config, "--cve-records", FIXTURES, "--json",
                "--fail-on", "none"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["evidence"][0]["kind"] == "kconfig-kbuild" and document["counts"]["set_aside"] == 1


@pytest.mark.parametrize("args, message", [
    (["--kernel-build-dir", "missing"], "--kernel-build-dir: not a directory: missing"),
    ([], "no evidence of what was compiled"),
    (["--kernel-build-dir", "{build}", "--cve-records", "missing"], "--cve-records: no such file or directory"),
    (["--kernel-build-dir", "{build}", "--cve-records", "{fixtures}", "--data", "x"], "give one source"),
    (["--kernel-build-dir", "{build}", "--data", "{dir}"], "--data"),
    (["--kernel-build-dir", "{build}", "--cve-records", "{fixtures}", "--spdx", "{report}"],
     "not an SPDX 3 JSON-LD or SPDX 2 JSON document"),
])
def test_errors_are_one_line_exit_2(tree: dict[str, Path], capsys: pytest.CaptureFixture[str], args: list[str],
                                    message: str) -> None:
    values = {"build": tree["build"], "fixtures": FIXTURES, "dir": tree["dir"], "report": tree["report"]}
    assert run([tree["report"], *(arg.format(**values) for arg in args)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("timesys-ci: error: ") and message in err and err.count("\n") == 1


def test_bad_report_exit_2(tree: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tree["dir"] / "bad.json", '{"cves": {"linux-yocto": "x"}}')
    assert run([bad, "--kernel-build-dir", tree["build"], "--cve-records", FIXTURES]) == 2
    assert "bad.json: cves.linux-yocto: must be a list" in capsys.readouterr().err
    assert run([tree["dir"] / "none.json", "--kernel-build-dir", tree["build"], "--cve-records", FIXTURES]) == 2


def test_data_dir_vulnerability_store(tree: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """The file data from the store that `import_paths` (the API) and `service import-vulns` (the CLI) fill."""
    from timesys_ci.vulndb.importer import import_paths
    from timesys_ci.vulndb.store import VulnStore

    data = tree["dir"] / "data"
    vulndb = VulnStore(data / "vulndb.sqlite3")
    import_paths(vulndb, [FIXTURES / f"{MAC}.json"])
    vulndb.close()
    assert run([tree["report"], "--kernel-build-dir", tree["build"], "--data", data, "--json",
                "--fail-on", "none"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert {d["cve_id"]: d["outcome"] for d in document["decisions"]} == {
        NO_FILES: "no_file_data", BFQ: "no_file_data", MAC: "set_aside"}
    assert main(["service", "import-vulns", "--data", str(data), str(FIXTURES / f"{BFQ}.json")]) == 0
    capsys.readouterr()
    assert run([tree["report"], "--kernel-build-dir", tree["build"], "--data", data, "--fail-on", "none"]) == 0
    out = capsys.readouterr().out
    assert f"file data: the vulnerability database {data / 'vulndb.sqlite3'}" in out
    assert f"{BFQ} linux-yocto 6.6.21: block/bfq-iosched.c is compiled" in out
    assert "1 set aside as not_affected" in out


def test_subprocess_exit_status(tree: dict[str, Path]) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("TIMESYS_CI_KERNEL_BUILD_DIR", None)
    command = [sys.executable, "-m", "timesys_ci", "kernel-triage", str(tree["report"]), "--kernel-build-dir",
               str(tree["build"]), "--cve-records", str(FIXTURES)]
    passed = subprocess.run(command + ["--fail-on", "none"], capture_output=True, text=True, env=env, check=False,
                            cwd=tree["dir"])
    assert passed.returncode == 0 and "1 set aside as not_affected (code_not_present)" in passed.stdout
    failed = subprocess.run(command + ["--fail-on", "high"], capture_output=True, text=True, env=env, check=False,
                            cwd=tree["dir"])
    assert failed.returncode == 1 and "Gate: FAIL" in failed.stdout
    usage = subprocess.run(command[:5] + ["--kernel-build-dir", "nowhere"], capture_output=True, text=True, env=env,
                           check=False, cwd=tree["dir"])
    assert usage.returncode == 2 and "Traceback" not in usage.stderr

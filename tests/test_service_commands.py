"""`python -m timesys_ci service ...`: start/stop (a subprocess), add-user, import-vulns (in-process)."""
from __future__ import annotations

import gzip
import json
import os
import signal
import stat
import subprocess
import sys
import zipfile
from pathlib import Path


import timesys
from timesys.core import endpoints

from .cli_helpers import Run, run_cli

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "vulndb"
NVD = FIXTURES / "nvd"
REPO_ROOT_EXAMPLE = ROOT / "examples" / "core-image-minimal.vigiles.json"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def run(*args: str, home: Path, check: bool = True) -> Run:
    """`main(argv)` in-process (the subprocesses are the tests of `service start` and of a missing extra)."""
    result = run_cli(*args, home=home)
    if check and result.returncode != 0:
        raise AssertionError(result.stderr)
    return result


def test_help_for_every_service_command(tmp_path: Path) -> None:
    for words in (["service"], ["service", "start"], ["service", "add-user"], ["service", "import-vulns"]):
        assert run(*words, "--help", home=tmp_path).stdout.startswith("usage:")


def test_add_user_writes_a_private_groups_key_file(tmp_path: Path) -> None:
    key = tmp_path / "keys" / "linuxlink_key"
    out = run("service", "add-user", "dev@example.com", "--data", str(tmp_path / "d"), "--key-file", str(key),
              "--url", "http://127.0.0.1:8123/", home=tmp_path)
    content = json.loads(key.read_text())
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert content["server_url"] == "http://127.0.0.1:8123" and content["email"] == "dev@example.com"
    assert content["organization_key"] not in out.stdout + out.stderr
    again = run("service", "add-user", "dev@example.com", "--data", str(tmp_path / "d"), "--key-file",
                str(tmp_path / "k2"), check=False, home=tmp_path)
    assert again.returncode == 2 and again.stderr.strip() == (
        f"timesys-ci: error: user dev@example.com already exists in {tmp_path / 'd'}")


def test_import_vulns_formats(tmp_path: Path) -> None:
    data = tmp_path / "d"
    record = json.loads((NVD / "CVE-2022-0778.json").read_text())
    record["id"] = "CVE-2099-0001"  # a record the bundled sample does not have
    single = tmp_path / "single.json"
    single.write_text(json.dumps(record))
    page = tmp_path / "page.json.gz"
    second = dict(record, id="CVE-2099-0002")
    page.write_bytes(gzip.compress(json.dumps({"resultsPerPage": 1, "startIndex": 0, "totalResults": 1,
                                               "format": "NVD_CVE", "version": "2.0",
                                               "vulnerabilities": [{"cve": second}]}).encode()))
    feed = tmp_path / "nvdcve-2.0-2099.json"
    feed.write_text(json.dumps({"format": "NVD_CVE", "version": "2.0",
                                "vulnerabilities": [{"cve": dict(record, id="CVE-2099-0003")}]}))
    cve5_dir = tmp_path / "cve5"
    cve5_dir.mkdir()
    (cve5_dir / "CVE-2099-0004.json").write_text(json.dumps({
        "dataType": "CVE_RECORD", "dataVersion": "5.1", "cveMetadata": {"cveId": "CVE-2099-0004", "state": "PUBLISHED"},
        "containers": {"cna": {"providerMetadata": {"shortName": "acme"}, "affected": [
            {"vendor": "Acme", "product": "Widget", "defaultStatus": "unaffected",
             "versions": [{"version": "1.0", "lessThan": "1.4", "status": "affected", "versionType": "semver"}]}]}}}))
    osv_zip = tmp_path / "all.zip"
    with zipfile.ZipFile(osv_zip, "w") as archive:
        archive.write(FIXTURES / "osv" / "misc" / "CURL-CVE-2009-0037.json", "CURL-CVE-2009-0037.json")
    out = run("service", "import-vulns", "--data", str(data), str(single), str(page), str(feed), str(cve5_dir),
              str(osv_zip), "--kev", str(FIXTURES / "kev" / "known_exploited_vulnerabilities.csv"), home=tmp_path)
    assert "imported 1 cve5, 3 nvd, 1 osv, 1460 kev from 6 path(s)" in out.stdout
    assert f"{data}: 313 vulnerability records (nvd 33, cve5 279, osv 1, kev 1460)" in out.stdout  # + the sample
    bad = tmp_path / "bad.json"
    bad.write_text("{ nope")
    failed = run("service", "import-vulns", "--data", str(data), str(bad), check=False, home=tmp_path)
    assert failed.returncode == 2 and str(bad) in failed.stderr and "Traceback" not in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1


def test_start_refuses_remote_host_without_flag(tmp_path: Path) -> None:
    result = run("service", "start", "--data", str(tmp_path / "d"), "--host", "0.0.0.0", check=False, home=tmp_path)
    assert result.returncode == 2 and "--allow-remote" in result.stderr


def test_start_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    data, key = tmp_path / "d", tmp_path / "key"
    run("service", "add-user", "dev@example.com", "--data", str(data), "--key-file", str(key), home=tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "timesys_ci", "service", "start", "--data", str(data), "--port",
                                "0", "--print-url"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        url = process.stdout.readline().strip()  # type: ignore[union-attr]
        client = timesys.LLAPI(key_file_path=key, url=url)
        assert endpoints.HEARTBEAT.call(client) == {"ok": True}
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
    log = process.stderr.read()  # type: ignore[union-attr]
    assert "POST /api/v1/vigiles/heartbeat 200" in log and "stopped" in log


def test_imported_records_are_matched_by_the_next_scan(tmp_path: Path) -> None:
    """import-vulns indexes what it stores: a new record's ranges decide the next upload's findings."""
    data, key = tmp_path / "d", tmp_path / "key"
    record = json.loads((NVD / "CVE-2022-0778.json").read_text())  # openssl 1.0.2 <= v < 1.1.1n, ...
    record["id"] = "CVE-2099-0778"
    (tmp_path / "new.json").write_text(json.dumps(record))
    run("service", "add-user", "dev@example.com", "--data", str(data), "--key-file", str(key), home=tmp_path)
    run("service", "import-vulns", "--data", str(data), str(tmp_path / "new.json"), home=tmp_path)
    manifest = {"manifest_name": "m", "packages": {"openssl": {"name": "openssl", "version": "1.1.1i",
                                                               "cve_product": "openssl:openssl"}}}
    from timesys_ci.service.server import running_service

    with running_service(data) as service:
        client = timesys.LLAPI(key_file_path=key, url=service.url)
        report = endpoints.MANIFEST_UPLOAD.call(client, manifest=json.dumps(manifest), filter_results=False,
                                                upload_only=False)
    found = {entry["cve_id"] for entry in report["cves"]["openssl"]}
    assert {"CVE-2022-0778", "CVE-2099-0778"} <= found  # and the OpenSSL CNA's other CVEs of 1.1.1i


def test_the_cli_works_without_the_service_extra(tmp_path: Path) -> None:
    """`pip install .` without [service]: every other command works; the service ones say what to install."""
    # A None entry in sys.modules makes both `import` and `importlib.util.find_spec` see no such package.
    probe = ("import sys; sys.modules['waitress'] = sys.modules['werkzeug'] = None; "
             "from timesys_ci.cli import main; sys.exit(main(sys.argv[1:]))")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, env=ENV,
                              timeout=120)

    assert cli("--help").returncode == 0
    assert cli("version").returncode == 0
    for args in (("service", "start", "--data", str(tmp_path)), ("upload", "--local", str(REPO_ROOT_EXAMPLE))):
        result = cli(*args)
        assert result.returncode == 2, result.stderr
        assert "needs the service extra (werkzeug is missing): pip install 'timesys-ci[service]'" in result.stderr
        assert "Traceback" not in result.stderr


def test_a_missing_licence_or_purl_library_is_named_like_the_web_stack() -> None:
    """license-expression and packageurl-python belong to the service extra: `upload --local` names the missing one."""
    for module in ("license_expression", "packageurl"):
        probe = (f"import sys; sys.modules[{module!r}] = None; "
                 "from timesys_ci.cli import main; sys.exit(main(sys.argv[1:]))")
        result = subprocess.run([sys.executable, "-c", probe, "upload", "--local", str(REPO_ROOT_EXAMPLE)],
                                capture_output=True, text=True, env=ENV, timeout=120)
        assert result.returncode == 2, result.stderr
        assert f"needs the service extra ({module} is missing)" in result.stderr and "Traceback" not in result.stderr

"""The `db` commands through `main(argv)` and as subprocesses: output, exit statuses, a killed update,
and the freshness warning of `upload --local`."""
from __future__ import annotations

import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from timesys_ci.cli import main
from timesys_ci.vulndb import dbfile
from timesys_ci.vulndb.state import SourceState, format_time, utc_now, write_states

from .cli_helpers import REPO_ROOT, clean_env, run_cli
from .db_helpers import db_digest, states
from .support.feed_mirror import FeedMirror

EXAMPLE = REPO_ROOT / "examples" / "core-image-minimal.vigiles.json"


def feed_flags(mirror: FeedMirror) -> list[str]:
    return [flag for source, url in mirror.urls.items() for flag in ("--feed-url", f"{source}={url}")]


@pytest.fixture
def mirror() -> FeedMirror:
    with FeedMirror() as server:
        yield server


def test_update_status_export_import_through_main(mirror: FeedMirror, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    data, lab = tmp_path / "connected", tmp_path / "lab"
    assert main(["db", "update", "--data", str(data), "--source", "nvd,kev,epss", *feed_flags(mirror)]) == 0
    out = capsys.readouterr().out.splitlines()
    # Not a terminal: one line per source as it is fetched, then what was imported.
    assert out[:3] == ["nvd: fetched all CVEs: 30 records in 1 page(s)",
                       "kev: fetched known_exploited_vulnerabilities.json: 1460 entries",
                       "epss: fetched epss_scores-current.csv.gz: 150 entries"]
    assert out[-1].endswith("vulndb.sqlite3: 30 NVD records, 0 CVE 5 records, 0 OSV records, 1460 KEV entries, "
                           "150 EPSS scores")

    assert main(["db", "status", "--data", str(data), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["counts"] == {"nvd": 30, "cve5": 0, "osv": 0, "kev": 1460, "epss": 150} and status["warning"] is None
    assert {row["source"]: row["records"] for row in status["sources"]} == {"nvd": 30, "kev": 1460, "epss": 150}
    assert all(row["age"] == "less than an hour old" for row in status["sources"])

    export = tmp_path / "carry" / "vulndb.zip"
    assert main(["db", "export", str(export), "--data", str(data)]) == 0
    printed = capsys.readouterr().out
    checksum = printed.split("sha256 ")[1].split()[0]
    assert main(["db", "import", str(export), "--data", str(lab), "--sha256", checksum]) == 0
    assert "30 NVD records, 0 CVE 5 records, 0 OSV records, 1460 KEV entries, 150 EPSS scores" in \
        capsys.readouterr().out
    assert main(["db", "status", "--data", str(lab)]) == 0
    human = capsys.readouterr().out
    assert "imported from vulndb.zip" in human and "freshness: ok" in human and "nvd" in human


def test_an_unreachable_feed_exits_3_after_retries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from .support.clock import FakeClock

    clock = FakeClock()  # the back-off is real, the waiting is not
    code = main(["db", "update", "--data", str(tmp_path), "--source", "kev", "--feed-url",
                 "kev=http://127.0.0.1:9/kev.json"], clock=clock)
    err = capsys.readouterr().err
    assert code == 3 and "timesys-ci: error: 127.0.0.1:9/kev.json" in err and len(clock.sleeps) == 5
    assert err.count("retrying in") == 5  # one warning line per retry


def test_exit_statuses_and_one_line_errors(mirror: FeedMirror, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"TIMESYS_CI_CACHE": str(tmp_path / "cache"), **mirror.env()}
    run = run_cli("db", "update", "--data", str(data), "--source", "nvd,kev", home=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    before = db_digest(data)

    bogus = run_cli("db", "update", "--data", str(data), "--source", "nvd,bogus", home=tmp_path, env=env)
    assert bogus.returncode == 2 and "unknown source bogus" in bogus.error_line
    url = run_cli("db", "update", "--data", str(data), "--feed-url", "kev:http://x", home=tmp_path, env=env)
    assert url.returncode == 2 and "expected SOURCE=URL" in url.error_line

    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(b"PK\x03\x04" + os.urandom(2000))
    refused = run_cli("db", "import", str(corrupt), "--data", str(data), home=tmp_path, env=env)
    assert refused.returncode == 2 and "nothing imported" in refused.error_line
    assert "Traceback" not in refused.stderr
    assert db_digest(data) == before  # every failure above left the database as it was

    empty = run_cli("db", "status", "--data", str(tmp_path / "none"), home=tmp_path, env=env)
    assert empty.returncode == 0 and "no vulnerability database yet" in empty.stdout


def test_nvd_api_key_is_never_printed(mirror: FeedMirror, tmp_path: Path) -> None:
    key = "nvd-key-SECRET-0123456789"
    mirror.nvd_api_keys = {key}
    env = {"NVD_API_KEY": key, **mirror.env()}
    run = run_cli("--debug", "db", "update", "--data", str(tmp_path / "d"), "--source", "nvd", home=tmp_path,
                  env=env, secret=key)
    assert run.returncode == 0, run.stderr
    assert mirror.requested("/nvd/")[0].headers["apikey"] == key
    mirror.nvd_api_keys = {"another"}
    refused = run_cli("--debug", "db", "update", "--data", str(tmp_path / "d"), "--source", "nvd", home=tmp_path,
                      env=env, secret=key)
    # NVD's 404 + message: the configured key is wrong, a configuration error.
    assert refused.returncode == 2 and "Invalid apiKey" in refused.error_line


def _big_epss(rows: int) -> bytes:
    rng = random.Random(7)
    lines = ["#model_version:v2025.03.14,score_date:2025-06-02T00:00:00Z", "cve,epss,percentile"]
    lines += [f"CVE-2099-{n:06d},{rng.random():.5f},{rng.random():.5f}" for n in range(rows)]
    return gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)


def test_a_killed_update_loses_nothing_and_the_next_run_resumes(mirror: FeedMirror, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = clean_env(tmp_path, **mirror.env())
    command = [sys.executable, "-m", "timesys_ci", "db", "update", "--data", str(data)]
    subprocess.run([*command, "--source", "kev"], env=env, check=True, capture_output=True, timeout=120)
    before = db_digest(data)
    big = _big_epss(60_000)
    mirror.set_file("/epss/epss_scores-current.csv.gz", big)
    mirror.fault("/epss/", chunk_delay=0.003)  # about 3 s per MB: time to kill it mid-way
    mirror.clear_log()

    process = subprocess.Popen([*command, "--source", "nvd,epss"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    part = data / "feeds" / "epss" / "epss_scores-current.csv.gz.part"
    deadline = time.monotonic() + 60
    while not (part.exists() and part.stat().st_size > 100_000) and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    kept = part.stat().st_size
    assert 100_000 < kept < len(big)
    assert db_digest(data) == before  # the previous database, untouched
    assert json.loads((data / "feeds" / "nvd" / "pending.json").read_text())["window"] == 1  # NVD was done

    mirror.clear_log()
    finished = subprocess.run([*command, "--source", "nvd,epss"], env=env, capture_output=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    assert not mirror.requested("/nvd/")  # its pages survived the kill
    (resumed,) = mirror.requested("/epss/")
    assert resumed.status == 206 and resumed.headers["range"] == f"bytes={kept}-"
    assert states(data)["epss"].records == 60_000 and states(data)["nvd"].records == 30
    assert states(data)["kev"].records == 1460  # what was there before is still there


# -- upload --local -------------------------------------------------------------------------------------


def _set_updated(data: Path, days_ago: float, source: str = "nvd") -> None:
    """Pretend `source` was last synced `days_ago`."""
    import sqlite3

    connection = sqlite3.connect(dbfile.vulndb_path(data))
    with connection:
        write_states(connection, [SourceState(source, format_time(utc_now() - timedelta(days=days_ago)), records=1)])
    connection.close()


def test_upload_local_warns_about_stale_or_sample_data(mirror: FeedMirror, tmp_path: Path) -> None:
    data = tmp_path / "local"
    upload = ["upload", "--local", "--local-data", str(data), str(EXAMPLE), "--fail-on", "none"]
    sample = run_cli(*upload, home=tmp_path)
    assert sample.returncode == 0
    assert "warning: the local vulnerability database holds only the bundled sample" in sample.stdout
    assert sample.stdout.index("warning:") < sample.stdout.index("Gate: PASS")

    refused = run_cli(*upload, "--require-fresh-db", home=tmp_path)
    assert refused.returncode == 2 and "--require-fresh-db: the local vulnerability database holds only" \
        in refused.error_line
    assert "Gate:" not in refused.stdout  # stopped before anything was uploaded

    assert main(["db", "update", "--data", str(data), "--source", "kev", *feed_flags(mirror)]) == 0
    _set_updated(data, days_ago=10, source="kev")
    stale = run_cli(*upload, "--json", home=tmp_path)
    assert stale.returncode == 0
    (warning,) = stale.json()["warnings"]
    assert warning.startswith("the local vulnerability data is older than 7 days (--max-db-age): kev (10 days old)")
    assert run_cli(*upload, "--max-db-age", "2w", "--require-fresh-db", home=tmp_path).returncode == 0

    _set_updated(data, days_ago=0.5, source="kev")
    fresh = run_cli(*upload, "--require-fresh-db", home=tmp_path)
    assert fresh.returncode == 0 and "warning:" not in fresh.stdout


def test_freshness_flags_need_local(tmp_path: Path) -> None:
    run = run_cli("upload", str(EXAMPLE), "--require-fresh-db", home=tmp_path)
    assert run.returncode == 2 and "--require-fresh-db applies only with --local" in run.error_line
    bad = run_cli("upload", "--local", str(EXAMPLE), "--max-db-age", "soon", home=tmp_path)
    assert bad.returncode == 2 and "--max-db-age" in bad.error_line


class _Terminal:
    """A stderr that says it is a terminal."""

    def __init__(self) -> None:
        import io

        self.buffer = io.StringIO()

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return self.buffer.write(text)

    def flush(self) -> None:
        pass


def test_progress_bar_on_a_terminal_and_status_warnings(mirror: FeedMirror, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from .db_helpers import first_day

    first_day(mirror)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["db", "update", "--data", str(tmp_path), "--source", "cve5,epss", *feed_flags(mirror)]) == 0
    drawn = terminal.buffer.getvalue()
    assert "\r" in drawn and "cve5 2025-05-31_all_CVEs_at_midnight.zip.zip [" in drawn and "100%" in drawn
    assert "cve5: fetched 2 asset(s)" in drawn  # the source's line replaces its bar
    monkeypatch.undo()
    capsys.readouterr()

    _set_updated(tmp_path, days_ago=3)
    assert main(["db", "status", "--data", str(tmp_path), "--max-db-age", "36h"]) == 0
    out = capsys.readouterr().out
    assert "warning: the local vulnerability data is older than 36 h (--max-db-age): nvd (3 days old)" in out
    assert main(["db", "status", "--data", str(tmp_path), "--max-db-age", "5d"]) == 0
    assert "freshness: ok" in capsys.readouterr().out


def test_update_export_import_then_upload_local_gates_on_that_data(mirror: FeedMirror, tmp_path: Path) -> None:
    """The README's path: `db update` on a connected machine, `db export`, `db import` in a lab, `upload --local`
    there -- and the scan really uses the imported data (a CNA record the bundled sample cannot know)."""
    from .support.feed_mirror import EPOCH, cve5_day, cve5_records

    records = cve5_records()
    newer = json.loads(json.dumps(records["CVE-2024-9143"]))
    newer["cveMetadata"]["cveId"] = "CVE-2099-9143"  # the OpenSSL CNA's ranges under an id no sample has
    cve5_day(mirror, EPOCH, baseline=records, hourly={"0100Z": {"CVE-2099-9143": newer}})
    connected, lab, export = tmp_path / "connected", tmp_path / "lab", tmp_path / "usb" / "vulndb.zip"
    assert main(["db", "update", "--data", str(connected), "--source", "cve5,kev", *feed_flags(mirror)]) == 0
    assert main(["db", "export", str(export), "--data", str(connected)]) == 0

    assert run_cli("db", "import", str(export), "--data", str(lab), home=tmp_path).returncode == 0
    run = run_cli("upload", "--local", "--local-data", str(lab), str(EXAMPLE), "--fail-on", "none",
                  "--require-fresh-db", "--json", home=tmp_path)
    assert run.returncode == 0, run.stderr
    result = run.json()
    found = {(finding["cve_id"], finding["package"]) for finding in result["findings"]}
    assert ("CVE-2099-9143", "openssl") in found
    assert result["warnings"] == []


def test_db_commands_without_the_service_extra_say_what_to_install(tmp_path: Path) -> None:
    probe = ("import sys; sys.modules['packageurl'] = None; "
             "from timesys_ci.cli import main; sys.exit(main(sys.argv[1:]))")
    for argv in (["db", "status", "--data", str(tmp_path)], ["db", "import", str(tmp_path / "x.zip")]):
        result = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True,
                                env=clean_env(tmp_path), timeout=120)
        assert result.returncode == 2 and "pip install 'timesys-ci[service]'" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_a_data_dir_that_is_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    afile = tmp_path / "file"
    afile.write_text("x")
    assert main(["db", "status", "--data", str(afile / "sub")]) == 2
    assert "is not a directory" in capsys.readouterr().err

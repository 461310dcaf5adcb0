"""`db update` against the loopback feed mirror: first run, incremental runs, faults, rate limits, resume.

The update runs in-process with a fake clock, so NVD's rate limit and every back-off
are checked without sleeping; the mirror records every request, so the tests assert
exactly what a second run asked for.
"""
from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path

import pytest

from timesys.exceptions import ConnectionFailedError, ParameterError
from timesys_ci.vulndb import dbfile
from timesys_ci.vulndb.feeds import cve5, nvd, osv
from timesys_ci.vulndb.feeds.http import FeedDataError, FeedHTTPError, RateLimiter
from timesys_ci.vulndb.state import format_time, parse_time

from .db_helpers import FakeClock, db_digest, first_day, record_ids, run_update, states
from .support.feed_mirror import EPOCH, FeedMirror, cve5_day, cve5_delta, epss_gz

NVD = "/nvd/rest/json/cves/2.0"
OBJECTS = "/objects/"


@pytest.fixture
def mirror() -> FeedMirror:
    with FeedMirror(nvd_max_page=10) as server:
        yield server


def test_first_run_fetches_each_source_in_its_real_shape(mirror: FeedMirror, tmp_path: Path) -> None:
    first_day(mirror)
    clock = FakeClock()
    summary = run_update(mirror, tmp_path, clock, osv_ecosystems=["AlmaLinux"])

    # NVD: every CVE, page after page, the next index from what the server returned (it caps at 10).
    pages = mirror.requested(NVD)
    assert [r.query["startIndex"] for r in pages] == [["0"], ["10"], ["20"]]
    assert all(r.query["resultsPerPage"] == ["2000"] and "lastModStartDate" not in r.query for r in pages)
    # CVE List V5: the releases listing, the midnight baseline and only the newest (cumulative) hourly delta.
    downloads = [r.path.rsplit("/", 1)[1] for r in mirror.requested(OBJECTS)]
    assert downloads == ["2025-05-31_all_CVEs_at_midnight.zip.zip", "2025-06-01_delta_CVEs_at_0500Z.zip"]
    assert mirror.requested("/github/repos/")[0].query["per_page"] == ["100"]
    # OSV: the names are checked, then the ecosystem's all.zip.
    assert [r.path for r in mirror.requested("/osv/")] == ["/osv/ecosystems.txt", "/osv/AlmaLinux/all.zip"]

    assert summary.counts == {"nvd": 30, "cve5": 10, "osv": 6, "kev": 1460, "epss": 150}
    assert set(record_ids(tmp_path, "nvd")) >= {"CVE-2024-36971", "CVE-2022-0778", "CVE-2018-1000500"}
    # The baseline's nested cves.zip and the delta were imported: 8 + 2 CNA records.
    assert len(record_ids(tmp_path, "cve5")) == 10 and "ALSA-2022:1065" in record_ids(tmp_path, "osv")
    found = states(tmp_path)
    assert set(found) == {"nvd", "cve5", "kev", "epss", "osv:AlmaLinux"}
    assert found["nvd"].cursor == {"last_mod_start": "2025-06-01T12:00:00Z"}  # the server's time of the run
    assert found["cve5"].cursor["last_asset"] == "2025-06-01_delta_CVEs_at_0500Z.zip"
    assert found["kev"].data_as_of == "2025-11-14T14:00:52.3190Z" and found["kev"].etag
    assert found["epss"].cursor == {"model_version": "v2025.03.14"}
    assert found["osv:AlmaLinux"].cursor == {"modified": "2023-03-23T17:30:20Z"}  # the newest record in the zip
    # Nothing is left in the raw cache once the database holds the data.
    assert not [p for p in (tmp_path / "feeds").rglob("*") if p.is_file()]


def test_second_run_fetches_only_what_changed(mirror: FeedMirror, tmp_path: Path) -> None:
    records = first_day(mirror)
    clock = FakeClock()
    run_update(mirror, tmp_path, clock, osv_ecosystems=["AlmaLinux"])

    # A day later: two NVD records modified, the rest of 2025-06-01 and the first hour of 06-02 in
    # CVE List V5, one OSV record changed (nanosecond time), a new EPSS file, KEV unchanged.
    later = EPOCH + timedelta(days=1)
    mirror.now = later
    clock.advance(days=1)
    mirror.touch_nvd("CVE-2024-36971", EPOCH - timedelta(hours=3))  # before the last run: not sent again
    mirror.touch_nvd("CVE-2022-0778", EPOCH + timedelta(hours=20))
    ids = sorted(records)
    cve5_day(mirror, EPOCH, end_of_day={i: records[i] for i in ids[8:11]})
    cve5_day(mirror, later, hourly={"0100Z": {ids[11]: records[ids[11]]}})
    changed = dict(mirror.osv["AlmaLinux"]["ALSA-2022:1065"], modified="2025-06-01T18:00:00.123456789Z")
    mirror.set_osv("AlmaLinux", changed)
    mirror.set_file("/epss/epss_scores-current.csv.gz", epss_gz("2025-06-02"), later)
    mirror.clear_log()

    run_update(mirror, tmp_path, clock)  # the ecosystems updated before are updated again

    (page,) = mirror.requested(NVD)
    assert page.raw_query.endswith("lastModStartDate=2025-06-01T12:00:00.000%2B00:00"
                                   "&lastModEndDate=2025-06-02T12:00:00.000%2B00:00")
    assert states(tmp_path)["nvd"].changed == 1  # CVE-2022-0778 only
    downloads = [r.path.rsplit("/", 1)[1] for r in mirror.requested(OBJECTS)]
    assert downloads == ["2025-06-01_delta_CVEs_at_end_of_day.zip", "2025-06-02_delta_CVEs_at_0100Z.zip"]
    assert [r.path for r in mirror.requested("/osv/")] == [
        "/osv/ecosystems.txt", "/osv/AlmaLinux/modified_id.csv", "/osv/AlmaLinux/ALSA-2022:1065.json"]
    (kev,) = mirror.requested("/kev/")
    assert kev.status == 304 and kev.headers["if-none-match"]
    (epss,) = mirror.requested("/epss/")
    assert epss.status == 200 and epss.headers["if-none-match"]
    found = states(tmp_path)
    assert found["cve5"].cursor["last_asset"] == "2025-06-02_delta_CVEs_at_0100Z.zip"
    assert found["osv:AlmaLinux"].cursor == {"modified": "2025-06-01T18:00:00.123456789Z"}
    assert found["epss"].data_as_of == "2025-06-02T00:00:00Z"
    assert found["kev"].changed == 0
    # The new data is in the database: the day's last deltas' records, the changed OSV record.
    assert len(record_ids(tmp_path, "cve5")) == 12
    assert record_ids(tmp_path, "osv")["ALSA-2022:1065"].startswith("2025-06-01T18:00:00")
    assert record_ids(tmp_path, "nvd")["CVE-2022-0778"].startswith("2025-06-02T08:00:00")

    # Nothing new: one NVD page with no results, the listing, conditional requests; no download at all.
    mirror.clear_log()
    clock.advance(hours=1)
    before = dbfile.vulndb_path(tmp_path).stat().st_ino
    run_update(mirror, tmp_path, clock)
    assert not mirror.requested(OBJECTS)
    assert [r.status for r in mirror.requested("/kev/") + mirror.requested("/epss/")] == [304, 304]
    assert [r.path for r in mirror.requested("/osv/")] == ["/osv/ecosystems.txt", "/osv/AlmaLinux/modified_id.csv"]
    assert len(mirror.requested(NVD)) == 1
    # Only "checked at" changed: written in place, no copy of the database swapped in.
    assert dbfile.vulndb_path(tmp_path).stat().st_ino == before
    assert states(tmp_path)["kev"].updated == format_time(clock.now())


def test_nvd_windows_are_at_most_120_days(mirror: FeedMirror, tmp_path: Path) -> None:
    clock = FakeClock()
    run_update(mirror, tmp_path, clock, sources=["nvd"])
    clock.advance(days=300)
    mirror.now = clock.now()
    mirror.clear_log()
    run_update(mirror, tmp_path, clock, sources=["nvd"])
    windows = [(parse_time(r.query["lastModStartDate"][0]), parse_time(r.query["lastModEndDate"][0]))
               for r in mirror.requested(NVD)]
    assert len(windows) == 3 and all(r.status == 200 for r in mirror.requested(NVD))
    assert all(end - start <= timedelta(days=120) for start, end in windows)
    assert windows[0][0] == EPOCH and windows[-1][1] == clock.now().replace(microsecond=0)
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:]))  # no gap between windows


def test_rate_limiter_keeps_any_30_seconds_under_the_limit() -> None:
    clock = FakeClock()
    limiter = RateLimiter(5, 30.0, clock)
    times = []
    for _ in range(12):
        limiter.acquire()
        times.append(clock.monotonic())
    assert times == [0.0] * 5 + [30.0] * 5 + [60.0] * 2
    assert all(sum(1 for t in times if start <= t < start + 30) <= 5 for start in times)


def test_nvd_rate_limits_without_and_with_a_key(tmp_path: Path) -> None:
    with FeedMirror(nvd_max_page=1, nvd_api_keys={"k-123"}) as mirror:
        clock = FakeClock()
        run_update(mirror, tmp_path / "nokey", clock, sources=["nvd"])
        assert len(mirror.requested(NVD)) == 30
        assert sum(clock.sleeps) == pytest.approx(150.0)  # 6 bursts of 5, 30 s apart
        assert all("apikey" not in r.headers for r in mirror.requested(NVD))

        mirror.clear_log()
        keyed = FakeClock()
        run_update(mirror, tmp_path / "key", keyed, sources=["nvd"], nvd_api_key="k-123")
        assert len(mirror.requested(NVD)) == 30 and keyed.sleeps == []  # 50 per 30 s
        assert {r.headers["apikey"] for r in mirror.requested(NVD)} == {"k-123"}
        assert all("k-123" not in r.raw_query for r in mirror.requested(NVD))  # a header, never in the URL


def test_invalid_api_key_is_nvds_404_message_and_nothing_changes(tmp_path: Path) -> None:
    with FeedMirror(nvd_api_keys={"good"}) as mirror:
        with pytest.raises(FeedHTTPError, match="HTTP 404: Invalid apiKey") as caught:
            run_update(mirror, tmp_path, FakeClock(), sources=["nvd", "kev"], nvd_api_key="wrong-key-xyz")
        assert "wrong-key-xyz" not in str(caught.value)
        assert not dbfile.vulndb_path(tmp_path).exists()


def test_429_and_503_are_retried_after_retry_after(mirror: FeedMirror, tmp_path: Path) -> None:
    mirror.fault(NVD, status=429, headers={"Retry-After": "7"})
    mirror.fault("/kev/", status=503, headers={"Retry-After": "3"})
    mirror.fault("/epss/", status=502)
    clock = FakeClock()
    run_update(mirror, tmp_path, clock, sources=["nvd", "kev", "epss"])
    assert 7.0 in clock.sleeps and 3.0 in clock.sleeps
    assert [r.status for r in mirror.requested("/kev/")] == [503, 200]
    assert [r.status for r in mirror.requested("/epss/")] == [502, 200]
    assert states(tmp_path)["kev"].records == 1460


def test_a_connection_dropped_mid_download_is_resumed_with_range(mirror: FeedMirror, tmp_path: Path) -> None:
    first_day(mirror)
    mirror.fault(OBJECTS + "cve_2025-06-01_0000Z/", drop_after=700)
    mirror.fault(NVD, drop_after=500)  # a JSON page cut off: asked again
    run_update(mirror, tmp_path, FakeClock(), sources=["nvd", "cve5"])
    baseline = mirror.requested(OBJECTS + "cve_2025-06-01_0000Z/")
    assert [r.status for r in baseline] == [200, 206]
    assert baseline[1].headers["range"] == "bytes=700-" and baseline[1].headers["if-range"].startswith('"')
    assert states(tmp_path)["cve5"].cursor["baseline"] == "2025-05-31_all_CVEs_at_midnight.zip.zip"
    assert len(mirror.requested(NVD)) == 4 and len(record_ids(tmp_path, "nvd")) == 30


def test_a_failed_run_keeps_the_database_and_the_next_run_reuses_its_downloads(
        mirror: FeedMirror, tmp_path: Path) -> None:
    clock = FakeClock()
    run_update(mirror, tmp_path, clock, sources=["nvd", "kev", "epss"])
    before = db_digest(tmp_path)
    clock.advance(days=1)
    mirror.now = clock.now()
    mirror.touch_nvd("CVE-2024-36971", clock.now() - timedelta(hours=1))
    mirror.set_file("/epss/epss_scores-current.csv.gz", epss_gz("2025-06-02"), clock.now())
    mirror.fault("/kev/", status=500, times=99)
    with pytest.raises(FeedHTTPError, match="HTTP 500"):
        run_update(mirror, tmp_path, clock, sources=["nvd", "epss", "kev"])
    assert db_digest(tmp_path) == before  # not a byte changed
    assert (tmp_path / "feeds" / "epss" / "epss_scores-current.csv.gz").exists()

    mirror.faults.clear()
    mirror.clear_log()
    run_update(mirror, tmp_path, clock, sources=["nvd", "epss", "kev"])
    assert not mirror.requested(NVD)  # its pages were complete: imported without asking again
    (epss,) = mirror.requested("/epss/")
    assert epss.status == 304  # the copy downloaded last time is offered, and reused
    assert states(tmp_path)["epss"].data_as_of == "2025-06-02T00:00:00Z"
    assert states(tmp_path)["nvd"].changed == 1


def test_corrupt_feed_data_is_refused_and_nothing_changes(mirror: FeedMirror, tmp_path: Path) -> None:
    run_update(mirror, tmp_path, FakeClock(), sources=["kev"])
    before = db_digest(tmp_path)
    catalog = json.loads(mirror.files["/kev/known_exploited_vulnerabilities.json"].data)
    catalog["count"] = 5000
    mirror.set_file("/kev/known_exploited_vulnerabilities.json", json.dumps(catalog).encode())
    with pytest.raises(FeedDataError, match="count says 5000 entries, the catalog has 1460"):
        run_update(mirror, tmp_path, FakeClock(), sources=["kev"])
    mirror.set_file("/epss/epss_scores-current.csv.gz", gzip.compress(b"cve,score\nCVE-1,2\n"))
    with pytest.raises(FeedDataError, match="expected the header cve,epss"):
        run_update(mirror, tmp_path, FakeClock(), sources=["epss"])
    assert db_digest(tmp_path) == before
    assert not (tmp_path / "feeds" / "kev").exists()  # a file that failed its check is not kept


def test_an_empty_delta_advances_the_cursor(mirror: FeedMirror, tmp_path: Path) -> None:
    first_day(mirror)
    clock = FakeClock()
    run_update(mirror, tmp_path, clock, sources=["cve5"])
    mirror.add_release("cve_2025-06-01_0600Z", EPOCH.replace(hour=6, minute=3),
                       {"2025-06-01_delta_CVEs_at_0600Z.zip": cve5_delta({})})
    mirror.clear_log()
    run_update(mirror, tmp_path, clock, sources=["cve5"])
    assert [r.path.rsplit("/", 1)[1] for r in mirror.requested(OBJECTS)] == ["2025-06-01_delta_CVEs_at_0600Z.zip"]
    assert states(tmp_path)["cve5"].cursor["last_asset"] == "2025-06-01_delta_CVEs_at_0600Z.zip"
    assert states(tmp_path)["cve5"].changed == 0


def test_a_gap_in_the_deltas_falls_back_to_the_newest_baseline(mirror: FeedMirror, tmp_path: Path) -> None:
    records = first_day(mirror)
    clock = FakeClock()
    run_update(mirror, tmp_path, clock, sources=["cve5"])
    # Three days later GitHub lists 06-04's releases only: the rest of 06-01 is gone.
    day = EPOCH + timedelta(days=3)
    mirror.releases.clear()
    cve5_day(mirror, day, baseline=records, hourly={"0200Z": {}})
    mirror.clear_log()
    run_update(mirror, tmp_path, clock, sources=["cve5"])
    assert [r.path.rsplit("/", 1)[1] for r in mirror.requested(OBJECTS)] == [
        "2025-06-03_all_CVEs_at_midnight.zip.zip", "2025-06-04_delta_CVEs_at_0200Z.zip"]
    assert states(tmp_path)["cve5"].cursor["baseline"] == "2025-06-03_all_CVEs_at_midnight.zip.zip"


def _asset(name: str, hour: int, day: int = 1) -> cve5.Asset:
    found = cve5.assets_of([{"published_at": format_time(EPOCH.replace(day=day, hour=hour)),
                             "assets": [{"name": name, "browser_download_url": "http://x/" + name, "size": 1}]}], "t")
    return found[0]


def test_cve5_plan_picks_assets_by_name_and_checks_continuity() -> None:
    baseline = _asset("2025-05-31_all_CVEs_at_midnight.zip.zip", 0)
    flat_baseline = _asset("2025-05-31_all_CVEs_at_midnight.zip", 0)
    assert baseline.kind == flat_baseline.kind == "baseline"
    h1, h5 = _asset("2025-06-01_delta_CVEs_at_0100Z.zip", 1), _asset("2025-06-01_delta_CVEs_at_0500Z.zip", 5)
    eod = _asset("2025-06-01_delta_CVEs_at_end_of_day.zip", 0, day=2)
    next_h1 = _asset("2025-06-02_delta_CVEs_at_0100Z.zip", 1, day=2)
    assert not cve5.assets_of([{"published_at": "2025-06-01T00:00:00Z",
                                "assets": [{"name": "README.md", "browser_download_url": "u"}]}], "t")
    first = cve5.plan_assets([baseline, h1, h5], {})
    assert first.baseline == baseline and first.deltas == (h5,)
    cursor = {"last_published": format_time(h1.published), "last_day": "2025-06-01", "day_closed": False}
    assert cve5.plan_assets([baseline, h1, h5, eod, next_h1], cursor).deltas == (eod, next_h1)
    # 06-02's delta without 06-01's end of day: changes after 05:00 on 06-01 would be lost.
    assert cve5.plan_assets([baseline, h1, h5, next_h1], cursor).baseline == baseline
    closed = {"last_published": format_time(eod.published), "last_day": "2025-06-01", "day_closed": True}
    assert cve5.plan_assets([baseline, eod, next_h1], closed).deltas == (next_h1,)
    assert cve5.plan_assets([baseline, eod], closed).assets == []
    with pytest.raises(FeedDataError, match="no `_all_CVEs_at_midnight.zip` asset"):
        cve5.plan_assets([h1], {})


def test_osv_times_compare_to_the_nanosecond() -> None:
    times = ["2024-07-13T00:03:44.594307Z", "2024-07-13T00:03:44.5943071Z", "2024-07-13T00:03:44.59Z",
             "2024-07-13T00:03:44Z", "2024-07-13T00:03:45Z"]
    assert sorted(times, key=osv.parse_modified) == [times[3], times[2], times[0], times[1], times[4]]
    assert osv.parse_modified("yesterday") is None


def test_osv_unknown_ecosystem_is_named(mirror: FeedMirror, tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"almalinux \(did you mean AlmaLinux\?\)"):
        run_update(mirror, tmp_path, FakeClock(), osv_ecosystems=["almalinux"])
    with pytest.raises(ParameterError, match="--source osv: choose ecosystems"):
        run_update(mirror, tmp_path, FakeClock(), sources=["osv"])
    with pytest.raises(ParameterError, match="unknown source nvd2"):
        run_update(mirror, tmp_path, FakeClock(), sources=["nvd2"])
    assert not mirror.requested(NVD)


def test_osv_many_changes_fetch_all_zip_again(mirror: FeedMirror, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    run_update(mirror, tmp_path, clock, sources=["osv"], osv_ecosystems=["OSS-Fuzz"])
    for record_id in ("OSV-2018-109", "OSV-2020-223"):
        mirror.set_osv("OSS-Fuzz", dict(mirror.osv["OSS-Fuzz"][record_id], modified="2025-06-02T00:00:00.5Z"))
    monkeypatch.setattr(osv, "MAX_SINGLE_FETCHES", 1)
    mirror.clear_log()
    run_update(mirror, tmp_path, clock, sources=["osv"])
    assert [r.path for r in mirror.requested("/osv/")] == [
        "/osv/ecosystems.txt", "/osv/OSS-Fuzz/modified_id.csv", "/osv/OSS-Fuzz/all.zip"]
    assert mirror.requested("/osv/OSS-Fuzz/all.zip")[0].headers["if-none-match"]
    assert states(tmp_path)["osv:OSS-Fuzz"].cursor == {"modified": "2025-06-02T00:00:00.5Z"}


def test_nvd_dates_are_sent_as_documented() -> None:
    url = nvd.page_url("https://nvd.example/cves/2.0", 4000, ("2024-04-01T13:00:00Z", "2024-07-30T13:00:00Z"))
    assert url == ("https://nvd.example/cves/2.0?startIndex=4000&resultsPerPage=2000"
                   "&lastModStartDate=2024-04-01T13:00:00.000%2B00:00&lastModEndDate=2024-07-30T13:00:00.000%2B00:00")


def test_an_unreachable_feed_is_a_connection_error(tmp_path: Path) -> None:
    from timesys_ci.vulndb.update import UpdateOptions, update

    clock = FakeClock()
    with pytest.raises(ConnectionFailedError, match="127.0.0.1:9"):
        update(tmp_path, UpdateOptions(sources=["kev"], urls={"kev": "http://127.0.0.1:9/kev.json"}, clock=clock))
    assert len(clock.sleeps) == 5  # retried with back-off, without really waiting


def test_a_persistent_403_is_nvd_throttling_a_service_error(mirror: FeedMirror, tmp_path: Path) -> None:
    from timesys_ci.cli.errors import exit_code_for

    mirror.fault(NVD, status=403, times=99)
    clock = FakeClock()
    with pytest.raises(FeedHTTPError, match="HTTP 403") as caught:
        run_update(mirror, tmp_path, clock, sources=["nvd"])
    assert len(mirror.requested(NVD)) == 6 and len(clock.sleeps) == 5  # retried with back-off first
    assert exit_code_for(caught.value) == 3

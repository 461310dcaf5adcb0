"""CVE List V5 (CVEProject/cvelistV5): the daily baseline zip once, then the delta zips.

The releases are listed through the GitHub API (`/releases?per_page=100`);
assets are picked by name, never built from a tag (the asset's date is not the
tag's):

* baseline: `…_all_CVEs_at_midnight.zip` or `.zip.zip`, a zip holding `cves.zip`
  (the `cves/<year>/<N>xxx/CVE-….json` tree);
* deltas: `YYYY-MM-DD_delta_CVEs_at_HHMMZ.zip` (cumulative since that day's
  midnight) and `YYYY-MM-DD_delta_CVEs_at_end_of_day.zip` (the whole day); flat
  `deltaCves/CVE-….json`, possibly empty.

Only the newest delta of each day is needed (they are cumulative). A later run
takes the deltas published since the last one applied, if they leave no gap: the
day it stopped in must be finished by an end-of-day delta before the next day's
deltas continue, and days must follow each other. Otherwise (an update after a
long pause, once GitHub no longer lists the deltas in between) it takes the
newest baseline again.
"""
from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Optional

from timesys_ci.vulndb.feeds import FeedContext, Fetched, Pending, safe_name
from timesys_ci.vulndb.feeds.http import FeedDataError, where
from timesys_ci.vulndb.state import SourceState, format_time, parse_time

BASELINE = re.compile(r"_all_CVEs_at_midnight\.zip(\.zip)?$")
DELTA = re.compile(r"^(\d{4}-\d{2}-\d{2})_delta_CVEs_at_(\d{4}Z|end_of_day)\.zip$")
DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})_")
PER_PAGE = 100
MAX_PAGES = 10  # 1,000 releases: about 40 days of hourly deltas
#: The largest asset accepted, whatever the index says (the baseline is about 0.5 GB today).
MAX_ASSET = 8 * 1024 * 1024 * 1024


@dataclass(frozen=True)
class Asset:
    name: str
    url: str
    size: Optional[int]
    published: datetime
    kind: str  # "baseline", "delta" or "end_of_day"
    day: Optional[date]  # the date in a delta's name
    hour: str = ""  # "0100Z"... for hourly deltas

    @property
    def order(self) -> tuple[Any, ...]:
        """Within a day: hourly deltas by hour, the end-of-day delta last; then by publication."""
        return (self.day or date.min, self.kind == "end_of_day", self.hour, self.published)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "size": self.size, "published": format_time(self.published),
                "kind": self.kind, "day": self.day.isoformat() if self.day else None, "hour": self.hour}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Asset":
        return cls(name=data["name"], url=data["url"], size=data.get("size"),
                   published=parse_time(data["published"]) or datetime.min, kind=data["kind"],
                   day=date.fromisoformat(data["day"]) if data.get("day") else None, hour=data.get("hour", ""))


def assets_of(releases: Any, where_from: str) -> list[Asset]:
    """Baseline and delta assets of a GitHub releases listing; other assets are ignored."""
    if not isinstance(releases, list):
        raise FeedDataError(f"{where_from}: not a GitHub releases listing (expected a JSON array)")
    found = []
    for release in releases:
        if not isinstance(release, dict):
            continue
        published = parse_time(release.get("published_at") or release.get("created_at"))
        for asset in release.get("assets") or []:
            if not isinstance(asset, dict) or published is None:
                continue
            name, url = asset.get("name"), asset.get("browser_download_url")
            if not isinstance(name, str) or not isinstance(url, str):
                continue
            size = asset.get("size") if isinstance(asset.get("size"), int) else None
            if BASELINE.search(name):
                day = DAY.match(name)
                found.append(Asset(name, url, size, published, "baseline",
                                   _date(day.group(1)) if day else None))
                continue
            delta = DELTA.match(name)
            if delta and _date(delta.group(1)):
                kind = "end_of_day" if delta.group(2) == "end_of_day" else "delta"
                found.append(Asset(name, url, size, published, kind, _date(delta.group(1)),
                                   "" if kind == "end_of_day" else delta.group(2)))
    return found


def _date(text: str) -> Optional[date]:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _newest_per_day(deltas: list[Asset]) -> list[Asset]:
    newest: dict[date, Asset] = {}
    for asset in deltas:
        if asset.day is not None and (asset.day not in newest or asset.order > newest[asset.day].order):
            newest[asset.day] = asset
    return [newest[day] for day in sorted(newest)]


@dataclass(frozen=True)
class Plan:
    baseline: Optional[Asset]
    deltas: tuple[Asset, ...]
    note: str = ""

    @property
    def assets(self) -> list[Asset]:
        return ([self.baseline] if self.baseline else []) + list(self.deltas)


def plan_assets(assets: list[Asset], cursor: dict[str, Any]) -> Plan:
    """Which assets bring the database from `cursor` (the last run's) to the newest data."""
    deltas = [a for a in assets if a.kind != "baseline"]
    last_published = parse_time(cursor.get("last_published"))
    last_day = _date(cursor.get("last_day") or "")
    if last_published is not None and last_day is not None:
        newer = _newest_per_day([a for a in deltas if a.published > last_published
                                   and a.day is not None and a.day >= last_day])
        if not newer:
            return Plan(None, (), "no new delta since the last update")
        if _continuous(newer, last_day, bool(cursor.get("day_closed"))):
            return Plan(None, tuple(newer))
        note = f"the deltas since {cursor.get('last_asset')} are not all listed any more; taking the newest baseline"
    else:
        note = ""
    baselines = [a for a in assets if a.kind == "baseline"]
    if not baselines:
        raise FeedDataError("no `_all_CVEs_at_midnight.zip` asset among the releases listed")
    baseline = max(baselines, key=lambda a: a.published)
    after = _newest_per_day([a for a in deltas if a.published > baseline.published
                             and a.day is not None and a.day >= baseline.published.date()])
    return Plan(baseline, tuple(after), note)


def _continuous(days: list[Asset], last_day: date, closed: bool) -> bool:
    """The deltas pick up where the last run stopped, and every day but the last is finished."""
    expected = last_day + timedelta(days=1) if closed else last_day
    if days[0].day != expected:
        return False
    for earlier, later in zip(days, days[1:]):
        if earlier.kind != "end_of_day" or later.day != earlier.day + timedelta(days=1):  # type: ignore[operator]
            return False
    return True


def _list_releases(context: FeedContext, since: Optional[datetime]) -> list[Asset]:
    """Releases, newest first, until one older than `since` (or a baseline, on a first run) is seen."""
    assets: list[Asset] = []
    for page in range(1, MAX_PAGES + 1):
        url = f"{context.url}/releases?per_page={PER_PAGE}&page={page}"
        releases, _ = context.http.get_json(url, headers={"Accept": "application/vnd.github+json"})
        found = assets_of(releases, where(url))
        assets.extend(found)
        published = [parse_time(r.get("published_at")) for r in releases if isinstance(r, dict)]
        oldest = min((moment for moment in published if moment is not None), default=None)
        if len(releases) < PER_PAGE or oldest is None:
            break
        if since is not None and oldest <= since:
            break
        if since is None and any(a.kind == "baseline" for a in assets):
            break
    return assets


def _check_zip(path: Any, asset: Asset) -> int:
    """The number of CVE records a downloaded zip holds (a baseline holds one `cves.zip`)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FeedDataError(f"{asset.name}: not a readable zip ({exc})") from None
    if asset.kind == "baseline":
        if not any(name.endswith("cves.zip") or re.search(r"CVE-\d+-\d+\.json$", name) for name in names):
            raise FeedDataError(f"{asset.name}: neither a cves.zip nor CVE records inside")
        return -1  # counted by the importer
    return sum(1 for name in names if re.search(r"CVE-\d+-\d+\.json$", name))


def fetch(context: FeedContext, states: Mapping[str, SourceState]) -> list[Fetched]:
    committed = states.get("cve5")
    cursor = dict(committed.cursor) if committed else {}
    pending = Pending(context.cache)
    plan_data = pending.load()
    if plan_data is None or plan_data.get("url") != context.url:
        pending.clear()
        since = parse_time(cursor.get("last_published"))
        plan = plan_assets(_list_releases(context, since), cursor)
        plan_data = {"url": context.url, "assets": [a.to_json() for a in plan.assets], "note": plan.note,
                     "downloaded": []}
        pending.save(plan_data)
    assets = [Asset.from_json(item) for item in plan_data["assets"]]
    records = 0
    files = []
    for asset in assets:
        target = context.cache / safe_name(asset.name)
        if asset.name not in plan_data["downloaded"]:
            context.http.download(asset.url, target, expected_size=asset.size, max_bytes=MAX_ASSET,
                                  progress=context.progress, label=asset.name)
            plan_data["downloaded"].append(asset.name)
            pending.save(plan_data)
        count = _check_zip(target, asset)
        records += max(count, 0)
        files.append(target)
    if not assets:
        state = SourceState(source="cve5", updated=context.now, data_as_of=committed.data_as_of if committed else None,
                            origin=where(context.url), cursor=cursor, changed=0,
                            records=committed.records if committed else 0)
        return [Fetched("cve5", [], state, plan_data.get("note") or "no new release asset", pending)]
    last = assets[-1]
    if last.kind != "baseline":
        cursor.update(last_day=last.day.isoformat() if last.day else None, day_closed=last.kind == "end_of_day")
    else:  # a baseline without deltas yet: the next day's deltas continue it
        cursor.update(last_day=last.published.date().isoformat(), day_closed=False)
    if assets[0].kind == "baseline":
        cursor["baseline"] = assets[0].name
    cursor.update(last_asset=last.name, last_published=format_time(last.published))
    state = SourceState(source="cve5", updated=context.now, data_as_of=format_time(last.published),
                        origin=where(context.url), cursor=cursor, changed=records)
    names = ", ".join(a.name for a in assets)
    note = plan_data.get("note") or ""
    summary = (note + "; " if note else "") + f"{len(assets)} asset(s): {names}"
    return [Fetched("cve5", files, state, summary, pending)]

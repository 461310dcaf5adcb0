"""NVD CVE API 2.0: every CVE on the first run, then only those modified since, in 120-day windows.

Pages are read with `startIndex`/`resultsPerPage` until `startIndex` reaches
`totalResults`; the next index comes from what the server really returned (it
may cap the page size). The API key goes in the `apiKey` header (`NVD_API_KEY`),
and NVD's published rate limits are kept over any rolling 30 seconds: 5 requests
without a key, 50 with one. Each page is saved as it arrives, so an interrupted
run continues from the next page. The next run starts at the server's own time
of this run's first answer, so nothing modified during the run is missed.

This product uses data from the NVD API but is not endorsed or certified by the NVD.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Optional
from urllib.parse import urlencode

from timesys.core.utils import write_bytes_atomic
from timesys_ci.vulndb.feeds import FeedContext, Fetched, Pending
from timesys_ci.vulndb.feeds.http import RETRY_STATUSES, FeedDataError, RateLimiter, where
from timesys_ci.vulndb.state import SourceState, format_time, parse_time

ENV_API_KEY = "NVD_API_KEY"  # sent as the `apiKey` header, never printed
PAGE_SIZE = 2000
MAX_WINDOW = timedelta(days=120)
RATE_WINDOW = 30.0
RATE_WITHOUT_KEY, RATE_WITH_KEY = 5, 50
#: NVD answers 403 when it throttles (and 503/504 when overloaded): all retried with back-off.
NVD_RETRY_STATUSES = RETRY_STATUSES | {403}


def nvd_date(moment: datetime) -> str:
    """Extended ISO-8601 as NVD documents it, the `+` of the offset escaped: 2024-04-01T13:00:00.000%2B00:00."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000") + "%2B00:00"


def windows(start: datetime, end: datetime, size: timedelta = MAX_WINDOW) -> list[tuple[datetime, datetime]]:
    """[start, end] cut into consecutive windows of at most `size` (NVD refuses more than 120 days)."""
    cuts = []
    while start < end:
        stop = min(end, start + size)
        cuts.append((start, stop))
        start = stop
    return cuts


def page_url(base: str, start_index: int, window: Optional[tuple[str, str]], page_size: int = PAGE_SIZE) -> str:
    query = urlencode({"startIndex": start_index, "resultsPerPage": page_size})
    if window is not None:
        # Built by hand: the dates are sent exactly as NVD's documentation writes them.
        query += f"&lastModStartDate={nvd_date(_time(window[0]))}&lastModEndDate={nvd_date(_time(window[1]))}"
    return f"{base}?{query}"


def _time(text: str) -> datetime:
    moment = parse_time(text)
    if moment is None:
        raise ValueError(f"not a time: {text!r}")
    return moment


def _check_page(data: Any, url: str) -> tuple[int, list[Any]]:
    if not isinstance(data, dict) or not isinstance(data.get("vulnerabilities"), list) \
            or not isinstance(data.get("totalResults"), int):
        raise FeedDataError(f"{where(url)}: not an NVD CVE API 2.0 answer (no totalResults/vulnerabilities)")
    return data["totalResults"], data["vulnerabilities"]


def _plan(context: FeedContext, committed: Optional[SourceState]) -> dict[str, Any]:
    since = parse_time((committed.cursor if committed else {}).get("last_mod_start"))
    if since is None:
        cuts: list[Optional[list[str]]] = [None]  # everything
    else:
        cuts = [[format_time(a), format_time(b)] for a, b in windows(since, context.clock.now())] or []
    return {"url": context.url, "windows": cuts, "window": 0, "start_index": 0, "pages": [], "records": 0,
            "server_time": None, "started": context.now}


def fetch(context: FeedContext, states: Mapping[str, SourceState]) -> list[Fetched]:
    committed = states.get("nvd")
    pending = Pending(context.cache)
    plan = pending.load()
    if plan is None or plan.get("url") != context.url:
        pending.clear()
        plan = _plan(context, committed)
        pending.save(plan)
    api_key = context.options.get("api_key")
    limiter = RateLimiter(RATE_WITH_KEY if api_key else RATE_WITHOUT_KEY, RATE_WINDOW, context.clock)
    headers = {"apiKey": api_key} if api_key else {}
    context.progress.start("nvd", None, unit="records")
    while plan["window"] < len(plan["windows"]):
        window = plan["windows"][plan["window"]]
        while True:
            url = page_url(context.url, plan["start_index"], tuple(window) if window else None)
            data, _ = context.http.get_json(url, headers=headers, limiter=limiter,
                                            retry_statuses=NVD_RETRY_STATUSES)
            total, items = _check_page(data, url)
            if items:  # an empty answer (nothing modified) leaves nothing to import
                name = f"page-{plan['window']:03d}-{plan['start_index']:07d}.json"
                write_bytes_atomic(context.cache / name, json.dumps(data).encode("utf-8"))
                plan["pages"].append(name)
            if plan["server_time"] is None:
                plan["server_time"] = data.get("timestamp") if parse_time(data.get("timestamp")) else plan["started"]
            plan["records"] += len(items)
            plan["start_index"] += len(items)
            context.progress.advance(len(items))
            done = plan["start_index"] >= total or not items
            if done:
                plan["window"] += 1
                plan["start_index"] = 0
            pending.save(plan)
            if done:
                break
    # The next run asks for what was modified from this run's first answer on (the server's clock).
    server_time = format_time(_time(plan["server_time"])) if plan["server_time"] else plan["started"]
    state = SourceState(source="nvd", updated=context.now, data_as_of=server_time, origin=where(context.url),
                        cursor={"last_mod_start": server_time}, changed=plan["records"])
    full = plan["windows"] == [None]
    what = "all CVEs" if full else f"CVEs modified since {plan['windows'][0][0] if plan['windows'] else server_time}"
    summary = f"{what}: {plan['records']} records in {len(plan['pages'])} page(s)"
    return [Fetched("nvd", [context.cache / name for name in plan["pages"]], state, summary, pending)]

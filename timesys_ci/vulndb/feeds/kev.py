"""CISA Known Exploited Vulnerabilities: the JSON catalog, fetched when it changed (ETag/Last-Modified).

A catalog whose `count` differs from its number of entries is refused (as Trivy
does): it was cut short. KEV data is CC0 (cisagov/kev-data).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from timesys_ci.vulndb.feeds import FeedContext, Fetched, FileFacts, fetch_file
from timesys_ci.vulndb.feeds.http import FeedDataError
from timesys_ci.vulndb.state import SourceState

MAX_BYTES = 64 * 1024 * 1024  # the catalog is about 1.3 MB


def check(path: Path) -> FileFacts:
    try:
        catalog = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FeedDataError(f"{path.name}: not JSON ({exc})") from None
    entries = catalog.get("vulnerabilities") if isinstance(catalog, dict) else None
    if not isinstance(entries, list):
        raise FeedDataError(f"{path.name}: not a KEV catalog (no vulnerabilities list)")
    count = catalog.get("count")
    if isinstance(count, int) and count != len(entries):
        raise FeedDataError(f"{path.name}: count says {count} entries, the catalog has {len(entries)}")
    version = catalog.get("catalogVersion")
    return FileFacts(records=len(entries), data_as_of=catalog.get("dateReleased"),
                     cursor={"catalog_version": version} if isinstance(version, str) else {})


def fetch(context: FeedContext, states: Mapping[str, SourceState]) -> list[Fetched]:
    return [fetch_file(context, "kev", states.get("kev"), "known_exploited_vulnerabilities.json", check,
                       max_bytes=MAX_BYTES)]

"""FIRST EPSS: the daily scores file (`epss_scores-current.csv.gz`), fetched when it changed.

Line 1 is `#model_version:v2025.03.14,score_date:2026-05-18T00:00:00Z` (older files
end in `+0000`; copies without the line exist), line 2 `cve,epss,percentile`.
EPSS scores are by FIRST (https://www.first.org/epss): free, attribution requested.
"""
from __future__ import annotations

import gzip
import zlib
from collections.abc import Mapping
from pathlib import Path

from timesys_ci.vulndb.feeds import FeedContext, Fetched, FileFacts, fetch_file
from timesys_ci.vulndb.feeds.http import FeedDataError
from timesys_ci.vulndb.state import SourceState, format_time, parse_time

MAX_BYTES = 256 * 1024 * 1024  # about 2 MB compressed today
MAX_INFLATED = 2 * 1024 * 1024 * 1024


def header(text: str) -> dict[str, str]:
    """The `#key:value,key:value` comment line, leniently."""
    fields = {}
    for part in text.lstrip("#").split(","):
        key, _, value = part.partition(":")
        if key.strip():
            fields[key.strip()] = value.strip()
    return fields


def check(path: Path) -> FileFacts:
    rows = 0
    meta: dict[str, str] = {}
    try:
        with gzip.open(path, "rb") as handle:
            first = handle.readline(4096).decode("utf-8-sig")
            if first.startswith("#"):
                meta = header(first.strip())
                columns = handle.readline(4096).decode("utf-8")
            else:
                columns = first
            if [c.strip() for c in columns.split(",")][:2] != ["cve", "epss"]:
                raise FeedDataError(f"{path.name}: expected the header cve,epss,percentile, got {columns.strip()!r}")
            inflated = 0
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                inflated += len(chunk)
                if inflated > MAX_INFLATED:
                    raise FeedDataError(f"{path.name}: inflates to more than {MAX_INFLATED} bytes; refused")
                rows += chunk.count(b"\n")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as exc:
        raise FeedDataError(f"{path.name}: not a gzip-compressed EPSS CSV ({exc})") from None
    score_date = parse_time(meta.get("score_date"))
    cursor = {"model_version": meta["model_version"]} if meta.get("model_version") else {}
    return FileFacts(records=rows, data_as_of=format_time(score_date) if score_date else None, cursor=cursor)


def fetch(context: FeedContext, states: Mapping[str, SourceState]) -> list[Fetched]:
    return [fetch_file(context, "epss", states.get("epss"), "epss_scores-current.csv.gz", check,
                       max_bytes=MAX_BYTES)]

"""The official vulnerability feeds, one module per source: what to fetch, and how to continue next time.

Each source module has `fetch(context, committed) -> list[Fetched]`: it downloads
into its own raw cache (`<data dir>/feeds/<source>/`) what changed since the
state `committed` with the database, and returns the files to import with the
state to commit after them. It writes its plan to `pending.json` as it goes, so
a run that is killed continues where it stopped (downloads resume with `Range`);
`update.py` clears the cache once the database holding the data is in place.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from timesys.core.utils import write_bytes_atomic
from timesys_ci.clock import Clock
from timesys_ci.vulndb.feeds.http import NO_PROGRESS, FeedHttp, Progress
from timesys_ci.vulndb.state import SourceState

#: Source id -> default base URL (each overridable for mirrors: `--feed-url` or TIMESYS_CI_<ID>_URL).
DEFAULT_URLS: dict[str, str] = {
    "nvd": "https://services.nvd.nist.gov/rest/json/cves/2.0",
    "cve5": "https://api.github.com/repos/CVEProject/cvelistV5",
    "osv": "https://osv-vulnerabilities.storage.googleapis.com",
    "kev": "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
    "epss": "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz",
}
SOURCES = tuple(DEFAULT_URLS)
#: What `db update` fetches when no --source is given (OSV joins when ecosystems are chosen).
DEFAULT_SOURCES = ("nvd", "cve5", "kev", "epss")
DESCRIPTIONS: dict[str, str] = {
    "nvd": "NVD CVE API 2.0 (NIST): analysed CPE configurations",
    "cve5": "CVE List V5 (CVEProject/cvelistV5 releases): the CNAs' own records",
    "osv": "OSV (osv.dev) per-ecosystem exports",
    "kev": "CISA Known Exploited Vulnerabilities catalog",
    "epss": "FIRST EPSS exploit prediction scores",
}


def url_variable(source: str) -> str:
    return f"TIMESYS_CI_{source.upper()}_URL"


@dataclass
class Fetched:
    """What a source brought: files to import (in order) and the state to commit with them."""

    source: str  # "nvd", "cve5", "kev", "epss", or "osv:<ecosystem>"
    files: list[Path]
    state: SourceState
    summary: str  # one line: what was fetched ("2 pages, 4,321 records changed")
    pending: Optional["Pending"] = None  # cleared (with its files) once the database holds them

    @property
    def kind(self) -> str:
        return self.source.partition(":")[0]


@dataclass
class FeedContext:
    """What a source module gets: the HTTP client, its base URL and cache, the clock, options."""

    http: FeedHttp
    url: str
    cache: Path
    clock: Clock
    progress: Progress = NO_PROGRESS
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def now(self) -> str:
        from timesys_ci.vulndb.state import format_time

        return format_time(self.clock.now())


class Pending:
    """A source's plan in progress (`<cache>/pending.json`), written atomically after every step."""

    def __init__(self, directory: Path, name: str = "pending.json") -> None:
        self.directory = directory
        self.path = directory / name

    def load(self) -> Optional[dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def save(self, data: Mapping[str, Any]) -> None:
        write_bytes_atomic(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n")

    def clear(self) -> None:
        """Forget the plan and every file downloaded for it."""
        if self.directory.exists():
            shutil.rmtree(self.directory)


def safe_name(text: str) -> str:
    """A file name for an id or ecosystem from a feed (never a path: no separators, no dot-dot)."""
    from urllib.parse import quote

    name = quote(text, safe="-_.+")
    return "_" + name if name.startswith(".") or not name else name


@dataclass(frozen=True)
class FileFacts:
    """What a single-file source's check found in the file it downloaded."""

    records: int
    data_as_of: Optional[str] = None
    cursor: Mapping[str, Any] = field(default_factory=dict)


def fetch_file(context: FeedContext, source: str, committed: Optional[SourceState], filename: str,
               check: Callable[[Path], FileFacts], *, max_bytes: int) -> Fetched:
    """A source that is one file (KEV, EPSS): a conditional GET, resumed if a partial copy is there.

    A copy downloaded but not yet in the database (an earlier run failed later) is offered to
    the server with its own validators, so a 304 reuses it instead of fetching it again.
    """
    from timesys_ci.vulndb.feeds.http import Validators, where

    pending = Pending(context.cache)
    target = context.cache / filename
    waiting = pending.load()
    if waiting and waiting.get("url") == context.url and target.exists():
        known = Validators(waiting.get("etag"), waiting.get("last_modified"))
    elif committed is not None:
        known = Validators(committed.etag, committed.last_modified)
    else:
        known = Validators()
    download = context.http.download(context.url, target, known=known, max_bytes=max_bytes,
                                     progress=context.progress, label=filename)
    if download.modified:
        try:
            facts = check(target)
        except Exception:
            pending.clear()  # never offer a file that failed its check again
            raise
        pending.save({"url": context.url, **download.validators.to_json(), "sha256": download.sha256,
                      "records": facts.records, "data_as_of": facts.data_as_of, "cursor": dict(facts.cursor)})
        waiting = pending.load()
    elif not (waiting and target.exists()):
        state = SourceState(source=source, updated=context.now, origin=where(context.url),
                            data_as_of=committed.data_as_of if committed else None,
                            cursor=dict(committed.cursor) if committed else {}, etag=known.etag,
                            last_modified=known.last_modified, sha256=committed.sha256 if committed else None,
                            changed=0, records=committed.records if committed else 0)
        return Fetched(source, [], state, "not modified", pending)
    assert waiting is not None
    state = SourceState(source=source, updated=context.now, data_as_of=waiting.get("data_as_of"),
                        origin=where(context.url), cursor=dict(waiting.get("cursor") or {}),
                        etag=waiting.get("etag"), last_modified=waiting.get("last_modified"),
                        sha256=waiting.get("sha256"), changed=int(waiting.get("records") or 0))
    return Fetched(source, [target], state, f"{filename}: {state.changed} entries", pending)

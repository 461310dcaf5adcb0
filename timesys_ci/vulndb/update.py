"""`db update`: fetch what changed from each source, then swap in a database that holds it.

The flow is one way: read the committed state from the database, let each
source module fetch into its raw cache what changed since (`vulndb.feeds`),
build a copy of the database with those files imported and the new state
written, replace the live file with it (`vulndb.dbfile`), clear the caches.
Nothing is committed unless every selected source was fetched: a failed run
leaves the database as it was and its downloads in the cache, where the next
run continues them.

`import_files` is the same last half for files the user already has
(`service import-vulns`).
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Optional, Protocol, Union

from timesys.exceptions import ParameterError
from timesys_ci.clock import SYSTEM_CLOCK, Clock
from timesys_ci.vulndb import dbfile
from timesys_ci.vulndb.errors import VulnDataError
from timesys_ci.vulndb.feeds import (
    DEFAULT_SOURCES,
    DEFAULT_URLS,
    SOURCES,
    FeedContext,
    Fetched,
    cve5,
    epss,
    kev,
    nvd,
    osv,
    url_variable,
)
from timesys_ci.vulndb.feeds.http import (
    DEFAULT_TIMEOUT,
    NO_PROGRESS,
    FeedDataError,
    FeedHttp,
    Progress,
)
from timesys_ci.vulndb.importer import ImportSummary, import_paths
from timesys_ci.vulndb.state import SourceState, load_states
from timesys_ci.vulndb.store import VulnStore

FETCHERS: dict[str, Callable[[FeedContext, Mapping[str, SourceState]], list[Fetched]]] = {
    "nvd": nvd.fetch, "cve5": cve5.fetch, "osv": osv.fetch, "kev": kev.fetch, "epss": epss.fetch,
}


class Reporter(Protocol):
    """Where a run says what it does: a progress bar on a terminal, one line per source otherwise."""

    def progress(self, source: str) -> Progress: ...

    def fetched(self, fetched: Fetched) -> None: ...


class _Silent:
    def progress(self, source: str) -> Progress:
        return NO_PROGRESS

    def fetched(self, fetched: Fetched) -> None:
        pass


@dataclass
class UpdateOptions:
    sources: Optional[Sequence[str]] = None  # None: the defaults, plus OSV if ecosystems are known
    osv_ecosystems: Optional[Sequence[str]] = None  # None: those updated before
    urls: Mapping[str, str] = field(default_factory=dict)  # source -> base URL (mirrors)
    nvd_api_key: Optional[str] = None
    verify: Union[bool, str] = True
    timeout: Optional[float] = None
    clock: Clock = SYSTEM_CLOCK
    reporter: Reporter = field(default_factory=_Silent)


@dataclass
class SourceResult:
    source: str
    summary: str
    files: int
    imported: int


@dataclass
class UpdateSummary:
    database: Path
    results: list[SourceResult]
    counts: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"database": str(self.database), "counts": self.counts,
                "sources": [vars(result) for result in self.results]}


def base_urls(overrides: Mapping[str, str], environ: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    """Each source's base URL: an override (`--feed-url`), else TIMESYS_CI_<SOURCE>_URL, else the official one."""
    environ = os.environ if environ is None else environ
    urls = {}
    for source, default in DEFAULT_URLS.items():
        value = overrides.get(source) or (environ.get(url_variable(source)) or "").strip() or default
        if not value.startswith(("http://", "https://")):
            name = f"--feed-url {source}=" if overrides.get(source) else url_variable(source)
            raise ParameterError(f"{name}: expected an http:// or https:// URL, not {value!r}")
        urls[source] = value.rstrip("/")
    return urls


def selection(options: UpdateOptions, states: Mapping[str, SourceState]) -> tuple[list[str], list[str]]:
    """The sources and OSV ecosystems of this run."""
    known_ecosystems = sorted(name.partition(":")[2] for name in states if name.startswith("osv:"))
    ecosystems = list(options.osv_ecosystems) if options.osv_ecosystems is not None else known_ecosystems
    if options.sources is None:
        sources = list(DEFAULT_SOURCES) + (["osv"] if ecosystems else [])
    else:
        unknown = [name for name in options.sources if name not in SOURCES]
        if unknown:
            raise ParameterError(f"--source: unknown source {', '.join(unknown)} (choose from {', '.join(SOURCES)})")
        sources = list(dict.fromkeys(options.sources))
    if "osv" in sources and not ecosystems:
        raise ParameterError("--source osv: choose ecosystems with --osv-ecosystem (e.g. Debian,Alpine); "
                             "see https://osv-vulnerabilities.storage.googleapis.com/ecosystems.txt")
    if ecosystems and options.osv_ecosystems and "osv" not in sources:
        raise ParameterError("--osv-ecosystem: add osv to --source, or leave --source out")
    return sources, ecosystems if "osv" in sources else []


def update(data_dir: Path, options: UpdateOptions) -> UpdateSummary:
    """Bring `<data_dir>/vulndb.sqlite3` up to date with the selected sources."""
    data_dir = Path(data_dir)
    urls = base_urls(options.urls)
    with dbfile.locked(data_dir):
        states, _ = load_states(dbfile.vulndb_path(data_dir))
        sources, ecosystems = selection(options, states)
        http = FeedHttp(verify=options.verify, clock=options.clock, timeout=options.timeout or DEFAULT_TIMEOUT)
        fetched: list[Fetched] = []
        try:
            # OSV first: a mistyped ecosystem is refused before a long NVD download, not after.
            for source in sorted(sources, key=lambda name: name != "osv"):
                context = FeedContext(http, urls[source], data_dir / "feeds" / source, options.clock,
                                      options.reporter.progress(source),
                                      {"api_key": options.nvd_api_key, "ecosystems": ecosystems})
                for item in FETCHERS[source](context, states):
                    options.reporter.fetched(item)
                    fetched.append(item)
        finally:
            http.close()
        results = _apply(data_dir, fetched)
    return UpdateSummary(dbfile.vulndb_path(data_dir), results, dbfile.record_counts(dbfile.vulndb_path(data_dir)))


def _import(store: VulnStore, item: Fetched) -> dbfile.ImportResult:
    try:
        return dbfile.import_files(store, item.files, origin=f"db update from {item.state.origin}")
    except dbfile.UnreadableData as exc:
        raise FeedDataError(f"{item.source}: {exc}") from None


def _apply(data_dir: Path, fetched: Sequence[Fetched]) -> list[SourceResult]:
    """Import what was fetched into a copy, commit the states with it, swap; then clear the caches."""
    results = []
    if not any(item.files for item in fetched) and dbfile.vulndb_path(data_dir).exists():
        dbfile.write_states_in_place(data_dir, [item.state for item in fetched])  # only "checked at"
        results = [SourceResult(item.source, item.summary, 0, 0) for item in fetched]
    else:
        with dbfile.building(data_dir, lock=False) as build:
            for item in fetched:
                imported = _import(build.store, item) if item.files else dbfile.ImportResult()
                held = dbfile.source_counts(build.store)
                # OSV ecosystems share one count in the store; each keeps the size of its own all.zip.
                records = item.state.records if item.kind == "osv" else held.get(item.kind, item.state.records)
                build.set_state(replace(item.state, records=records))
                results.append(SourceResult(item.source, item.summary, len(item.files),
                                            sum(imported.counts.values())))
            build.commit()
    for item in fetched:
        if item.pending is not None:
            item.pending.clear()
    return results


def import_files(data_dir: Path, paths: Sequence[Path], *, origin: str = "import") -> ImportSummary:
    """Files, directories or archives the user has (any format the importer detects) into the database,
    through the same atomic copy-and-swap as `db update` (`service import-vulns`)."""
    with dbfile.building(Path(data_dir)) as build:
        try:
            summary = import_paths(build.store, list(paths), origin=origin)
        except VulnDataError as exc:
            raise ParameterError(str(exc)) from None
        build.commit()
    return summary

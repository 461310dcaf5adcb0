"""`timesys-ci db update|status|export|import`: the local vulnerability database's own commands.

Thin front ends over `vulndb.update`, `vulndb.bundle` and `vulndb.state`. The data
dir defaults to the one `upload --local` uses; `service start --data DIR` serves the
same files. Registered through `timesys_ci.cli.registry`.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Optional, TextIO

from timesys.exceptions import ConfigurationError
from timesys_ci import exits
from timesys_ci.errors import UsageError
from timesys_ci.cli.progress import human_size
from timesys_ci.cli.render import table, use_color
from timesys_ci.cli.runtime import command_line_of, emit, quiet, wants_json
from timesys_ci.cli.state import current_run
from timesys_ci.settings import SettingsResolver, local_data_dir
from timesys_ci.vulndb.feeds import DESCRIPTIONS, SOURCES, Fetched
from timesys_ci.clock import Clock
from timesys_ci.vulndb.feeds.http import Progress
from timesys_ci.vulndb.state import (
    DEFAULT_MAX_AGE,
    SourceState,
    describe_age,
    load_states,
    parse_max_age,
    utc_now,
)
from timesys_ci.vulndb.feeds.nvd import ENV_API_KEY as ENV_NVD_API_KEY

UPDATE_HELP = "Fetch what changed from the official vulnerability feeds into the local database"
STATUS_HELP = "Show the local vulnerability database: sources, record counts, last update and age"
EXPORT_HELP = "Write the local vulnerability database to one file (with a manifest) for an air-gapped lab"
IMPORT_HELP = "Verify an export made by `db export` and make it the local vulnerability database"


def _data_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, metavar="DIR",
                        help="data directory (default: the one `upload --local` uses: $TIMESYS_CI_CACHE/local-service)")


def _csv(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def register(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="the local vulnerability database: update, status, export, import",
                               description="The vulnerability database of the local service and `upload --local`.")
    commands = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)

    updater = commands.add_parser("update", help=UPDATE_HELP, description=UPDATE_HELP + ".",
                                  epilog=f"Sources: {'; '.join(f'{k}: {v}' for k, v in DESCRIPTIONS.items())}. "
                                         f"{ENV_NVD_API_KEY} raises NVD's rate limit from 5 to 50 requests per 30 s. "
                                         "Base URLs: --feed-url or TIMESYS_CI_<SOURCE>_URL. Proxies: HTTPS_PROXY/"
                                         "NO_PROXY; CA bundle: --ca-bundle or VIGILES_CA_BUNDLE. This product "
                                         "uses data from the NVD API but is not endorsed or certified by the NVD.")
    _data_option(updater)
    updater.add_argument("--source", type=_csv, metavar="LIST",
                         help=f"comma-separated sources ({','.join(SOURCES)}; default: nvd,cve5,kev,epss, plus osv "
                              "for the ecosystems updated before)")
    updater.add_argument("--osv-ecosystem", type=_csv, action="extend", metavar="LIST",
                         help="OSV ecosystems to fetch, comma-separated (e.g. Debian,Alpine; default: those "
                              "updated before)")
    updater.add_argument("--feed-url", action="append", default=[], metavar="SOURCE=URL",
                         help="base URL of a source (a mirror); repeatable")
    updater.set_defaults(func=run_update)

    status = commands.add_parser("status", help=STATUS_HELP, description=STATUS_HELP + ".")
    _data_option(status)
    status.add_argument("--max-db-age", type=parse_max_age, default=DEFAULT_MAX_AGE, metavar="AGE",
                        help="warn about sources not updated within AGE (days, or 36h/7d/2w; default 7 days)")
    status.set_defaults(func=run_status)

    exporter = commands.add_parser("export", help=EXPORT_HELP, description=EXPORT_HELP + ".")
    exporter.add_argument("file", type=Path, metavar="FILE", help="the export file to write (a zip)")
    _data_option(exporter)
    exporter.set_defaults(func=run_export)

    importer = commands.add_parser("import", help=IMPORT_HELP, description=IMPORT_HELP + ".")
    importer.add_argument("file", type=Path, metavar="FILE", help="an export written by `db export`")
    _data_option(importer)
    importer.add_argument("--sha256", metavar="HEX", help="refuse the file unless its SHA-256 is this "
                                                          "(the checksum `db export` printed)")
    importer.set_defaults(func=run_import)


def _require_store() -> None:
    """The database code (its matcher reads purls) needs packageurl-python, part of the service extra."""
    if importlib.util.find_spec("packageurl") is None:
        raise ConfigurationError("the db commands need the service extra (packageurl is missing): "
                                 "pip install 'timesys-ci[service]'")


def data_dir_of(args: argparse.Namespace) -> Path:
    """--data, else the data dir of `upload --local`; a path that is not a directory is a usage error."""
    path = Path(os.path.expanduser(str(args.data))) if args.data else local_data_dir()
    blocker = next((p for p in (path, *path.parents) if p.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise UsageError(f"--data {path}: {blocker} is not a directory")
    return path


# -- update -----------------------------------------------------------------------------------------


def _feed_urls(values: list[str]) -> dict[str, str]:
    urls = {}
    for value in values:
        source, sep, url = value.partition("=")
        if not sep or source.strip() not in SOURCES:
            raise UsageError(f"--feed-url {value!r}: expected SOURCE=URL with SOURCE one of {', '.join(SOURCES)}")
        urls[source.strip()] = url.strip()
    return urls


class LineReporter:
    """One line per source as it finishes (logs, CI)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def progress(self, source: str) -> Progress:
        from timesys_ci.vulndb.feeds.http import NO_PROGRESS

        return NO_PROGRESS

    def fetched(self, fetched: Fetched) -> None:
        self.stream.write(f"{fetched.source}: fetched {fetched.summary}\n")
        self.stream.flush()


class _QuietReporter(LineReporter):
    """-q: only the result."""

    def fetched(self, fetched: Fetched) -> None:
        pass


class BarReporter(LineReporter):
    """On a terminal: a progress bar for the download in flight, then the source's line."""

    WIDTH = 24

    def __init__(self, stream: TextIO, clock: Clock) -> None:
        super().__init__(stream)
        self.clock = clock
        self._label, self._unit = "", "bytes"
        self._total: Optional[int] = None
        self._done = 0
        self._drawn = 0.0
        self._source = ""

    def progress(self, source: str) -> Progress:
        self._source = source
        return self

    def start(self, label: str, total: Optional[int], done: int = 0, unit: str = "bytes") -> None:
        self._label, self._total, self._done, self._unit = label, total, done, unit
        self._draw(force=True)

    def advance(self, size: int) -> None:
        self._done += size
        self._draw(force=self._done == self._total)

    def _draw(self, force: bool = False) -> None:
        now = self.clock.monotonic()
        if not force and now - self._drawn < 0.1:
            return
        self._drawn = now
        amount = human_size(self._done) if self._unit == "bytes" else f"{self._done} {self._unit}"
        if self._total:
            share = min(1.0, self._done / self._total)
            bar = "#" * int(share * self.WIDTH)
            total = human_size(self._total) if self._unit == "bytes" else str(self._total)
            text = f"{self._source} {self._label} [{bar:<{self.WIDTH}}] {share:4.0%} {amount} / {total}"
        else:
            text = f"{self._source} {self._label} {amount}"
        self.stream.write("\r" + text[:120].ljust(120) + "\r")
        self.stream.flush()

    def fetched(self, fetched: Fetched) -> None:
        self.stream.write("\r" + " " * 120 + "\r")
        super().fetched(fetched)


def run_update(args: argparse.Namespace) -> int:
    _require_store()
    from timesys_ci.vulndb.update import UpdateOptions, update

    data_dir = data_dir_of(args)
    resolver = SettingsResolver(command_line_of(args), os.environ)
    insecure, ca_bundle, _ = resolver.verify()
    timeout, _ = resolver.timeout()
    api_key = (os.environ.get(ENV_NVD_API_KEY) or "").strip() or None
    run = current_run()
    run.redactor.add(api_key)
    as_json = wants_json(args)
    stream = sys.stderr if as_json else sys.stdout
    if quiet(args):
        reporter: LineReporter = _QuietReporter(stream)
    elif sys.stderr.isatty() and not as_json:
        reporter = BarReporter(sys.stderr, run.clock)
    else:
        reporter = LineReporter(stream)
    options = UpdateOptions(sources=args.source, osv_ecosystems=args.osv_ecosystem, urls=_feed_urls(args.feed_url),
                            nvd_api_key=api_key, verify=False if insecure else (ca_bundle or True), timeout=timeout,
                            clock=run.clock, reporter=reporter)  # main(argv, clock=...) in tests
    summary = update(data_dir, options)
    if as_json:
        emit(args, summary.to_json())
        return exits.OK
    for result in summary.results:
        if result.files:
            stream.write(f"{result.source}: {result.imported} records imported\n")
    stream.write(f"{summary.database}: {_counts_text(summary.counts)}\n")
    return exits.OK


def _counts_text(counts: dict[str, int]) -> str:
    names = {"nvd": "NVD records", "cve5": "CVE 5 records", "osv": "OSV records", "kev": "KEV entries",
             "epss": "EPSS scores"}
    ordered = sorted(counts, key=lambda key: (list(names).index(key) if key in names else len(names), key))
    return ", ".join(f"{counts[key]} {names.get(key, key)}" for key in ordered) or "empty"


# -- status -----------------------------------------------------------------------------------------


def status_of(data_dir: Path, max_age: Any, now: Optional[datetime] = None) -> dict[str, Any]:
    from timesys_ci.vulndb import dbfile

    now = now or utc_now()
    path = dbfile.vulndb_path(data_dir)
    states, meta = load_states(path)
    check = dbfile.freshness(path, max_age, now)
    return {
        "database": str(path), "exists": path.exists(), "size": path.stat().st_size if path.exists() else 0,
        "counts": dbfile.record_counts(path), "sample_only": check.sample_only,
        "sources": [_source_row(state, now) for state in states.values()],
        "imported": meta.get("imported"), "warning": check.warning,
    }


def _source_row(state: SourceState, now: datetime) -> dict[str, Any]:
    age = state.age(now)
    return {"source": state.source, "updated": state.updated, "age": describe_age(age),
            "age_seconds": int(age.total_seconds()) if age is not None else None, "data_as_of": state.data_as_of,
            "records": state.records, "changed": state.changed, "origin": state.origin}


def run_status(args: argparse.Namespace) -> int:
    _require_store()
    status = status_of(data_dir_of(args), args.max_db_age)
    if wants_json(args):
        emit(args, status)
        return exits.OK
    out = sys.stdout
    if not status["exists"]:
        out.write(f"{status['database']}: no vulnerability database yet (the service loads the bundled sample "
                  "on first start); run `timesys-ci db update` or `db import`\n")
        return exits.OK
    out.write(f"database: {status['database']} ({human_size(status['size'])})\n")
    out.write(f"records:  {_counts_text(status['counts'])}\n")
    if status["sources"]:
        rows = [{key: row[key] for key in ("source", "updated", "age", "data_as_of", "records", "changed")}
                for row in status["sources"]]
        out.write("\n".join(table(rows, use_color(out))) + "\n")
    if status["imported"]:
        imported = status["imported"]
        out.write(f"imported from {imported.get('file')} (exported {imported.get('created')}) at "
                  f"{imported.get('at')}\n")
    out.write(f"warning: {status['warning']}\n" if status["warning"] else "freshness: ok\n")
    return exits.OK


# -- export / import --------------------------------------------------------------------------------


def run_export(args: argparse.Namespace) -> int:
    _require_store()
    from timesys_ci.vulndb import bundle, dbfile

    data_dir = data_dir_of(args)
    result = bundle.export_bundle(data_dir, args.file)
    if wants_json(args):
        emit(args, result)
        return exits.OK
    check = dbfile.freshness(dbfile.vulndb_path(data_dir))
    sys.stdout.write(f"saved {result['file']} ({human_size(Path(result['file']).stat().st_size)}): "
                     f"{_counts_text(result['counts'])}\nsha256 {result['file_sha256']}  {result['file']}\n")
    if check.warning and not quiet(args):
        sys.stderr.write(f"timesys-ci: warning: {check.warning}\n")
    return exits.OK


def run_import(args: argparse.Namespace) -> int:
    _require_store()
    from timesys_ci.vulndb import bundle, dbfile

    data_dir = data_dir_of(args)
    manifest = bundle.import_bundle(data_dir, args.file, expected_sha256=args.sha256)
    if wants_json(args):
        emit(args, manifest)
        return exits.OK
    sys.stdout.write(f"imported {args.file} (exported {manifest.get('created')} by {manifest.get('tool')}): "
                     f"{_counts_text(manifest.get('counts') or {})}\n")
    warning = dbfile.freshness(dbfile.vulndb_path(data_dir)).warning
    if warning and not quiet(args):
        sys.stderr.write(f"timesys-ci: warning: {warning}\n")
    return exits.OK

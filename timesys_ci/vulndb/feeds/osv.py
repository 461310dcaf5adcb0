"""OSV (osv.dev's `gs://osv-vulnerabilities` bucket over HTTP), one ecosystem at a time.

An ecosystem is first fetched whole (`<ECO>/all.zip`, flat `<ID>.json`); the
newest `modified` inside it is the cursor. Later runs read `<ECO>/modified_id.csv`
(`<modified>,<ID>` rows, newest first, RFC 3339 with a varying number of fraction
digits) only down to the cursor, and fetch those records one by one
(`<ECO>/<ID>.json`); when very many changed, `all.zip` again. Names are checked
against `ecosystems.txt` first. The zip is read for its newest record, not the
CSV's: a zip can lag its folder.
"""
from __future__ import annotations

import json
import re
import zipfile
from dataclasses import replace
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Optional
from urllib.parse import quote

from timesys_ci.vulndb.feeds import FeedContext, Fetched, Pending, safe_name
from timesys_ci.vulndb.feeds.http import FeedDataError, Validators, where
from timesys_ci.vulndb.state import SourceState, format_time, parse_time

#: More changed records than this since the last run: fetch `all.zip` again instead of one by one.
MAX_SINGLE_FETCHES = 2000
MAX_ZIP = 4 * 1024 * 1024 * 1024
MAX_RECORD = 16 * 1024 * 1024
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]*$")


def parse_modified(text: str) -> Optional[tuple[datetime, int]]:
    """An OSV time, ordered to the nanosecond: (time to the second, nanoseconds)."""
    match = re.fullmatch(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})", text.strip())
    if not match:
        return None
    moment = parse_time(match.group(1) + match.group(3))
    if moment is None:
        return None
    return moment, int((match.group(2) or "0").ljust(9, "0"))


def ecosystems(context: FeedContext) -> list[str]:
    """The ecosystem directories the bucket has (`ecosystems.txt`)."""
    url = f"{context.url}/ecosystems.txt"
    return context.http.read_lines(url, lambda line: True, max_lines=100_000)


def check_ecosystems(wanted: list[str], available: list[str]) -> None:
    missing = [name for name in wanted if name not in available]
    if missing:
        by_case = {name.lower(): name for name in available}
        hints = [f"{name} (did you mean {by_case[name.lower()]}?)" if name.lower() in by_case else name
                 for name in missing]
        from timesys.exceptions import ParameterError

        raise ParameterError(f"--osv-ecosystem: not an OSV ecosystem: {', '.join(hints)} "
                             f"(see {len(available)} names in ecosystems.txt)")


def _zip_cursor(path: Path, name: str) -> tuple[Optional[str], int]:
    """The newest `modified` among the records of an `all.zip`, and how many records it holds."""
    newest: Optional[tuple[tuple[datetime, int], str]] = None
    count = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".json") or info.is_dir():
                    continue
                if info.file_size > MAX_RECORD:
                    raise FeedDataError(f"{name}: {info.filename} is larger than {MAX_RECORD} bytes; refused")
                try:
                    record = json.loads(archive.read(info))
                except ValueError as exc:
                    raise FeedDataError(f"{name}: {info.filename}: not JSON ({exc})") from None
                count += 1
                modified = record.get("modified") if isinstance(record, dict) else None
                parsed = parse_modified(modified) if isinstance(modified, str) else None
                if parsed is not None and (newest is None or parsed > newest[0]):
                    newest = (parsed, str(modified))
    except (zipfile.BadZipFile, OSError) as exc:
        raise FeedDataError(f"{name}: not a readable zip ({exc})") from None
    return (newest[1] if newest else None), count


def _changed_since(context: FeedContext, ecosystem: str, cursor: str) -> list[tuple[str, str]]:
    """(modified, id) rows of `modified_id.csv` newer than `cursor`, newest first."""
    url = f"{context.url}/{quote(ecosystem)}/modified_id.csv"
    since = parse_modified(cursor)
    if since is None:
        raise FeedDataError(f"osv:{ecosystem}: the stored cursor {cursor!r} is not an OSV time")
    rows: list[tuple[str, str]] = []
    bad: list[str] = []

    def newer(line: str) -> bool:
        modified, _, record_id = line.partition(",")
        parsed = parse_modified(modified)
        if parsed is None or not _ID.match(record_id.strip()):
            bad.append(line)
            return False
        if parsed <= since:
            return False
        rows.append((modified, record_id.strip()))
        return len(rows) <= MAX_SINGLE_FETCHES  # more: all.zip is cheaper, stop reading

    context.http.read_lines(url, newer)
    if bad:
        raise FeedDataError(f"{where(url)}: line {len(rows) + 1}: not `<modified>,<ID>`: {bad[0][:80]!r}")
    return rows


def _fetch_ecosystem(context: FeedContext, ecosystem: str, committed: Optional[SourceState]) -> Fetched:
    source = f"osv:{ecosystem}"
    cache = context.cache / safe_name(ecosystem)
    pending = Pending(cache)
    plan = pending.load()
    cursor = (committed.cursor if committed else {}).get("modified")
    if plan is None or plan.get("url") != context.url:
        pending.clear()
        plan = {"url": context.url, "ids": None, "newest": None, "done": []}
        if cursor:
            rows = _changed_since(context, ecosystem, cursor)
            if len(rows) <= MAX_SINGLE_FETCHES:
                plan.update(ids=[record_id for _, record_id in rows], newest=rows[0][0] if rows else cursor)
        pending.save(plan)
    base = f"{context.url}/{quote(ecosystem)}"
    if plan["ids"] is None:  # the whole ecosystem
        known = Validators(committed.etag, committed.last_modified) if committed and cursor else Validators()
        download = context.http.download(f"{base}/all.zip", cache / "all.zip", known=known, max_bytes=MAX_ZIP,
                                         progress=context.progress, label=f"{ecosystem}/all.zip")
        if not download.modified:
            state = _state(context, source, committed, cursor, 0, known)
            return Fetched(source, [], state, "all.zip not modified", pending)
        newest, count = _zip_cursor(cache / "all.zip", f"{ecosystem}/all.zip")
        state = replace(_state(context, source, committed, newest or cursor, count, download.validators,
                               download.sha256), records=count)
        return Fetched(source, [cache / "all.zip"], state, f"all.zip: {count} records", pending)
    files = []
    for record_id in plan["ids"]:
        target = cache / "records" / f"{safe_name(record_id)}.json"
        if record_id not in plan["done"]:
            context.http.download(f"{base}/{quote(record_id, safe='')}.json", target, max_bytes=MAX_RECORD,
                                  label=record_id)
            plan["done"].append(record_id)
            pending.save(plan)
        files.append(target)
    validators = Validators(committed.etag, committed.last_modified) if committed else Validators()
    state = _state(context, source, committed, plan["newest"], len(files), validators,
                   committed.sha256 if committed else None)
    return Fetched(source, files, state, f"{len(files)} record(s) modified since {cursor}", pending)


def _state(context: FeedContext, source: str, committed: Optional[SourceState], modified: Optional[str],
           changed: int, validators: Validators, sha256: Optional[str] = None) -> SourceState:
    moment = parse_modified(modified) if modified else None
    return SourceState(source=source, updated=context.now,
                       data_as_of=format_time(moment[0]) if moment else (committed.data_as_of if committed else None),
                       origin=where(context.url), cursor={"modified": modified} if modified else {},
                       etag=validators.etag, last_modified=validators.last_modified,
                       sha256=sha256 or (committed.sha256 if committed else None), changed=changed,
                       records=committed.records if committed else 0)


def fetch(context: FeedContext, committed: Mapping[str, SourceState]) -> list[Fetched]:
    """Every ecosystem in `context.options["ecosystems"]`."""
    wanted: list[str] = list(context.options.get("ecosystems") or [])
    if not wanted:
        return []
    check_ecosystems(wanted, ecosystems(context))
    return [_fetch_ecosystem(context, name, committed.get(f"osv:{name}")) for name in wanted]

"""Turn a stored SBOM into a stored report: the service's side of upload and rescan."""
from __future__ import annotations

import ctypes
import gc
import json
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Iterator, Optional, TypeVar

from timesys.core.choices import EXTRA_FIELDS
from timesys_ci.sbom import Sbom, SbomError, load_sbom
from timesys_ci.service.errors import ServiceError
from timesys_ci.service.filters import filters_statement
from timesys_ci.service.storage import Storage, new_token, now
from timesys_ci.vulndb.merge import display_record
from timesys_ci.vulndb.fastmatch import StoreMatcher
from timesys_ci.vulndb.scan import extra_field, scan
from timesys_ci.vulndb.store import VulnStore


def parse_manifest(content: str, source: str = "manifest") -> Any:
    """The SBOM, or a 412 naming what is wrong with it (the real service's code for malformed manifests)."""
    try:
        return load_sbom(content, source)
    except SbomError as exc:
        raise ServiceError(412, f"manifest malformed or missing fields: {exc}") from None


def stored_sbom(manifest: Optional[Mapping[str, Any]]) -> Optional[Sbom]:
    """The stored SBOM, read as at upload (exports and conversions write it, whatever its format); None when there
    is none or it no longer reads."""
    if manifest is None:
        return None
    try:
        return load_sbom(manifest["content"], manifest["name"])
    except SbomError:
        return None


_gc_lock = threading.Lock()
_gc_state = {"pauses": 0, "was_enabled": False}


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while scans run: a scan makes about a million short-lived objects and no
    cycles, and the collector walking them again and again cost more than the scan itself (11.6 s against 5.2 s
    for 5,000 packages). Reference counting still frees everything; the collector resumes after the last scan."""
    with _gc_lock:
        if _gc_state["pauses"] == 0:
            _gc_state["was_enabled"] = gc.isenabled()
            gc.disable()
        _gc_state["pauses"] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_state["pauses"] -= 1
            if _gc_state["pauses"] == 0 and _gc_state["was_enabled"]:
                gc.enable()


_T = TypeVar("_T")
_SCAN_THREAD = "vigiles-scan"
_scan_executor: Optional[ThreadPoolExecutor] = None
_executor_lock = threading.Lock()


def on_scan_thread(work: Callable[[], _T]) -> _T:
    """Run ``work`` on the process's one scan thread and wait for it; scans queue behind each other.

    Why one thread: each thread that scans keeps what it touched — glibc gives every thread its own malloc
    arena, which keeps the freed peak of its scans, and the store a SQLite connection and page cache per
    thread — so with waitress's 8 workers taking turns, memory grew with every scan until each had run one
    (82 -> 160 MB over 8 scans at benchmark scale 0.05). On one thread it stays at the first scan's level.
    Scans are CPU-bound under the GIL, so running them side by side was not faster anyway.
    """
    global _scan_executor
    if threading.current_thread().name.startswith(_SCAN_THREAD):
        return work()
    with _executor_lock:
        if _scan_executor is None:
            _fix_mmap_threshold()
            _scan_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=_SCAN_THREAD)
        executor = _scan_executor
    return executor.submit(_trimmed, work).result()


def _trimmed(work: Callable[[], _T]) -> _T:
    try:
        return work()
    finally:
        _release_free_memory()


def _malloc_trim() -> Optional[Callable[[int], int]]:
    try:
        return ctypes.CDLL(None).malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc: its allocator returns memory its own way
        return None


_MALLOC_TRIM = _malloc_trim()
_M_MMAP_THRESHOLD = -3  # glibc malloc.h


def _fix_mmap_threshold() -> None:
    """Blocks over 128 KiB straight from mmap, given back when freed. glibc otherwise raises its threshold
    after each large free, so later scans' big buffers land in the heap and fragment it (sample data, a
    1,350-package manifest: 104 -> 124 MB over 10 scans; with the threshold fixed 93 -> 95 MB)."""
    try:
        ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):
        pass


def _release_free_memory() -> None:
    """Give the freed peak of a scan back to the system (and what request threads freed since the last scan:
    glibc's malloc_trim walks every thread's arena). A scan frees ~all it allocates, but glibc keeps freed
    chunks inside its arenas, so without this the service's size is the largest scan it ever ran, per arena."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)  # ~1 ms


def vuln_data(store: VulnStore) -> dict[str, Any]:
    """The `vuln_data` object of a report: which data it was scanned against and when that was updated."""
    return store.data_summary()


def report_body(storage: Storage, manifest: Mapping[str, Any], group: sqlite3.Row, *, report_token: str, seq: int,
                created: str, filtered: bool, sbom: Optional[Sbom] = None) -> dict[str, Any]:
    """Scan `manifest` (`sbom`: its content, if already read) with its group's settings and triage, in the report
    contract's shape."""
    sbom = sbom or parse_manifest(manifest["content"], manifest["name"])
    identifiers = json.loads(group["vuln_identifiers"])
    strict = group["vuln_strict_match"] == "on"
    group_chain = [row["token"] for row in storage.ancestors(group["token"])]
    versions = {package.name: package.version for package in sbom.packages}
    statuses: dict[tuple[str, str], dict[str, Any]] = {}
    for row in storage.statuses_for(manifest["token"], group_chain, manifest["owner_email"]):
        if row["package_version"] in ("", versions.get(row["package"])):
            statuses[(row["cve_id"], row["package"])] = {"status": row["status"],
                                                         "justification": row["justification"] or None}
    custom_scores = {(row["cve_id"], row["package"]): float(row["score"]) for row in storage.custom_scores(manifest["token"])}
    store = storage.vulns

    def run() -> tuple[dict[str, Any], dict[str, Any]]:
        with store.reading(), cyclic_gc_paused():  # one consistent view, even if `db update` swaps the file mid-scan
            return (scan(sbom, matcher=StoreMatcher(store), identifiers=identifiers, strict=strict, statuses=statuses,
                         custom_scores=custom_scores), vuln_data(store))

    result, data = on_scan_thread(run)
    return {
        "manifest_token": manifest["token"],
        "manifest_name": manifest["name"],
        "group_token": group["token"],
        "product_token": group["token"],
        "folder_token": manifest["folder_token"],
        "report_token": report_token,
        "manifest_version": seq,
        "date": created,
        "report_path": f"/cves/reports/{report_token}",
        "group_path": f"/groups/{group['token']}",
        "product_path": f"/groups/{group['token']}",
        "filtered": filtered,
        "filters": filters_statement(manifest, filtered=filtered),  # what was done with the filter inputs
        "counts": result["counts"],
        "cves": result["cves"],
        "vuln_data": data,
    }


def scan_and_store(storage: Storage, manifest: sqlite3.Row, group: sqlite3.Row, *, filtered: bool) -> dict[str, Any]:
    """A new report of a stored SBOM (rescan). The scan runs outside the write transaction."""
    token, created = new_token("R"), now()
    body = report_body(storage, manifest, group, report_token=token, seq=0, created=created, filtered=filtered)

    def numbered(seq: int) -> dict[str, Any]:
        body["manifest_version"] = seq
        return body

    return storage.add_report(manifest["token"], token, created, numbered)


def with_extra_fields(storage: Storage, body: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """Add the requested CVE fields (`with_field`) to each entry of a stored report."""
    unknown = [name for name in fields if name not in EXTRA_FIELDS]
    if unknown:
        raise ServiceError(400, f"parameter 'with_field' value {unknown[0]!r} is not one of {', '.join(EXTRA_FIELDS)}")
    if not fields:
        return body
    cve_ids = {entry["cve_id"] for entries in body.get("cves", {}).values() for entry in entries}
    about = storage.vulns.records_about(cve_ids)
    shown = {cve_id: display_record(cve_id, records) for cve_id, records in about.items()}
    for entries in body.get("cves", {}).values():
        for entry in entries:
            record = shown.get(entry["cve_id"])
            for name in fields:
                entry[name] = extra_field(record, name) if record else None
    return body

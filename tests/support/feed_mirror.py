"""A loopback mirror of the official vulnerability feeds, in their real shapes (see shared vuln-feeds.md).

* NVD CVE API 2.0 at `/nvd/rest/json/cves/2.0`: `startIndex`/`resultsPerPage` paging
  (capped like the server may), `lastModStartDate`/`lastModEndDate` filtering (both or
  neither, at most 120 days, `+` offsets must arrive escaped), the envelope fields
  (`resultsPerPage`, `startIndex`, `totalResults`, `format`, `version`, `timestamp`
  without a zone), `apiKey` checked with NVD's `404` + `message` header.
* GitHub releases of CVEProject/cvelistV5 at `/github/repos/CVEProject/cvelistV5/releases`
  (paged, newest first), assets behind a 302 redirect like github.com's; helpers build the
  nested baseline (`…_all_CVEs_at_midnight.zip.zip` holding `cves.zip`) and flat deltas.
* OSV at `/osv/`: `ecosystems.txt`, `<ECO>/all.zip` (flat, entry mtime = `modified`),
  `<ECO>/modified_id.csv` (newest first, times as stored: varying fraction digits),
  `<ECO>/<ID>.json`.
* CISA KEV at `/kev/known_exploited_vulnerabilities.{json,csv}`; FIRST EPSS at
  `/epss/epss_scores-current.csv.gz` with the `#model_version` line.

Every file answer has an ETag and Last-Modified, honours If-None-Match/If-Modified-Since
(304) and Range/If-Range (206). Faults are injected per path prefix: an error status with
Retry-After or headers, a connection dropped after N body bytes, a slow body. Every request
is recorded.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import socket
import threading
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator, Optional
from urllib.parse import parse_qs, unquote, urlsplit

from .clock import EPOCH

ROOT = Path(__file__).parents[1]
FIXTURES = ROOT / "fixtures" / "feeds"
VULNDB = ROOT / "fixtures" / "vulndb"  # the real records (see the README there)
NVD_FIXTURES = VULNDB / "nvd"
CVE5_FILES = [VULNDB / "cve5" / "openssl-cna" / f"{cve}.json" for cve in (
    "CVE-2014-0160", "CVE-2022-0778", "CVE-2022-3602", "CVE-2023-0286", "CVE-2024-9143", "CVE-2024-13176")] + \
    sorted((VULNDB / "cve5" / "cvelistV5").glob("CVE-*.json"))
OSV_FILES = {
    "AlmaLinux": [VULNDB / "osv" / "almalinux" / "almalinux8" / f"{name}.json" for name in (
        "ALSA-2021_4511", "ALSA-2022_1065", "ALSA-2022_5313", "ALSA-2022_5564", "ALSA-2022_5818", "ALSA-2023_1405")],
    "OSS-Fuzz": [VULNDB / "osv" / "oss-fuzz" / "openssl" / f"{name}.json" for name in (
        "OSV-2018-109", "OSV-2020-223", "OSV-2024-635", "OSV-2024-636")],
}
KEV_CSV = VULNDB / "kev" / "known_exploited_vulnerabilities.csv"
NVD_PATH = "/nvd/rest/json/cves/2.0"
CVE5_REPO = "/github/repos/CVEProject/cvelistV5"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- fixture builders ---------------------------------------------------------------------------------


def nvd_records() -> dict[str, dict[str, Any]]:
    """The NVD fixtures as `cve` objects by id (API pages unwrapped)."""
    records = {}
    for path in sorted(NVD_FIXTURES.glob("*.json")):
        data = json.loads(path.read_text())
        items = [item["cve"] for item in data["vulnerabilities"]] if "vulnerabilities" in data else [data]
        for cve in items:
            records[cve["id"]] = cve
    return records


def cve5_records() -> dict[str, dict[str, Any]]:
    records = (json.loads(path.read_text()) for path in CVE5_FILES)
    return {record["cveMetadata"]["cveId"]: record for record in records}


def cve5_path(cve_id: str) -> str:
    _, year, number = cve_id.split("-")
    return f"cves/{year}/{int(number) // 1000}xxx/{cve_id}.json"


def _zip(entries: dict[str, bytes], mtimes: Optional[dict[str, datetime]] = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            moment = (mtimes or {}).get(name, EPOCH)
            info = zipfile.ZipInfo(name, date_time=moment.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def cve5_baseline(records: dict[str, dict[str, Any]]) -> bytes:
    """The real shape: a zip with one member, `cves.zip`, holding the `cves/` tree."""
    inner = _zip({cve5_path(cve_id): json.dumps(record).encode() for cve_id, record in records.items()})
    return _zip({"cves.zip": inner})


def cve5_delta(records: dict[str, dict[str, Any]]) -> bytes:
    """Flat `deltaCves/CVE-….json`; no records makes the real empty zip."""
    return _zip({f"deltaCves/{cve_id}.json": json.dumps(record).encode() for cve_id, record in records.items()})


def osv_records(ecosystem: str) -> dict[str, dict[str, Any]]:
    records = (json.loads(path.read_text()) for path in OSV_FILES[ecosystem])
    return {record["id"]: record for record in records}


def epss_gz(score_date: str = "2025-06-01", rows: Optional[list[str]] = None) -> bytes:
    body = (FIXTURES / "epss" / "epss_scores-current.head150.csv").read_text()
    text = f"#model_version:v2025.03.14,score_date:{score_date}T00:00:00Z\n" + body
    if rows:
        text = text.rstrip("\n") + "\n" + "\n".join(rows) + "\n"
    return gzip.compress(text.encode(), mtime=0)


def kev_json(csv_bytes: bytes) -> bytes:
    """The catalog's JSON form, as CISA publishes it next to the CSV (same entries, `cwes` as a list)."""
    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    entries = [{**row, "cwes": [c.strip() for c in (row.get("cwes") or "").split(",") if c.strip()]} for row in rows]
    newest = max(row["dateAdded"] for row in rows)
    return json.dumps({"title": "CISA Catalog of Known Exploited Vulnerabilities",
                       "catalogVersion": newest.replace("-", "."), "dateReleased": f"{newest}T14:00:52.3190Z",
                       "count": len(entries), "vulnerabilities": entries}, indent=2).encode()


# -- the server ---------------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    raw_query: str
    headers: dict[str, str]
    status: int = 0


@dataclass
class Fault:
    """Applied to the next `times` requests whose path starts with `path`."""

    path: str
    status: Optional[int] = None  # answer this status (with `headers`, e.g. Retry-After / message)
    headers: dict[str, str] = field(default_factory=dict)
    drop_after: Optional[int] = None  # send the headers and this many body bytes, then drop the connection
    chunk_delay: float = 0.0  # a slow body: this many seconds between 1 kB chunks
    times: int = 1


@dataclass
class Release:
    tag: str
    published: datetime
    assets: dict[str, bytes]


@dataclass
class StaticFile:
    data: bytes
    modified: datetime
    content_type: str = "application/octet-stream"

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.data).hexdigest()[:32] + '"'


class FeedMirror:
    """`with FeedMirror() as mirror:` serves the fixtures; `mirror.urls` are the base URLs per source."""

    def __init__(self, *, nvd_max_page: int = 2000, nvd_api_keys: Optional[set[str]] = None) -> None:
        self.now = EPOCH
        self.nvd = nvd_records()
        self.nvd_max_page = nvd_max_page
        self.nvd_api_keys = nvd_api_keys
        self.releases: list[Release] = []
        self.osv: dict[str, dict[str, dict[str, Any]]] = {"AlmaLinux": osv_records("AlmaLinux"),
                                                         "OSS-Fuzz": osv_records("OSS-Fuzz")}
        self.osv_extra_ecosystems = ["Alpine", "Debian", "GIT", "Red Hat", "[EMPTY]"]
        kev = KEV_CSV.read_bytes()
        self.files: dict[str, StaticFile] = {
            "/kev/known_exploited_vulnerabilities.json": StaticFile(kev_json(kev), EPOCH, "application/json"),
            "/kev/known_exploited_vulnerabilities.csv": StaticFile(kev, EPOCH, "text/csv"),
            "/epss/epss_scores-current.csv.gz": StaticFile(epss_gz(), EPOCH, "application/gzip"),
        }
        self.faults: list[Fault] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None

    # -- lifecycle ----------------------------------------------------------------------------------

    def __enter__(self) -> "FeedMirror":
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                mirror._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def urls(self) -> dict[str, str]:
        return {"nvd": self.base + NVD_PATH, "cve5": self.base + CVE5_REPO, "osv": self.base + "/osv",
                "kev": self.base + "/kev/known_exploited_vulnerabilities.json",
                "epss": self.base + "/epss/epss_scores-current.csv.gz"}

    def env(self) -> dict[str, str]:
        return {f"TIMESYS_CI_{source.upper()}_URL": url for source, url in self.urls.items()}

    # -- what tests change --------------------------------------------------------------------------

    def fault(self, path: str, **kwargs: Any) -> Fault:
        fault = Fault(path, **kwargs)
        with self._lock:
            self.faults.append(fault)
        return fault

    def touch_nvd(self, cve_id: str, when: datetime) -> None:
        self.nvd[cve_id] = {**self.nvd[cve_id], "lastModified": when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]}

    def add_release(self, tag: str, published: datetime, assets: dict[str, bytes]) -> None:
        self.releases.append(Release(tag, published, assets))

    def set_osv(self, ecosystem: str, record: dict[str, Any]) -> None:
        self.osv.setdefault(ecosystem, {})[record["id"]] = record

    def set_file(self, path: str, data: bytes, modified: Optional[datetime] = None) -> None:
        self.files[path] = StaticFile(data, modified or self.now, self.files[path].content_type)

    def requested(self, prefix: str = "") -> list[Request]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def clear_log(self) -> None:
        self.requests.clear()

    # -- answers ------------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        path = unquote(parts.path)
        request = Request("GET", path, parse_qs(parts.query, keep_blank_values=True), parts.query,
                          {k.lower(): v for k, v in handler.headers.items()})
        with self._lock:
            self.requests.append(request)
            fault = next((f for f in self.faults if path.startswith(f.path) and f.times > 0), None)
            if fault is not None:
                fault.times -= 1
        if fault is not None and fault.status is not None:
            request.status = fault.status
            self._send(handler, fault.status, b"{}", {"Content-Type": "application/json", **fault.headers})
            return
        try:
            status, body, headers = self._route(path, request)
        except _Answer as answer:
            status, body, headers = answer.status, answer.body, answer.headers
        request.status = status
        self._send(handler, status, body, headers, fault)

    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str],
              fault: Optional[Fault] = None) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if fault is not None and fault.drop_after is not None:
            handler.wfile.write(body[:fault.drop_after])
            handler.wfile.flush()
            handler.connection.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True
            return
        if fault is not None and fault.chunk_delay:
            for start in range(0, len(body), 1024):
                try:
                    handler.wfile.write(body[start:start + 1024])
                    handler.wfile.flush()
                except OSError:
                    return
                time.sleep(fault.chunk_delay)
            return
        handler.wfile.write(body)

    def _route(self, path: str, request: Request) -> tuple[int, bytes, dict[str, str]]:
        if path == NVD_PATH:
            return self._nvd(request)
        if path == CVE5_REPO + "/releases":
            return self._releases(request)
        if path.startswith("/github/CVEProject/cvelistV5/releases/download/"):
            tag, name = path.rsplit("/", 2)[-2:]
            return 302, b"", {"Location": f"{self.base}/objects/{tag}/{name}"}
        if path.startswith("/objects/"):
            tag, name = path.rsplit("/", 2)[-2:]
            release = next((r for r in self.releases if r.tag == tag), None)
            if release is None or name not in release.assets:
                raise _Answer(404, b"Not Found", {})
            return self._file(request, StaticFile(release.assets[name], release.published))
        if path.startswith("/osv/"):
            return self._osv(path[len("/osv/"):], request)
        if path in self.files:
            return self._file(request, self.files[path])
        raise _Answer(404, b"Not Found", {"Content-Type": "text/plain"})

    def _file(self, request: Request, file: StaticFile) -> tuple[int, bytes, dict[str, str]]:
        headers = {"ETag": file.etag, "Last-Modified": format_datetime(file.modified, usegmt=True),
                   "Accept-Ranges": "bytes", "Content-Type": file.content_type}
        if request.headers.get("if-none-match") == file.etag:
            return 304, b"", headers
        since = request.headers.get("if-modified-since")
        if since and "if-none-match" not in request.headers:
            try:
                if file.modified.replace(microsecond=0) <= parsedate_to_datetime(since):
                    return 304, b"", headers
            except (TypeError, ValueError):
                pass
        wanted = request.headers.get("range", "")
        if_range = request.headers.get("if-range")
        if wanted.startswith("bytes=") and (if_range is None or if_range in (file.etag, headers["Last-Modified"])):
            start_text, _, end_text = wanted[6:].partition("-")
            start = int(start_text)
            end = int(end_text) if end_text else len(file.data) - 1
            if start >= len(file.data):
                return 416, b"", {"Content-Range": f"bytes */{len(file.data)}"}
            headers["Content-Range"] = f"bytes {start}-{end}/{len(file.data)}"
            return 206, file.data[start:end + 1], headers
        return 200, file.data, headers

    # NVD ----------------------------------------------------------------------------------------------

    def _nvd(self, request: Request) -> tuple[int, bytes, dict[str, str]]:
        def refuse(message: str) -> "_Answer":
            return _Answer(404, b"", {"message": message})

        key = request.headers.get("apikey")
        if key is not None and self.nvd_api_keys is not None and key not in self.nvd_api_keys:
            raise refuse("Invalid apiKey")
        query = {name: values[-1] for name, values in request.query.items()}
        try:
            start = int(query.get("startIndex", "0"))
            size = int(query.get("resultsPerPage", "2000"))
        except ValueError:
            raise refuse("Invalid startIndex or resultsPerPage") from None
        if size > 2000 or size < 1 or start < 0:
            raise refuse("Invalid resultsPerPage")
        selected = sorted(self.nvd.values(), key=lambda cve: cve["id"])
        dates = [query.get("lastModStartDate"), query.get("lastModEndDate")]
        if any(dates):
            if not all(dates):
                raise refuse("lastModStartDate and lastModEndDate must be used together")
            try:
                low, high = (datetime.fromisoformat(text) for text in dates)  # type: ignore[arg-type]
            except ValueError:
                raise refuse("Invalid date format (an unescaped '+' arrives as a space)") from None
            low, high = (d if d.tzinfo else d.replace(tzinfo=timezone.utc) for d in (low, high))
            if high - low > timedelta(days=120):
                raise refuse("The date range must not exceed 120 consecutive days")
            selected = [cve for cve in selected if low <= utc(cve["lastModified"] + "Z") <= high]
        page = selected[start:start + min(size, self.nvd_max_page)]
        body = {"resultsPerPage": len(page), "startIndex": start, "totalResults": len(selected),
                "format": "NVD_CVE", "version": "2.0", "timestamp": self.now.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
                "vulnerabilities": [{"cve": cve} for cve in page]}
        return 200, json.dumps(body).encode(), {"Content-Type": "application/json"}

    # GitHub releases ------------------------------------------------------------------------------------

    def _releases(self, request: Request) -> tuple[int, bytes, dict[str, str]]:
        per_page = min(100, int(request.query.get("per_page", ["30"])[-1]))
        page = int(request.query.get("page", ["1"])[-1])
        ordered = sorted(self.releases, key=lambda r: r.published, reverse=True)
        chosen = ordered[(page - 1) * per_page: page * per_page]
        body = [{"tag_name": r.tag, "name": r.tag, "published_at": iso(r.published), "created_at": iso(r.published),
                 "draft": False, "prerelease": False,
                 "assets": [{"name": name, "size": len(data), "content_type": "application/zip",
                             "browser_download_url": f"{self.base}/github/CVEProject/cvelistV5/releases/download/"
                                                     f"{r.tag}/{name}"}
                            for name, data in r.assets.items()]} for r in chosen]
        return 200, json.dumps(body).encode(), {"Content-Type": "application/json"}

    # OSV --------------------------------------------------------------------------------------------------

    def _osv(self, rest: str, request: Request) -> tuple[int, bytes, dict[str, str]]:
        if rest == "ecosystems.txt":
            names = sorted(set(self.osv) | set(self.osv_extra_ecosystems))
            return 200, ("\n".join(names) + "\n").encode(), {"Content-Type": "text/plain"}
        ecosystem, _, name = rest.partition("/")
        records = self.osv.get(ecosystem)
        if records is None:
            raise _Answer(404, b"NoSuchKey", {})
        if name == "all.zip":
            entries = {f"{rid}.json": json.dumps(r).encode() for rid, r in sorted(records.items())}
            mtimes = {f"{rid}.json": utc(r["modified"][:19] + "Z") for rid, r in records.items()}
            newest = max(mtimes.values(), default=EPOCH)
            return self._file(request, StaticFile(_zip(entries, mtimes), newest, "application/zip"))
        if name == "modified_id.csv":
            rows = sorted(((r["modified"], rid) for rid, r in records.items()),
                          key=lambda row: (_nanos(row[0]), row[1]), reverse=True)
            text = "".join(f"{modified},{rid}\n" for modified, rid in rows)
            return self._file(request, StaticFile(text.encode(), self.now, "text/csv"))
        if name.endswith(".json") and name[:-5] in records:
            return self._file(request, StaticFile(json.dumps(records[name[:-5]]).encode(),
                                                  utc(records[name[:-5]]["modified"][:19] + "Z"),
                                                  "application/json"))
        raise _Answer(404, b"NoSuchKey", {})


def _nanos(text: str) -> tuple[str, int]:
    head, _, tail = text.rstrip("Z").partition(".")
    return head, int(tail.ljust(9, "0")) if tail else 0


class _Answer(Exception):
    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers


# -- the real shapes of a few days of cvelistV5 releases ---------------------------------------------------


def cve5_day(mirror: FeedMirror, day: datetime, baseline: Optional[dict[str, dict[str, Any]]] = None,
             hourly: Optional[dict[str, dict[str, dict[str, Any]]]] = None,
             end_of_day: Optional[dict[str, dict[str, Any]]] = None) -> None:
    """Releases of one UTC day as cvelistV5 publishes them: the midnight release holds the baseline
    named after the day before; `hourly` maps "0100Z"... to cumulative records; the end-of-day delta
    is published just after the next midnight."""
    date_text = day.strftime("%Y-%m-%d")
    if baseline is not None:
        previous = (day - timedelta(days=1)).strftime("%Y-%m-%d")
        mirror.add_release(f"cve_{date_text}_0000Z", day.replace(hour=0, minute=5),
                           {f"{previous}_all_CVEs_at_midnight.zip.zip": cve5_baseline(baseline)})
    for hour, records in sorted((hourly or {}).items()):
        mirror.add_release(f"cve_{date_text}_{hour}", day.replace(hour=int(hour[:2]), minute=3),
                           {f"{date_text}_delta_CVEs_at_{hour}.zip": cve5_delta(records)})
    if end_of_day is not None:
        mirror.add_release(f"cve_{date_text}_at_end_of_day", day.replace(hour=0, minute=2) + timedelta(days=1),
                           {f"{date_text}_delta_CVEs_at_end_of_day.zip": cve5_delta(end_of_day)})


def zip_names(data: bytes) -> Iterator[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        yield from archive.namelist()

"""Import vulnerability data files, directories and archives into a :class:`~timesys_ci.vulndb.store.VulnStore`.

:func:`import_paths` takes any mix of

* files — NVD CVE API 2.0 (a record, a ``{"cve": …}`` wrapper, an API page, a yearly or
  modified feed), CVE JSON 5 records, OSV records (or a JSON array of them), a CISA KEV
  catalog (JSON or CSV) and FIRST EPSS scores (CSV); each plain or gzip;
* directories, walked in name order (hidden entries and symbolic links to directories skipped);
* zip archives: the CVE List V5 release zip (its nested ``cves.zip`` is copied to a
  temporary file, never held in memory), the flat delta zips, OSV ``all.zip``, NVD ``.json.zip``.

The format of each file is found from its content, not its name. Everything is read
as a stream: JSON documents up to :attr:`ImportLimits.document_bytes` are decoded
whole; a larger one (a feed of 2,000 or 200,000 NVD records) is read one record at a
time. Hostile archives are refused with a one-line error naming the archive and
member: absolute or ``..`` member names, links, encrypted members, too many members,
a member or archive that expands beyond the limits (zip bombs), archives nested
deeper than one level. In directories and archives, files in no known format are
skipped (and counted); a file named on its own must be in a known format.

One call is one transaction: if anything fails, nothing is imported. Each source
that received data is noted in the store (:meth:`VulnStore.note_source`) with ``origin``.
"""
from __future__ import annotations

import codecs
import gzip
import io
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Dict, Iterable, Iterator, List, Optional, Set, Tuple, Union

from timesys_ci.vulndb.errors import VulnDataError
from timesys_ci.vulndb.record import VulnRecord
from timesys_ci.vulndb.sources import cve5, nvd, osv
from timesys_ci.vulndb.sources.common import GZIP_MAGIC, Parsed, Withdrawn
from timesys_ci.vulndb.sources.epss import is_epss_header, iter_epss
from timesys_ci.vulndb.sources.kev import is_kev_csv_header, is_kev_document, kev_from_document, parse_kev
from timesys_ci.vulndb.store import VulnStore

ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
_CHUNK = 1024 * 1024
_BATCH = 200
_UNSAFE_NAME = re.compile(r"(^|[\\/])\.\.($|[\\/])|^[\\/]|^[A-Za-z]:|\x00")
_DATA_SUFFIXES = (".json", ".json.gz", ".gz", ".csv", ".csv.gz", ".zip")

Progress = Callable[[str, "ImportSummary"], None]


@dataclass(frozen=True)
class ImportLimits:
    """Bounds that keep hostile input from exhausting memory or disk."""

    document_bytes: int = 16 * 1024 * 1024  # larger JSON documents are streamed record by record
    record_bytes: int = 16 * 1024 * 1024  # one streamed record
    member_bytes: int = 8 * 1024 * 1024 * 1024  # one file or archive member, decompressed
    archive_bytes: int = 32 * 1024 * 1024 * 1024  # everything read from one archive, decompressed
    members: int = 2_000_000
    nesting: int = 1  # zips inside zips (the CVE List V5 release holds cves.zip)


DEFAULT_LIMITS = ImportLimits()


@dataclass
class ImportSummary:
    """What one import did, per source."""

    records: Dict[str, int] = field(default_factory=dict)  # nvd / cve5 / osv records stored
    withdrawn: Dict[str, int] = field(default_factory=dict)  # rejected/withdrawn records dropped
    kev: int = 0
    epss: int = 0
    files: int = 0  # files and archive members read
    skipped: List[str] = field(default_factory=list)  # files in no known format (directories, archives)
    errors: List[str] = field(default_factory=list)  # bad records skipped when not strict

    @property
    def total(self) -> int:
        return sum(self.records.values())

    def counts(self) -> Dict[str, int]:
        """Per source: records stored (nvd, cve5, osv), entries read (kev, epss)."""
        found = dict(self.records)
        if self.kev:
            found["kev"] = self.kev
        if self.epss:
            found["epss"] = self.epss
        return found

    def describe(self) -> str:
        parts = [f"{count} {source}" for source, count in sorted(self.records.items())]
        parts += [f"{self.kev} kev"] if self.kev else []
        parts += [f"{self.epss} epss"] if self.epss else []
        parts += [f"{sum(self.withdrawn.values())} withdrawn"] if self.withdrawn else []
        parts += [f"{len(self.skipped)} skipped"] if self.skipped else []
        return ", ".join(parts) or "nothing"


class _Bounded(io.RawIOBase):
    """A binary stream that refuses to yield more than ``limit`` bytes."""

    def __init__(self, stream: IO[bytes], limit: int, name: str, shared: Optional[List[int]] = None,
                 shared_limit: int = 0) -> None:
        self._stream, self._limit, self._name = stream, limit, name
        self._read = 0
        self._shared, self._shared_limit = shared, shared_limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        self._read += len(data)
        if self._read > self._limit:
            raise VulnDataError(f"{self._name}: expands to more than {self._limit} bytes; refused")
        if self._shared is not None:
            self._shared[0] += len(data)
            if self._shared[0] > self._shared_limit:
                raise VulnDataError(f"{self._name}: the archive expands to more than {self._shared_limit} bytes;"
                                    " refused")
        buffer[:len(data)] = data
        return len(data)


def _reader(stream: IO[bytes], limit: int, name: str, shared: Optional[List[int]] = None,
            shared_limit: int = 0) -> io.BufferedReader:
    return io.BufferedReader(_Bounded(stream, limit, name, shared, shared_limit), buffer_size=_CHUNK)


# -- streaming JSON: one value at a time out of a top-level array or an NVD envelope --------------------

class _JsonStream:
    def __init__(self, stream: IO[bytes], name: str, limit: int) -> None:
        self._stream, self._name, self._limit = stream, name, limit
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._text, self._at, self._eof = "", 0, False
        self._json = json.JSONDecoder()

    def _more(self) -> bool:
        if self._eof:
            return False
        data = self._stream.read(_CHUNK)
        try:
            self._text = self._text[self._at:] + self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise VulnDataError(f"{self._name}: not UTF-8 text ({exc.reason})") from None
        self._at = 0
        self._eof = not data
        return True

    def _peek(self) -> str:
        while True:
            while self._at < len(self._text) and self._text[self._at] in " \t\r\n":
                self._at += 1
            if self._at < len(self._text):
                return self._text[self._at]
            if not self._more():
                return ""

    def _expect(self, allowed: str) -> str:
        char = self._peek()
        if not char or char not in allowed:
            raise VulnDataError(f"{self._name}: invalid JSON: expected {' or '.join(allowed)}, found "
                                f"{char or 'end of file'!r}")
        self._at += 1
        return char

    def _value(self) -> Any:
        self._peek()
        while True:
            try:
                value, end = self._json.raw_decode(self._text, self._at)
            except json.JSONDecodeError as exc:
                if len(self._text) - self._at > self._limit:
                    raise VulnDataError(f"{self._name}: a record is larger than {self._limit} bytes; refused") from None
                if not self._more():
                    raise VulnDataError(f"{self._name}: invalid JSON: {exc.msg}") from None
                continue
            if end == len(self._text) and not self._eof and isinstance(value, (int, float)):
                if self._more():  # a number may continue in the next chunk
                    continue
            self._at = end
            return value

    def _array(self) -> Iterator[Any]:
        self._expect("[")
        if self._peek() == "]":
            self._at += 1
            return
        while True:
            yield self._value()
            if self._expect(",]") == "]":
                return

    def items(self, key: str) -> Iterator[Tuple[str, Any]]:
        """("item", value) per element of a top-level array or of the object's ``key`` array; ("meta", …) else."""
        if self._peek() == "[":
            for value in self._array():
                yield "item", value
            return
        self._expect("{")
        if self._peek() == "}":
            return
        while True:
            name = self._value()
            self._expect(":")
            if name == key and self._peek() == "[":
                for value in self._array():
                    yield "item", value
            else:
                yield "meta", {name: self._value()}
            if self._expect(",}") == "}":
                return


# -- the import ---------------------------------------------------------------------------------------------

class _Importer:
    def __init__(self, store: VulnStore, limits: ImportLimits, strict: bool, progress: Optional[Progress]) -> None:
        self.store, self.limits, self.strict, self.progress = store, limits, strict, progress
        self.summary = ImportSummary()
        self._pending: List[Parsed] = []
        self.sources_seen: Set[str] = set()

    # records go to the store in batches, inside the caller's transaction
    def _add(self, item: Parsed) -> None:
        self._pending.append(item)
        self.sources_seen.add(item.source)
        if len(self._pending) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        self.store.put(batch)
        for item in batch:
            counter = self.summary.withdrawn if isinstance(item, Withdrawn) else self.summary.records
            counter[item.source] = counter.get(item.source, 0) + 1

    def _bad(self, error: VulnDataError) -> None:
        if self.strict:
            raise error
        self.summary.errors.append(str(error))

    # documents
    def document(self, document: Any, name: str, explicit: bool) -> bool:
        """Import one decoded JSON document; False when it is in no known format."""
        try:
            if is_kev_document(document):
                self._kev(kev_from_document(document, name))
            elif cve5.is_cve5_document(document):
                self._add(cve5.parse_cve5(document, name))
            elif nvd.is_nvd_document(document):
                for item in nvd.iter_nvd_document(document, name):
                    self._add(item)
            elif osv.is_osv_document(document):
                self._add(osv.parse_osv(document, name))
            elif isinstance(document, list) and document:
                known = [self.document(item, f"{name}[{index}]", False) for index, item in enumerate(document)]
                if not any(known):
                    return self._unknown(name, explicit)
            else:
                return self._unknown(name, explicit)
        except VulnDataError as exc:
            self._bad(exc)
        return True

    def _unknown(self, name: str, explicit: bool) -> bool:
        if explicit:
            raise VulnDataError(f"{name}: not a known vulnerability data format (NVD CVE API 2.0, CVE JSON 5, OSV, "
                                "CISA KEV JSON/CSV, FIRST EPSS CSV)")
        self.summary.skipped.append(name)
        return False

    def _kev(self, entries: Dict[str, str]) -> None:
        self.summary.kev += self.store.put_kev(sorted(entries.items()))
        self.sources_seen.add("kev")

    def _streamed_json(self, stream: IO[bytes], name: str, explicit: bool) -> None:
        found = False
        for kind, value in _JsonStream(stream, name, self.limits.record_bytes).items("vulnerabilities"):
            if kind == "meta":
                continue
            found = True
            if isinstance(value, dict) and isinstance(value.get("cve"), dict):
                try:
                    self._add(nvd.parse_cve(value["cve"], name))
                except VulnDataError as exc:
                    self._bad(exc)
            else:
                self.document(value, name, explicit)
        if not found:
            self._unknown(name, explicit)

    def stream(self, stream: IO[bytes], name: str, explicit: bool, depth: int) -> None:
        """One file or archive member, whatever its format."""
        head = stream.peek(4)[:4] if hasattr(stream, "peek") else b""
        if head[:2] == GZIP_MAGIC:
            inner_name = name[:-3] if name.endswith(".gz") else name
            try:
                unzipped = gzip.GzipFile(fileobj=stream, mode="rb")
                self.stream(_reader(unzipped, self.limits.member_bytes, inner_name), inner_name, explicit,
                            depth)
            except (OSError, EOFError) as exc:
                raise VulnDataError(f"{name}: corrupt gzip data ({exc})") from None
            return
        if head in (ZIP_MAGIC, EMPTY_ZIP_MAGIC):
            self._nested_zip(stream, name, depth)
            return
        self.summary.files += 1
        text_start = stream.peek(4096)[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
        if text_start[:1] in (b"{", b"["):
            self._json(stream, name, explicit)
        else:
            self._text(stream, name, explicit)
        if self.progress is not None:
            self.progress(name, self.summary)

    def _json(self, stream: IO[bytes], name: str, explicit: bool) -> None:
        data = stream.read(self.limits.document_bytes + 1)
        if len(data) <= self.limits.document_bytes:
            try:
                document = json.loads(data.decode("utf-8-sig"))
            except UnicodeDecodeError as exc:
                self._bad(VulnDataError(f"{name}: not UTF-8 text ({exc.reason})"))
                return
            except json.JSONDecodeError as exc:
                self._bad(VulnDataError(f"{name}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"))
                return
            self.document(document, name, explicit)
            return
        self._streamed_json(io.BufferedReader(_Chain(data, stream), buffer_size=_CHUNK), name, explicit)

    def _text(self, stream: IO[bytes], name: str, explicit: bool) -> None:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")
        try:
            first = text.readline()
            while first and not first.strip():
                first = text.readline()
            if is_kev_csv_header(first):
                rest = text.read(self.limits.document_bytes + 1)
                if len(rest) > self.limits.document_bytes:
                    raise VulnDataError(f"{name}: a KEV catalog larger than {self.limits.document_bytes} bytes; refused")
                self._kev(parse_kev(first + rest, name))
            elif is_epss_header(first):
                lines = _prepend(first, text)
                self.summary.epss += self.store.put_epss(iter_epss(lines, name))
                self.sources_seen.add("epss")
            else:
                self._unknown(name, explicit)
        except UnicodeDecodeError as exc:
            if explicit:
                raise VulnDataError(f"{name}: not UTF-8 text ({exc.reason})") from None
            self.summary.skipped.append(name)
        finally:
            text.detach()

    # archives
    def _nested_zip(self, stream: IO[bytes], name: str, depth: int) -> None:
        if depth >= self.limits.nesting:
            raise VulnDataError(f"{name}: a zip archive nested more than {self.limits.nesting} level deep; refused")
        with tempfile.TemporaryFile(prefix="timesys-ci-import-") as spool:
            shutil.copyfileobj(stream, spool, _CHUNK)  # bounded by the member limits of the reader
            spool.seek(0)
            self._zip(spool, name, depth + 1)

    def _zip(self, handle: IO[bytes], name: str, depth: int) -> None:
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError) as exc:
            raise VulnDataError(f"{name}: not a valid zip archive ({exc})") from None
        with archive:
            members = archive.infolist()
            if len(members) > self.limits.members:
                raise VulnDataError(f"{name}: {len(members)} members, more than {self.limits.members}; refused")
            for info in members:  # refuse the whole archive before importing anything from it
                _check_member(info, name)
            expanded = [0]
            for info in members:
                if info.is_dir():
                    continue
                member = f"{name}:{info.filename}"
                if not info.filename.lower().endswith(_DATA_SUFFIXES):
                    self.summary.skipped.append(member)
                    continue
                try:
                    with archive.open(info) as raw:
                        reader = _reader(raw, self.limits.member_bytes, member, expanded, self.limits.archive_bytes)
                        self.stream(reader, member, False, depth)
                except zipfile.BadZipFile as exc:
                    raise VulnDataError(f"{member}: corrupt archive member ({exc})") from None

    # paths
    def path(self, path: Path) -> None:
        if path.is_dir():
            for file in _walk(path):
                self.file(file, str(file), False)
        elif path.exists():
            self.file(path, str(path), True)
        else:
            raise VulnDataError(f"{path}: no such file or directory")

    def file(self, path: Path, name: str, explicit: bool) -> None:
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise VulnDataError(f"{name}: cannot read: {exc.strerror}") from None
        with handle:
            head = handle.read(4)
            handle.seek(0)
            if head in (ZIP_MAGIC, EMPTY_ZIP_MAGIC):
                self._zip(handle, name, 0)
                return
            self.stream(_reader(handle, self.limits.member_bytes, name), name, explicit, 0)


class _Chain(io.RawIOBase):
    """Bytes already read, then the rest of the stream."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head, self._rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._rest.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _prepend(first: str, rest: Iterable[str]) -> Iterator[str]:
    yield first
    yield from rest


def _check_member(info: zipfile.ZipInfo, name: str) -> None:
    member = info.filename
    if _UNSAFE_NAME.search(member):
        raise VulnDataError(f"{name}: member {member!r} has an unsafe path; refused")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise VulnDataError(f"{name}: member {member!r} is a symbolic link; refused")
    if info.flag_bits & 0x1:
        raise VulnDataError(f"{name}: member {member!r} is encrypted; refused")


def _walk(root: Path) -> Iterator[Path]:
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(name for name in subdirectories if not name.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and name.lower().endswith(_DATA_SUFFIXES):
                yield Path(directory) / name


def import_paths(store: VulnStore, paths: Iterable[Union[str, Path]], *, origin: str = "import",
                 limits: ImportLimits = DEFAULT_LIMITS, strict: bool = True,
                 progress: Optional[Progress] = None) -> ImportSummary:
    """Import files, directories and zip archives in one transaction; see the module docstring.

    ``origin`` says where the data came from in the store's source notes ("import",
    the bundled sample, a feed name). With ``strict`` (default) the first bad record
    aborts the import (nothing is stored); without, bad records are skipped and listed
    in :attr:`ImportSummary.errors`. ``progress(name, summary)`` is called after each file.
    """
    importer = _Importer(store, limits, strict, progress)
    given = [Path(path) for path in paths]
    with store.transaction():
        for path in given:
            importer.path(path)
        importer.flush()
        detail = ", ".join(path.name for path in given)[:500]
        for source in sorted(importer.sources_seen):
            store.note_source(source, origin=origin, detail=detail)
    return importer.summary


def import_records(store: VulnStore, records: Iterable[VulnRecord], *, origin: str = "import") -> int:
    """Store already parsed records (tests, migrations) and note their sources."""
    records = list(records)
    with store.transaction():
        stored, _ = store.put(records)
        for source in sorted({record.source for record in records}):
            store.note_source(source, origin=origin)
    return stored

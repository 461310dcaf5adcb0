"""Where `program_files(cve_ids)` comes from: the vulnerability database, or CVE JSON 5 records on disk.

The database (`VulnStore.program_files`, filled by `db update` from the kernel CNA's
records) is the normal source. A checkout of the kernel's `vulns.git` or of
`cvelistV5` can be named directly instead (`--cve-records`), as Yocto's
`improve_kernel_cve_report.py --datadir` takes it; only the records asked for are read.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Optional, Sequence

from timesys_ci.kernel.evidence import EvidenceError
from timesys_ci.kernel.triage import ProgramFiles
from timesys_ci.kernel.walk import WalkReport, read_bounded, walk_files

MAX_RECORD_BYTES = 4 * 1024 * 1024
STORE_FILE = "vulndb.sqlite3"


def cna_program_files(record: object) -> list[str]:
    """The `programFiles` of a record's Linux kernel CNA container (union over its affected entries)."""
    cna = record.get("containers", {}).get("cna", {}) if isinstance(record, dict) else {}
    affected = cna.get("affected") if isinstance(cna, dict) else None
    files: list[str] = []
    for entry in affected if isinstance(affected, list) else []:
        if not isinstance(entry, dict) or (entry.get("vendor"), entry.get("product")) != ("Linux", "Linux"):
            continue
        for path in entry.get("programFiles") or []:
            if isinstance(path, str) and path not in files:
                files.append(path)
    return files


class RecordFiles:
    """`program_files` over CVE JSON 5 files found under the given paths (files or directories)."""

    def __init__(self, paths: Iterable[Path]) -> None:
        self._index: dict[str, Path] = {}
        for path in paths:
            path = Path(path)
            if path.is_file():
                self._index[path.name[:-len(".json")].upper()] = path
            elif path.is_dir():
                walk = WalkReport()
                for _, entry in walk_files(path, lambda name: name.startswith("CVE-") and name.endswith(".json"),
                                           walk):
                    self._index.setdefault(entry.name[:-len(".json")].upper(), Path(entry.path))
                if not walk.complete:
                    raise EvidenceError(f"--cve-records {path}: " + "; ".join(walk.notes(path)))
            else:
                raise EvidenceError(f"--cve-records: no such file or directory: {path}")

    def __len__(self) -> int:
        return len(self._index)

    def __call__(self, cve_ids: Iterable[str]) -> Mapping[str, Sequence[str]]:
        found: dict[str, list[str]] = {}
        for cve_id in cve_ids:
            path = self._index.get(cve_id.upper())
            if path is None:
                continue
            text = read_bounded(path, MAX_RECORD_BYTES)
            try:
                files = cna_program_files(json.loads(text)) if text is not None else []
            except ValueError:
                raise EvidenceError(f"{path}: not a JSON CVE record") from None
            if files:
                found[cve_id] = files
        return found


@dataclass
class FileData:
    """The kernel CNA's `programFiles` and where they came from (`origin`); `missing` says why there are none."""

    program_files: ProgramFiles
    origin: str
    missing: Optional[str] = None


def _nothing(cve_ids: Iterable[str]) -> Mapping[str, Sequence[str]]:
    return {}


@contextmanager
def store_file_data(data_dir: Path, *, required: bool = True, flag: str = "--data") -> Iterator[FileData]:
    """`VulnStore.program_files` of the database in a data directory (what `db update` fills).

    A data dir without a database is an error when `required`; otherwise the file data is
    empty and `missing` says so (the caller shows it: every kernel CVE then stays).
    """
    path = Path(data_dir) / STORE_FILE
    if not path.is_file():
        missing = f"no vulnerability database ({STORE_FILE}) in {data_dir}; run `timesys-ci db update`"
        if required:
            raise EvidenceError(f"{flag} {data_dir}: {missing}")
        yield FileData(_nothing, f"{data_dir} (no vulnerability database)", missing)
        return
    from timesys_ci.vulndb.errors import VulnDataError
    from timesys_ci.vulndb.store import VulnStore

    try:
        store = VulnStore(path)
    except VulnDataError as exc:
        raise EvidenceError(f"{flag} {data_dir}: {exc}") from None
    try:
        yield FileData(store.program_files, f"the vulnerability database {path}")
    finally:
        store.close()


def record_file_data(paths: Iterable[Path]) -> FileData:
    """`--cve-records`: the records found under the paths."""
    paths = tuple(Path(path) for path in paths)
    files = RecordFiles(paths)
    return FileData(files, f"{len(files)} CVE record file(s) under " + ", ".join(str(path) for path in paths))

"""Where `program_files(cve_ids)` comes from: the vulnerability database, or CVE JSON 5 records on disk.

The database (`VulnStore.program_files`, filled by `db update` from the kernel CNA's
records) is the normal source. A checkout of the kernel's `vulns.git` or of
`cvelistV5` can be named directly instead (`--cve-records`), as Yocto's
`improve_kernel_cve_report.py --datadir` takes it; only the records asked for are read.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

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


@contextmanager
def store_program_files(data_dir: Path) -> Iterator[ProgramFiles]:
    """`VulnStore.program_files` of the database in a data directory."""
    path = Path(data_dir) / STORE_FILE
    try:
        from timesys_ci.vulndb.store import VulnStore  # type: ignore[import-not-found]
    except ImportError:
        VulnStore = None  # noqa: N806 - the class, when this version has it
    if VulnStore is None or not hasattr(VulnStore, "program_files"):
        raise EvidenceError(f"--data {data_dir}: this version's vulnerability database has no kernel file data; "
                            "name CVE records with --cve-records")
    if not path.is_file():
        raise EvidenceError(f"--data {data_dir}: no vulnerability database ({STORE_FILE}); run `timesys-ci db update`")
    store = VulnStore(path)
    try:
        yield store.program_files
    finally:
        store.close()

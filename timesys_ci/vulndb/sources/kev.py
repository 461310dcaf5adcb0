"""CISA Known Exploited Vulnerabilities catalog: JSON (``vulnerabilities[].cveID``) or CSV (``cveID`` column).

KEV is published by CISA under CC0 1.0. The gate reads a local catalog with
:func:`load_kev`; the importer stores each CVE with its ``dateAdded``.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Dict, FrozenSet, Union

from timesys_ci.vulndb.errors import EnrichmentError
from timesys_ci.vulndb.sources.common import GZIP_MAGIC, gunzip_bounded

__all__ = ["EnrichmentError", "is_kev_csv_header", "is_kev_document", "kev_from_document", "load_kev", "parse_kev"]


def is_kev_document(document: object) -> bool:
    return isinstance(document, dict) and isinstance(document.get("vulnerabilities"), list) and (
        "catalogVersion" in document or "dateReleased" in document
        or any(isinstance(item, dict) and "cveID" in item for item in document["vulnerabilities"][:1]))


def is_kev_csv_header(line: str) -> bool:
    return "cveID" in next(csv.reader([line.lstrip("\ufeff")]), [])


def read_text(path: Union[str, Path]) -> "tuple[str, str]":
    """(file name, text) of a plain or gzip file; utf-8-sig because CISA's CSV has carried a byte-order mark."""
    file = Path(path)
    try:
        data = file.read_bytes()
        if data[:2] == GZIP_MAGIC:
            data = gunzip_bounded(data, file.name)
        return file.name, data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise EnrichmentError(f"{file.name}: cannot read: {exc}") from None


def parse_kev(text: str, name: str) -> Dict[str, str]:
    """CVE id -> date added ("" when the file does not say), from catalog JSON or CSV text."""
    if text.lstrip().startswith("{"):
        return _from_json(text, name)
    return _from_csv(text, name)


def load_kev(path: Union[str, Path]) -> FrozenSet[str]:
    """CVE ids in a CISA KEV catalog file (JSON or CSV, detected by content)."""
    name, text = read_text(path)
    return frozenset(parse_kev(text, name))


def _from_json(text: str, name: str) -> Dict[str, str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EnrichmentError(f"{name}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return kev_from_document(data, name)


def kev_from_document(data: object, name: str) -> Dict[str, str]:
    """CVE id -> date added from a decoded KEV catalog JSON object."""
    entries = data.get("vulnerabilities") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise EnrichmentError(f"{name}: vulnerabilities: missing or not a list (not a KEV catalog?)")
    found: Dict[str, str] = {}
    for index, entry in enumerate(entries):
        cve = entry.get("cveID") if isinstance(entry, dict) else None
        if not isinstance(cve, str) or not cve.strip():
            raise EnrichmentError(f"{name}: vulnerabilities[{index}].cveID: missing")
        found[cve.strip().upper()] = str(entry.get("dateAdded") or "")
    return found


def _from_csv(text: str, name: str) -> Dict[str, str]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "cveID" not in reader.fieldnames:
        raise EnrichmentError(f"{name}: header: no cveID column (not a KEV catalog?)")
    return {row["cveID"].strip().upper(): (row.get("dateAdded") or "").strip()
            for row in reader if (row.get("cveID") or "").strip()}

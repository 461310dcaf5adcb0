"""Offline enrichment data: CISA KEV catalog and FIRST EPSS scores.

KEV: the JSON catalog (`vulnerabilities[].cveID`) or its CSV (`cveID` column).
EPSS: FIRST's CSV (`cve,epss,percentile`), optionally preceded by a
`#model_version:...,score_date:...` comment line. EPSS data is by FIRST
(https://www.first.org/epss); attribute FIRST when showing it.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Dict, FrozenSet, Union

from timesys import ParameterError


class EnrichmentError(ParameterError):
    """A KEV or EPSS file that cannot be read; one line naming file and field."""


def load_kev(path: Union[str, Path]) -> FrozenSet[str]:
    """CVE ids in a CISA KEV catalog file (JSON or CSV, detected by content)."""
    name, text = _read(path)
    if text.lstrip().startswith("{"):
        return _kev_from_json(text, name)
    return _kev_from_csv(text, name)


def load_epss(path: Union[str, Path]) -> Dict[str, float]:
    """CVE id -> EPSS probability (0..1) from a FIRST EPSS CSV."""
    name, text = _read(path)
    lines = text.splitlines()
    total = len(lines)
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    if not reader.fieldnames or "cve" not in reader.fieldnames or "epss" not in reader.fieldnames:
        raise EnrichmentError(f"{name}: header: expected columns cve,epss[,percentile], got {reader.fieldnames}")
    skipped = total - len(lines)  # comment lines before the header, for line numbers in errors
    scores: Dict[str, float] = {}
    for row in reader:
        line = reader.line_num + skipped
        cve = (row.get("cve") or "").strip().upper()
        if not cve:
            continue
        try:
            score = float(row.get("epss") or "")
        except ValueError:
            raise EnrichmentError(f"{name}: line {line}: epss: not a number: {row.get('epss')!r}") from None
        if not 0.0 <= score <= 1.0:
            raise EnrichmentError(f"{name}: line {line}: epss: {score} is outside 0..1")
        scores[cve] = score
    return scores


def _read(path: Union[str, Path]) -> "tuple[str, str]":
    file = Path(path)
    try:
        # utf-8-sig: CISA's CSV has been published with a byte-order mark.
        return file.name, file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise EnrichmentError(f"{file.name}: cannot read: {exc}") from None


def _kev_from_json(text: str, name: str) -> FrozenSet[str]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EnrichmentError(f"{name}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    entries = data.get("vulnerabilities") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise EnrichmentError(f"{name}: vulnerabilities: missing or not a list (not a KEV catalog?)")
    ids = set()
    for index, entry in enumerate(entries):
        cve = entry.get("cveID") if isinstance(entry, dict) else None
        if not isinstance(cve, str) or not cve.strip():
            raise EnrichmentError(f"{name}: vulnerabilities[{index}].cveID: missing")
        ids.add(cve.strip().upper())
    return frozenset(ids)


def _kev_from_csv(text: str, name: str) -> FrozenSet[str]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "cveID" not in reader.fieldnames:
        raise EnrichmentError(f"{name}: header: no cveID column (not a KEV catalog?)")
    return frozenset(row["cveID"].strip().upper() for row in reader if (row.get("cveID") or "").strip())

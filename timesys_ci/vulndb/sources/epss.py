"""FIRST EPSS scores: CSV ``cve,epss,percentile``, plain or gzip, optionally after a ``#model_version:…`` line.

EPSS data is by FIRST (https://www.first.org/epss); attribute FIRST when showing it.
:func:`iter_epss` reads rows one at a time (a full file has about 300,000).
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Dict, Iterable, Iterator, Optional, Tuple, Union

from timesys_ci.vulndb.errors import EnrichmentError
from timesys_ci.vulndb.sources.kev import read_text

EpssRow = Tuple[str, float, Optional[float]]  # cve, score, percentile


def is_epss_header(line: str) -> bool:
    text = line.lstrip("\ufeff").strip()
    if text.startswith("#model_version") or text.startswith("#"):
        return "model_version" in text or "score_date" in text
    columns = [column.strip() for column in text.split(",")]
    return "cve" in columns and "epss" in columns


def iter_epss(lines: Iterable[str], name: str) -> Iterator[EpssRow]:
    """(cve, score, percentile) per row; one-line errors name the file, line and column."""
    line_number = 0
    rows = iter(lines)
    header: Optional[list] = None
    for line in rows:
        line_number += 1
        stripped = line.lstrip("\ufeff").strip()
        if not stripped or stripped.startswith("#"):
            continue
        header = [column.strip() for column in next(csv.reader([stripped]))]
        break
    if not header or "cve" not in header or "epss" not in header:
        raise EnrichmentError(f"{name}: header: expected columns cve,epss[,percentile], got {header}")
    cve_at, epss_at = header.index("cve"), header.index("epss")
    percentile_at = header.index("percentile") if "percentile" in header else None
    for values in csv.reader(rows):
        line_number += 1
        if not values or not values[cve_at:cve_at + 1] or not values[cve_at].strip():
            continue
        cve = values[cve_at].strip().upper()
        raw = values[epss_at] if len(values) > epss_at else ""
        try:
            score = float(raw)
        except ValueError:
            raise EnrichmentError(f"{name}: line {line_number}: epss: not a number: {raw!r}") from None
        if not 0.0 <= score <= 1.0:
            raise EnrichmentError(f"{name}: line {line_number}: epss: {score} is outside 0..1")
        percentile = None
        if percentile_at is not None and len(values) > percentile_at:
            try:
                percentile = float(values[percentile_at])
            except ValueError:
                percentile = None
        yield cve, score, percentile


def load_epss(path: Union[str, Path]) -> Dict[str, float]:
    """CVE id -> EPSS probability (0..1) from a FIRST EPSS CSV (plain or gzip)."""
    name, text = read_text(path)
    return {cve: score for cve, score, _ in iter_epss(text.splitlines(), name)}

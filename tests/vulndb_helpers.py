"""Shared loaders for the vulndb tests (not a test module)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from timesys_ci.vulndb.index import RecordIndex
from timesys_ci.vulndb.nvd import load_nvd_file

ROOT = Path(__file__).parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "vulndb"


@lru_cache(maxsize=1)
def fixture_index() -> RecordIndex:
    return RecordIndex(record for path in sorted((FIXTURES / "nvd").glob("*.json")) for record in load_nvd_file(path))

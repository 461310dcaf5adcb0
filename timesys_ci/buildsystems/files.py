"""Atomic file writes for generated manifests."""
from __future__ import annotations

from pathlib import Path

from timesys.core.utils import write_bytes_atomic


def write_text_atomic(path: Path, text: str) -> None:
    """Readers never see half a file (see `timesys.core.utils.write_bytes_atomic`)."""
    write_bytes_atomic(path, text)

"""Output files are written atomically (one implementation: `timesys.core.utils.write_bytes_atomic`)."""
from __future__ import annotations

from pathlib import Path
from typing import Union

from timesys.core.utils import write_bytes_atomic


def write_atomic(path: Union[str, Path], data: Union[str, bytes]) -> Path:
    """Write `data` (text is UTF-8 encoded) to `path` atomically, creating parent directories."""
    return write_bytes_atomic(path, data)

"""File helpers shared by the operations."""
from __future__ import annotations

import base64
import gzip
import os
import tempfile
from pathlib import Path
from typing import Union


def save_file(data: Union[str, bytes], file_path: Union[str, "os.PathLike[str]"]) -> None:
    """Decode an exported report (Base64 of gzip) and write it to `file_path`.

    The write is atomic: the file appears complete or not at all.
    """
    content = gzip.decompress(base64.b64decode(data))
    write_bytes_atomic(file_path, content)


def _new_file_mode(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777  # keep the mode of the file being replaced
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_bytes_atomic(file_path: Union[str, "os.PathLike[str]"], content: Union[bytes, str],
                       mode: Union[int, None] = None) -> Path:
    """Write through a temporary file in the same directory, then rename over the target.

    Readers see the old file or the new one, never half of one. Text is UTF-8
    encoded. Parent directories are created. `mode` defaults to the replaced
    file's mode, or what the umask gives a new file. Returns the path written.
    """
    if isinstance(content, str):
        content = content.encode("utf-8")
    target = Path(file_path)
    directory = target.parent if str(target.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    final_mode = _new_file_mode(target) if mode is None else mode
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, final_mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)
    return target


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (not possible, nor needed, on Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

"""File helpers shared by the operations."""
from __future__ import annotations

import base64
import os
import secrets
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Optional, Union

#: The largest exported report `save_file` writes (gunzipped); a larger one is refused, not written.
MAX_EXPORTED_REPORT_BYTES = 256 * 1024 * 1024
_CHUNK = 1 << 20


def save_file(data: Union[str, bytes], file_path: Union[str, "os.PathLike[str]"],
              max_size: Optional[int] = None) -> None:
    """Decode an exported report (Base64 of gzip) and write it to `file_path`.

    The content is gunzipped in chunks straight into the file, and refused
    (ValueError, nothing written) past `max_size` bytes, by default
    MAX_EXPORTED_REPORT_BYTES: a small answer must not fill the disk or the
    memory. The write is atomic: the file appears complete or not at all.
    """
    limit = MAX_EXPORTED_REPORT_BYTES if max_size is None else max_size
    write_chunks_atomic(file_path, _gunzip(base64.b64decode(data), limit))


def _gunzip(data: bytes, limit: int) -> Iterator[bytes]:
    """The gzip members of `data`, decompressed in bounded chunks; ValueError past `limit` bytes or if invalid."""
    total = 0
    pending = data
    try:
        while pending:
            decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            while not decompressor.eof:
                chunk = decompressor.decompress(pending, _CHUNK)
                pending = decompressor.unconsumed_tail
                total += len(chunk)
                if total > limit:
                    raise ValueError(f"the exported report expands to more than {limit} bytes; not written "
                                     "(limit: timesys.core.utils.MAX_EXPORTED_REPORT_BYTES)")
                if chunk:
                    yield chunk
                elif not pending:
                    raise ValueError("the exported report is not complete gzip data (truncated)")
            pending = decompressor.unused_data  # a further gzip member, as gzip.decompress reads them
    except zlib.error as exc:
        raise ValueError(f"the exported report is not valid gzip data: {exc}") from None


def _open_temp(directory: Path, name: str, mode: Optional[int], replaced: Path) -> tuple[int, str]:
    """A new temporary file for `replaced`, with its final mode, without touching the process umask.

    An explicit `mode`, or the mode of the file being replaced, is set exactly
    with fchmod; otherwise the file is created 0666 and the kernel applies the
    umask, which is what a new file gets.
    """
    if mode is None:
        try:
            mode = replaced.stat().st_mode & 0o7777  # keep the mode of the file being replaced
        except OSError:
            mode = None
    while True:
        tmp_name = str(directory / f".{name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else 0o600)
        except FileExistsError:
            continue
        if mode is not None:
            os.fchmod(fd, mode)
        return fd, tmp_name


def write_bytes_atomic(file_path: Union[str, "os.PathLike[str]"], content: Union[bytes, str],
                       mode: Union[int, None] = None) -> Path:
    """Write through a temporary file in the same directory, then rename over the target.

    Readers see the old file or the new one, never half of one. Text is UTF-8
    encoded. Parent directories are created. `mode` defaults to the replaced
    file's mode, or what the umask gives a new file. Returns the path written.
    """
    if isinstance(content, str):
        content = content.encode("utf-8")
    return write_chunks_atomic(file_path, [content], mode)


def write_chunks_atomic(file_path: Union[str, "os.PathLike[str]"], chunks: Iterable[bytes],
                        mode: Union[int, None] = None) -> Path:
    """`write_bytes_atomic` for content produced in pieces; an error while producing them writes nothing."""
    target = Path(file_path)
    directory = target.parent if str(target.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = _open_temp(directory, target.name, mode, target)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
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

"""A one-line activity indicator for uploads and downloads, shown only when stderr is a terminal."""
from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import Optional, TextIO

FRAMES = "|/-\\"


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} bytes"  # pragma: no cover


class Progress:
    """`with Progress("uploading core.json (1.2 MB)"):` spins on a terminal, does nothing otherwise."""

    def __init__(self, message: str, stream: Optional[TextIO] = None, interval: float = 0.1,
                 enabled: bool = True) -> None:
        self.message = message
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        isatty = getattr(self.stream, "isatty", None)
        self.active = enabled and bool(isatty and isatty())  # enabled=False: -q/--quiet
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def _spin(self) -> None:
        frame = 0
        while True:
            self.stream.write(f"\r{FRAMES[frame % len(FRAMES)]} {self.message}\u2026")
            self.stream.flush()
            frame += 1
            if self._stop.wait(self.interval):
                break

    def __enter__(self) -> "Progress":
        if self.active:
            self._thread = threading.Thread(target=self._spin, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            # Erase the line so the result (or the error) starts at column 0.
            self.stream.write("\r" + " " * (len(self.message) + 3) + "\r")
            self.stream.flush()

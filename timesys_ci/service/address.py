"""Where the service of a data dir listens, recorded in the data dir so its URLs stay true.

`upload --local` writes report URLs into every output; they must work later, when
`service start --data DIR` serves that data dir. So a data dir remembers its port
(`service.json`): `--local` listens there when it can and always writes URLs with
it, `service start` reopens on it (unless `--port` says otherwise, which it then
records), and `service add-user` writes the URL of the service running on the
data dir. No server code is imported here: the CLI reads it without the extra.
"""
from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from timesys.core.utils import write_bytes_atomic
from timesys.exceptions import ParameterError

RECORD = "service.json"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


class DataDirError(ParameterError):
    """A --data/--local-data path that cannot be a data dir (exit status 2)."""


@dataclass(frozen=True)
class Address:
    host: str
    port: int
    pid: Optional[int] = None  # the `service start` serving the data dir now, if any

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"


def port_number(text: str) -> int:
    """argparse type of --port: 0 (any free port) to 65535."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535; 0: any free port)")
    return port


def usable_data_dir(path: Path, option: str = "--data") -> Path:
    """`path` as a data dir: an existing directory, or one that can be created; else a one-line error."""
    path = Path(os.path.expanduser(str(path)))
    if path.exists() and not path.is_dir():
        raise DataDirError(f"{option} {path}: exists and is not a directory")
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise DataDirError(f"{option} {path}: the directory is not writable")
        return path
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise DataDirError(f"{option} {path}: {parent} is not a directory")
    if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
        raise DataDirError(f"{option} {path}: cannot create it ({parent} is not writable)")
    return path


def recorded(data_dir: Path) -> Optional[Address]:
    """The address recorded for `data_dir`, if any (an unreadable record counts as none)."""
    try:
        data = json.loads((Path(data_dir) / RECORD).read_text(encoding="utf-8"))
        port, pid = int(data["port"]), data.get("pid")
        address = Address(str(data["host"]), port, int(pid) if pid else None)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return address if 0 < port <= 65535 else None


def record(data_dir: Path, host: str, port: int, pid: Optional[int] = None) -> None:
    content = {"host": host, "port": int(port), **({"pid": pid} if pid else {})}
    write_bytes_atomic(Path(data_dir) / RECORD, json.dumps(content) + "\n", mode=0o600)


def accepts_connections(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running(data_dir: Path) -> Optional[Address]:
    """The address of a `service start` serving `data_dir` now (its process alive, its port answering)."""
    address = recorded(data_dir)
    if address is None or address.pid is None or not _alive(address.pid):
        return None
    return address if accepts_connections(address.host, address.port) else None


def planned(data_dir: Path) -> Address:
    """Where `service start --data DIR` (without --port) will listen: the recorded port, else the default."""
    address = recorded(data_dir)
    return Address(address.host, address.port) if address else Address(DEFAULT_HOST, DEFAULT_PORT)

"""`--local`: run the job against the embedded Vigiles-compatible service, offline.

The service runs in-process on a loopback port with its data dir in the user's
cache; the first run creates a local user (its key file stays in that dir, mode
0600) and loads the bundled vulnerability data. The port is recorded in the data
dir (`timesys_ci.service.address`): report URLs always use it, so they work once
`service start --data DIR` serves the dir, and later runs listen on it when free.
"""
from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from timesys import ConfigurationError
from timesys.core.utils import write_bytes_atomic
from timesys_ci.service import address, require_service_extra
from timesys_ci.settings import cache_dir, local_data_dir  # noqa: F401 - cache_dir: kernel.cli imports it here

LOCAL_EMAIL = "local@timesys-ci.invalid"


@dataclass(frozen=True)
class LocalService:
    url: str  # where this run talks to it
    key_file: Path
    dashboard_config: Path
    data_dir: Path
    public_url: str = ""  # where reports are browsed: the data dir's recorded port
    served_by: Optional[int] = None  # pid of a `service start` serving the data dir now

    def browse_note(self) -> str:
        """How to open the reports later, with the interpreter this run used."""
        if self.served_by is not None:
            return f"the report is served by the service running on {self.data_dir} (pid {self.served_by})"
        command = shlex.join([sys.executable, "-m", "timesys_ci", "service", "start", "--data", str(self.data_dir)])
        return (f"the local service stopped with this run: the report URL works once it runs again on "
                f"{self.public_url}: {command}")


@contextmanager
def local_service(data_dir: Optional[Path] = None) -> Iterator[LocalService]:
    """Start the embedded service; yield its URL and the local user's key file and dashboard config.

    Uploads go to a group "Local builds" (not the Private Workspace), so repeated runs
    of the same manifest name can be compared (`--new-only`).
    """
    require_service_extra("--local")
    from timesys_ci.service.datadir import create_user

    data_dir = address.usable_data_dir(data_dir or local_data_dir(), "--local-data")
    key_file, dashboard = data_dir / "linuxlink_key", data_dir / "dashboard_config"
    serving = address.running(data_dir)
    remembered = address.recorded(data_dir)
    with _started(data_dir, remembered.port if remembered and serving is None else 0) as service:
        if remembered is None:
            remembered = address.Address(address.DEFAULT_HOST, int(service.server.effective_port))
            address.record(data_dir, remembered.host, remembered.port)
        storage = service.storage
        if storage.user(LOCAL_EMAIL) is None:
            create_user(storage, LOCAL_EMAIL, key_file, remembered.url)
        elif not key_file.exists() or not dashboard.exists():
            raise ConfigurationError(f"{data_dir}: the local user's files are missing; remove the directory to reset")
        if not dashboard.exists():
            group = storage.create_group("Local builds", "uploads of timesys-ci --local", None, LOCAL_EMAIL)
            write_bytes_atomic(dashboard, json.dumps({"group": group["token"]}) + "\n", mode=0o600)
        yield LocalService(url=service.url, key_file=key_file, dashboard_config=dashboard, data_dir=data_dir,
                           public_url=(serving or remembered).url, served_by=serving.pid if serving else None)


@contextmanager
def _started(data_dir: Path, port: int) -> Iterator[Any]:
    """The service on `port` (the data dir's own), or on any free port when that one is taken."""
    from timesys_ci.service.server import running_service

    with ExitStack() as stack:
        try:
            service = stack.enter_context(running_service(data_dir, port=port))
        except OSError:
            if port == 0:
                raise
            service = stack.enter_context(running_service(data_dir, port=0))
        yield service

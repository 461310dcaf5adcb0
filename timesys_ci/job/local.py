"""`--local`: run the job against the embedded Vigiles-compatible service, offline.

The service runs in-process on a loopback port with its data dir in the user's
cache; the first run creates a local user (its key file stays in that dir, mode
0600) and loads the bundled vulnerability data.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from timesys import ConfigurationError
from timesys.core.utils import write_bytes_atomic
from timesys_ci.service import require_service_extra
from timesys_ci.settings import local_data_dir

LOCAL_EMAIL = "local@timesys-ci.invalid"


@dataclass(frozen=True)
class LocalService:
    url: str
    key_file: Path
    dashboard_config: Path
    data_dir: Path


@contextmanager
def local_service(data_dir: Optional[Path] = None) -> Iterator[LocalService]:
    """Start the embedded service; yield its URL and the local user's key file and dashboard config.

    Uploads go to a group "Local builds" (not the Private Workspace), so repeated runs
    of the same manifest name can be compared (`--new-only`).
    """
    require_service_extra("--local")
    from timesys_ci.service.datadir import create_user
    from timesys_ci.service.server import running_service

    data_dir = data_dir or local_data_dir()
    key_file, dashboard = data_dir / "linuxlink_key", data_dir / "dashboard_config"
    with running_service(data_dir) as service:
        storage = service.storage
        if storage.user(LOCAL_EMAIL) is None:
            create_user(storage, LOCAL_EMAIL, key_file, service.url)
        elif not key_file.exists() or not dashboard.exists():
            raise ConfigurationError(f"{data_dir}: the local user's files are missing; remove the directory to reset")
        if not dashboard.exists():
            group = storage.create_group("Local builds", "uploads of timesys-ci --local", None, LOCAL_EMAIL)
            write_bytes_atomic(dashboard, json.dumps({"group": group["token"]}) + "\n", mode=0o600)
        yield LocalService(url=service.url, key_file=key_file, dashboard_config=dashboard, data_dir=data_dir)

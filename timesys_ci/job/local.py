"""`--local`: run the job against the embedded Vigiles-compatible service, offline.

The service runs in-process on a loopback port with its data dir in the user's
cache; the first run creates a local user (its key file stays in that dir, mode
0600) and loads the bundled vulnerability data.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from timesys import ConfigurationError

LOCAL_EMAIL = "local@timesys-ci.invalid"


def cache_dir() -> Path:
    """`TIMESYS_CI_CACHE`, else `$XDG_CACHE_HOME/timesys-ci`, else `~/.cache/timesys-ci`."""
    if os.environ.get("TIMESYS_CI_CACHE"):
        return Path(os.environ["TIMESYS_CI_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "timesys-ci"


@contextmanager
def local_service(data_dir: Optional[Path] = None) -> Iterator[tuple[str, Path]]:
    """Start the embedded service; yield (base URL, key file of the local user)."""
    try:
        from timesys_ci.service.datadir import create_user
        from timesys_ci.service.server import running_service
    except ImportError as exc:
        raise ConfigurationError(f"--local needs the service extra ({exc.name} is missing): "
                                 "pip install 'timesys-ci[service]'") from None
    data_dir = data_dir or cache_dir() / "local-service"
    key_file = data_dir / "linuxlink_key"
    with running_service(data_dir) as service:
        if service.storage.user(LOCAL_EMAIL) is None or not key_file.exists():
            if service.storage.user(LOCAL_EMAIL) is not None:  # key file lost: start over with a new user
                raise ConfigurationError(f"{key_file}: missing; remove {data_dir} to reset the local service")
            create_user(service.storage, LOCAL_EMAIL, key_file, service.url)
        yield service.url, key_file

"""A service data directory: the accounts database and the vulnerability database, created and seeded on first use."""
from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path
from typing import Optional

from timesys.core.utils import write_bytes_atomic
from timesys_ci.service.storage import Storage
from timesys_ci.service.vulndata import seed_with_sample

logger = logging.getLogger(__name__)


def open_data_dir(data_dir: Path, *, seed: bool = True) -> Storage:
    """Open (creating if needed) the data dir; an empty vulnerability database gets the bundled sample."""
    storage = Storage(Path(data_dir))
    if seed and storage.vulns.is_empty():
        seed_with_sample(storage.vulns)
        summary = storage.vulns.data_summary()
        logger.info("%s: loaded the bundled sample vulnerability data (%d records)", data_dir, summary["records"])
    return storage


def create_user(storage: Storage, email: str, key_file: Path, server_url: str, *, is_admin: bool = False,
                api_key: Optional[str] = None) -> Path:
    """Add a user and write their groups-flavour key file (mode 0600) pointing at the service."""
    email = email.strip()
    if "@" not in email or any(char.isspace() for char in email):
        raise ValueError(f"{email!r} is not an email address")
    api_key = api_key or secrets.token_urlsafe(32)
    try:
        storage.add_user(email, api_key, is_admin=is_admin)
    except KeyError:
        raise ValueError(f"user {email} already exists in {storage.data_dir}") from None
    content = json.dumps({"email": email, "organization_key": api_key, "server_url": server_url}, indent=2) + "\n"
    write_bytes_atomic(key_file, content.encode("utf-8"), mode=0o600)
    os.chmod(key_file, 0o600)
    return Path(key_file)

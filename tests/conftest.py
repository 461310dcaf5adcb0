from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Optional

import pytest

import timesys
from timesys.core.llapi import LLAPI

if TYPE_CHECKING:
    from timesys_ci.service.server import RunningService

# Made-up credentials of vigiles-api.md section 2.7; never real.
DEMO_EMAIL = "jane.doe@example.com"
DEMO_KEY = "kF3vX9-demo-key-NOT-REAL-7Qz"


@pytest.fixture
def write_key_file(tmp_path: Path) -> Callable[..., Path]:
    def write(content: object, name: str = "linuxlink_key", mode: int = 0o600) -> Path:
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        os.chmod(path, mode)
        return path

    return write


@pytest.fixture
def fresh_llapi(monkeypatch: pytest.MonkeyPatch) -> Iterator[LLAPI]:
    """A new shared client for the test, so global configuration never leaks between tests."""
    client = LLAPI()
    monkeypatch.setattr(timesys, "llapi", client)
    yield client
    client.close()


class LocalVigiles:
    """A running local service plus helpers to make users and configure clients against it."""

    def __init__(self, service: "RunningService", tmp_path: Path) -> None:
        self.service = service
        self.url = service.url
        self.storage = service.storage
        self._tmp = tmp_path
        self._users = 0

    def add_user(self, email: Optional[str] = None, *, is_admin: bool = False) -> Path:
        from timesys_ci.service.datadir import create_user

        self._users += 1
        email = email or f"user{self._users}@example.com"
        return create_user(self.storage, email, self._tmp / f"key-{self._users}.json", self.url, is_admin=is_admin)

    def client(self, email: Optional[str] = None, *, api: Optional[str] = None) -> LLAPI:
        """A configured client object for a new user (for calls through `Endpoint.call(client=...)`)."""
        return LLAPI(key_file_path=self.add_user(email), api=api)


@pytest.fixture
def local_vigiles(tmp_path: Path) -> Iterator[LocalVigiles]:
    """The local Vigiles service on an ephemeral loopback port, with the bundled sample data."""
    from timesys_ci.service.server import running_service

    with running_service(tmp_path / "service-data") as service:
        yield LocalVigiles(service, tmp_path)
        service.storage.close()


@pytest.fixture
def configured(local_vigiles: LocalVigiles, fresh_llapi: LLAPI) -> LLAPI:
    """The shared `timesys.llapi` configured for a fresh user of the local service."""
    fresh_llapi.configure(key_file_path=local_vigiles.add_user())
    return fresh_llapi

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Iterator

import pytest

import timesys
from timesys.core.llapi import LLAPI

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

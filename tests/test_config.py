"""Key files, dashboard configs, flavour resolution (decision D1) and their errors."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

import timesys
from timesys import ConfigurationError
from timesys.core.llapi import LLAPI

from .conftest import DEMO_EMAIL, DEMO_KEY


def test_plain_linuxlink_key_uses_products_flavour(write_key_file: Any) -> None:
    client = LLAPI(key_file_path=write_key_file({"email": DEMO_EMAIL, "key": DEMO_KEY}))
    assert (client.api, client.url) == ("products", "https://linuxlink.timesys.com")
    client.configure(url="https://vigiles.example.test/")
    assert (client.api, client.url) == ("groups", "https://vigiles.example.test")


@pytest.mark.parametrize("content, url", [
    ({"email": DEMO_EMAIL, "organization_key": DEMO_KEY}, "https://vigiles.lynx.com"),
    ({"email": DEMO_EMAIL, "key": DEMO_KEY, "server_url": " https://h.test// "}, "https://h.test/"),
    ({"email": DEMO_EMAIL, "organization_key": DEMO_KEY, "key": "other", "server_url": "https://e.test"},
     "https://e.test"),
])
def test_groups_flavour_key_files(write_key_file: Any, content: dict, url: str) -> None:
    client = LLAPI(key_file_path=write_key_file(content))
    assert (client.api, client.url) == ("groups", url)
    assert client.key == DEMO_KEY.encode()


def test_explicit_flavour_wins(write_key_file: Any) -> None:
    client = LLAPI(key_file_path=write_key_file({"email": DEMO_EMAIL, "organization_key": DEMO_KEY}), api="products")
    assert client.api == "products"
    with pytest.raises(ConfigurationError, match="api must be one of"):
        client.configure(api="enterprise")


@pytest.mark.parametrize("content, message", [
    ("", "not valid JSON"),
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must hold a JSON object"),
    ({"key": DEMO_KEY}, "missing member 'email'"),
    ({"email": DEMO_EMAIL}, "missing member 'organization_key'"),
    ({"email": DEMO_EMAIL, "key": "  "}, "member 'key' is empty"),
    ({"email": DEMO_EMAIL, "organization_key": None}, "member 'organization_key' must be a string"),
    ({"email": 3, "key": DEMO_KEY}, "member 'email' must be a string"),
])
def test_bad_key_files(write_key_file: Any, content: Any, message: str) -> None:
    path = write_key_file(content)
    with pytest.raises(ConfigurationError) as info:
        LLAPI(key_file_path=path)
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value)
    assert "\n" not in str(info.value) and DEMO_KEY not in str(info.value)


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="key file not found"):
        LLAPI(key_file_path=tmp_path / "nope")
    with pytest.raises(ConfigurationError, match="is a directory"):
        LLAPI(key_file_path=tmp_path)


def test_shared_key_file_warns(write_key_file: Any, caplog: pytest.LogCaptureFixture) -> None:
    path = write_key_file({"email": DEMO_EMAIL, "key": DEMO_KEY}, mode=0o644)
    with caplog.at_level(logging.WARNING, logger="timesys"):
        LLAPI(key_file_path=path)
    assert "accessible by group or others" in caplog.text and "chmod 600" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="timesys"):
        LLAPI(key_file_path=write_key_file({"email": DEMO_EMAIL, "key": DEMO_KEY}, name="private"))
    assert "accessible" not in caplog.text


@pytest.mark.parametrize("content, group, folder", [
    ({"group": " G1 ", "folder": " F1 "}, "G1", "F1"),
    ({"product": "P1"}, "P1", None),
    ({"group": "G1", "product": "P1"}, "G1", None),
])
def test_dashboard_configs(write_key_file: Any, content: dict, group: str, folder: str) -> None:
    client = LLAPI(key_file_path=write_key_file({"email": DEMO_EMAIL, "key": DEMO_KEY}))
    client.folder_token = "old"
    client.configure(dashboard_config_path=write_key_file(content, name="dash"))
    assert (client.group_token, client.product_token, client.folder_token) == (group, group, folder)


@pytest.mark.parametrize("content, message", [
    ({"group": "", "product": "P1"}, "missing or empty member 'group'"),
    ({}, "missing or empty member 'group'"),
    ({"group": "G", "folder": None}, "member 'folder' must be a string"),
    ("{", "not valid JSON"),
])
def test_bad_dashboard_configs(write_key_file: Any, content: Any, message: str) -> None:
    path = write_key_file(content, name="dash")
    with pytest.raises(ConfigurationError, match=message) as info:
        LLAPI(dashboard_config_path=path)
    assert str(path) in str(info.value)


def test_current_config_redacts_key(write_key_file: Any) -> None:
    client = LLAPI(key_file_path=write_key_file({"email": DEMO_EMAIL, "key": DEMO_KEY}))
    assert client.current_config["key"] == "<redacted>"
    assert DEMO_KEY not in repr(client.current_config) and DEMO_KEY not in repr(client)
    assert client.version == timesys.__version__


def test_log_level_and_warnings(write_key_file: Any, caplog: pytest.LogCaptureFixture) -> None:
    client = LLAPI()
    with caplog.at_level(logging.DEBUG):
        client.configure(dry_run=True, verify_cert=False)
    assert "Dry Run mode is enabled. No requests will be made." in caplog.text
    assert "Insecure requests are enabled" in caplog.text
    client.configure(log_level="error")
    assert logging.getLogger("timesys").level == logging.ERROR
    with pytest.raises(ConfigurationError, match="unknown log level"):
        client.configure(log_level="LOUD")
    client.configure(log_level="WARNING")


def test_timeout_validation() -> None:
    client = LLAPI(timeout=5)
    assert client.timeout == 5
    with pytest.raises(ConfigurationError, match="timeout"):
        client.configure(timeout=(1, -1))

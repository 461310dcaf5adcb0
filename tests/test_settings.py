"""Settings: each source, the precedence flags > environment > files > defaults, errors, secrecy, apply()."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from timesys import ConfigurationError
from timesys.core import config as core_config
from timesys.core.llapi import LLAPI
from timesys_ci.settings import CommandLine, Settings, SettingsError

from .conftest import DEMO_EMAIL, DEMO_KEY

KEY_JSON = json.dumps({"email": DEMO_EMAIL, "organization_key": DEMO_KEY, "server_url": "https://env.test/"})


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def _write(path: Path, content: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    os.chmod(path, 0o600)
    return path


def _default_files(home: Path) -> tuple[Path, Path]:
    key = _write(home / "timesys" / "linuxlink_key",
                 {"email": "default@example.com", "organization_key": DEMO_KEY, "server_url": "https://file.test"})
    dash = _write(home / "timesys" / "dashboard_config", {"group": "GFILE", "folder": "FFILE"})
    return key, dash


def resolve(home: Path, flags: CommandLine = CommandLine(), **env: str) -> Settings:
    return Settings.resolve(flags, {"HOME": str(home), **env})


def test_nothing_configured(home: Path) -> None:
    settings = resolve(home)
    assert settings.key is None and settings.dashboard is None and settings.group_token is None
    assert settings.sources["key"] == "none" and settings.verify_cert is True
    with pytest.raises(SettingsError, match="^no API key: use -k/--key-file"):
        settings.apply(LLAPI())


def test_default_files_are_used_when_present(home: Path) -> None:
    key, dash = _default_files(home)
    settings = resolve(home)
    assert settings.key is not None and settings.key.email == "default@example.com"
    assert settings.sources["key"] == "default ~/timesys/linuxlink_key"
    assert (settings.group_token, settings.folder_token) == ("GFILE", "FFILE")
    assert settings.sources["group_token"] == f"file {dash}"
    assert settings.describe()["url"] == {"value": "https://file.test", "source": f"file {key} (server_url)"}


def test_environment_beats_files(home: Path, tmp_path: Path) -> None:
    _default_files(home)
    env_dash = _write(tmp_path / "env_dash", {"group": "GENVFILE"})
    settings = resolve(home, VIGILES_KEY=KEY_JSON, VIGILES_DASHBOARD_CONFIG=str(env_dash),
                       VIGILES_URL="https://url.test", LINUXLINK_SERVER="https://ll.test", VIGILES_TIMEOUT="7.5",
                       VIGILES_API="products")
    assert settings.key is not None and settings.key.email == DEMO_EMAIL
    assert settings.sources["key"] == "env VIGILES_KEY"
    assert (settings.group_token, settings.folder_token) == ("GENVFILE", None)
    assert (settings.url, settings.sources["url"]) == ("https://url.test", "env VIGILES_URL")
    assert (settings.timeout, settings.api) == (7.5, "products")
    assert resolve(home, LINUXLINK_SERVER="https://ll.test").sources["url"] == "env LINUXLINK_SERVER"


def test_flags_beat_environment(home: Path, tmp_path: Path) -> None:
    flag_key = _write(tmp_path / "flag_key", {"email": "flag@example.com", "key": DEMO_KEY})
    flag_dash = _write(tmp_path / "flag_dash", {"product": "GFLAGFILE"})
    flags = CommandLine(key_file=str(flag_key), dash_config=str(flag_dash), url="https://flag.test", api="groups",
                        timeout=3, group_token="GFLAG", folder_token="FFLAG", insecure=True, dry_run=True)
    settings = resolve(home, flags, VIGILES_KEY=KEY_JSON, VIGILES_URL="https://url.test", VIGILES_TIMEOUT="9",
                       VIGILES_API="products", VIGILES_GROUP_TOKEN="GENV", VIGILES_FOLDER_TOKEN="FENV",
                       VIGILES_INSECURE="0")
    assert settings.key is not None and settings.key.email == "flag@example.com"
    assert settings.dashboard is not None and settings.dashboard.group_token == "GFLAGFILE"
    assert (settings.url, settings.api, settings.timeout) == ("https://flag.test", "groups", 3)
    assert (settings.group_token, settings.folder_token) == ("GFLAG", "FFLAG")
    assert settings.verify_cert is False and settings.dry_run is True
    assert settings.sources == {"key": "flag --key-file", "dashboard": "flag --dash-config", "url": "flag --url",
                                "api": "flag --api", "group_token": "flag --group-token",
                                "folder_token": "flag --folder-token", "verify_cert": "flag --insecure",
                                "timeout": "flag --timeout", "dry_run": "flag --dry-run"}


def test_token_environment_variables(home: Path) -> None:
    _default_files(home)
    settings = resolve(home, VIGILES_PRODUCT_TOKEN=" GPROD ")
    # The dashboard's folder belongs to its group: dropped when another group is chosen.
    assert (settings.group_token, settings.folder_token) == ("GPROD", None)
    assert settings.sources["group_token"] == "env VIGILES_PRODUCT_TOKEN"
    same = resolve(home, VIGILES_GROUP_TOKEN="G", VIGILES_PRODUCT_TOKEN="G")
    assert same.group_token == "G"
    with pytest.raises(SettingsError, match="VIGILES_GROUP_TOKEN and VIGILES_PRODUCT_TOKEN differ"):
        resolve(home, VIGILES_GROUP_TOKEN="G1", VIGILES_PRODUCT_TOKEN="G2")
    inline = resolve(home, VIGILES_DASHBOARD_CONFIG_JSON='{"group": "GJ", "folder": "FJ"}', VIGILES_FOLDER_TOKEN="FE")
    assert (inline.group_token, inline.folder_token) == ("GJ", "FE")
    assert inline.sources["group_token"] == "env VIGILES_DASHBOARD_CONFIG_JSON"


def test_key_file_environment_variable(home: Path, tmp_path: Path) -> None:
    _default_files(home)
    key = _write(tmp_path / "k", {"email": "kf@example.com", "key": DEMO_KEY})
    settings = resolve(home, VIGILES_KEY_FILE=str(key))
    assert settings.key is not None and settings.key.email == "kf@example.com"
    assert settings.sources["key"] == "env VIGILES_KEY_FILE"
    # a plain LinuxLink key file selects the products flavour (decision D1)
    assert settings.effective_connection() == {"url": "https://linuxlink.timesys.com", "api": "products"}
    with pytest.raises(SettingsError, match="^VIGILES_KEY and VIGILES_KEY_FILE are both set"):
        resolve(home, VIGILES_KEY_FILE=str(key), VIGILES_KEY=KEY_JSON)


def test_empty_variables_count_as_unset(home: Path) -> None:
    settings = resolve(home, VIGILES_KEY="", VIGILES_URL="  ", VIGILES_INSECURE="", VIGILES_TIMEOUT="")
    assert settings.key is None and settings.url is None and settings.verify_cert is True


@pytest.mark.parametrize("env, message", [
    ({"VIGILES_KEY": "{"}, "VIGILES_KEY: not valid JSON ("),
    ({"VIGILES_KEY": "[]"}, "VIGILES_KEY: must hold a JSON object, not list"),
    ({"VIGILES_KEY": json.dumps({"key": DEMO_KEY})}, "VIGILES_KEY: missing member 'email'"),
    ({"VIGILES_KEY": json.dumps({"email": DEMO_EMAIL, "key": " "})}, "VIGILES_KEY: member 'key' is empty"),
    ({"VIGILES_DASHBOARD_CONFIG_JSON": '{"group": "G", "folder": null}'},
     "VIGILES_DASHBOARD_CONFIG_JSON: member 'folder' must be a string, not NoneType"),
    ({"VIGILES_DASHBOARD_CONFIG": "/nonexistent/dash"}, "/nonexistent/dash: dashboard config not found"),
    ({"VIGILES_INSECURE": "2"}, "VIGILES_INSECURE: expected 1/true/yes/on or 0/false/no/off, not '2'"),
    ({"VIGILES_TIMEOUT": "0"}, "VIGILES_TIMEOUT: expected a positive number of seconds, not '0'"),
    ({"VIGILES_TIMEOUT": "inf"}, "VIGILES_TIMEOUT: expected a positive number of seconds, not 'inf'"),
    ({"VIGILES_URL": "vigiles.example.com"}, "VIGILES_URL: expected an http:// or https:// URL"),
    ({"VIGILES_CA_BUNDLE": "/nonexistent/ca.pem"}, "VIGILES_CA_BUNDLE: CA bundle /nonexistent/ca.pem not found"),
    ({"VIGILES_API": "enterprise"}, "VIGILES_API: expected groups or products, not 'enterprise'"),
])
def test_bad_environment(home: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve(home, **env)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value) and DEMO_KEY not in str(info.value)


def test_bad_flags(home: Path) -> None:
    with pytest.raises(SettingsError, match="^--timeout: expected a positive number"):
        resolve(home, CommandLine(timeout=-1))
    with pytest.raises(SettingsError, match="^--url: expected an http"):
        resolve(home, CommandLine(url="ftp://x"))
    with pytest.raises(ConfigurationError, match="key file not found"):
        resolve(home, CommandLine(key_file=str(home / "missing")))


@pytest.mark.parametrize("word, insecure", [("1", True), ("TRUE", True), ("yes", True), ("On", True),
                                             ("0", False), ("false", False), ("No", False), ("off", False)])
def test_insecure_words(home: Path, word: str, insecure: bool) -> None:
    settings = resolve(home, VIGILES_INSECURE=word)
    assert settings.insecure is insecure and settings.sources["verify_cert"] == "env VIGILES_INSECURE"


def test_ca_bundle(home: Path, tmp_path: Path) -> None:
    bundle = _write(tmp_path / "ca.pem", "-----BEGIN CERTIFICATE-----\n")
    settings = resolve(home, VIGILES_CA_BUNDLE=str(bundle))
    assert settings.verify_cert == str(bundle) and settings.sources["verify_cert"] == "env VIGILES_CA_BUNDLE"
    assert resolve(home, CommandLine(ca_bundle=str(bundle)), VIGILES_INSECURE="yes").verify_cert is False


def test_apply_configures_a_client(home: Path) -> None:
    flags = CommandLine(group_token="G", timeout=4, dry_run=True, api="products")
    settings = resolve(home, flags, VIGILES_KEY=KEY_JSON, VIGILES_INSECURE="on")
    client = settings.apply(LLAPI())
    assert (client.email, client.key, client.url) == (DEMO_EMAIL, DEMO_KEY.encode(), "https://env.test")
    assert (client.api, client.group_token, client.folder_token) == ("products", "G", None)
    assert (client.verify_cert, client.timeout, client.dry_run, client.configured) == (False, 4, True, True)
    overridden = resolve(home, VIGILES_KEY=KEY_JSON, VIGILES_URL="https://other.test/").apply(LLAPI())
    assert overridden.url == "https://other.test"


def test_key_never_shown(home: Path) -> None:
    settings = resolve(home, VIGILES_KEY=KEY_JSON)
    shown = [repr(settings), str(settings), settings.model_dump_json(), repr(settings.model_dump()),
             json.dumps(settings.describe()), repr(settings.key)]
    assert all(DEMO_KEY not in text for text in shown)
    assert settings.key is not None and settings.key.key == DEMO_KEY.encode()
    # The settings hold the library's own models, as the client loads them: no copy, no round trip.
    assert type(settings.key) is core_config.KeyFile
    assert json.loads(settings.model_dump_json())["key"]["key"] == "<redacted>"


def test_one_model_of_each_file_from_the_library(tmp_path: Path) -> None:
    model = core_config.parse_key_data({"email": " a@b.c ", "key": "k1", "server_url": "https://x.test//"}, "secret")
    assert (model.email, model.server_url, model.key_member, model.source) == ("a@b.c", "https://x.test/", "key",
                                                                              "secret")
    with pytest.raises(ConfigurationError, match="^secret: missing member 'organization_key' \\(or 'key'\\)$"):
        core_config.parse_key_data({"email": "a@b.c"}, "secret")
    dash = core_config.read_dashboard_config(_write(tmp_path / "d", {"group": " G ", "folder": " F "}))
    assert (dash.group_token, dash.folder_token) == ("G", "F")
    with pytest.raises(ConfigurationError, match=f"^{tmp_path}/e: missing or empty member 'group'"):
        core_config.read_dashboard_config(_write(tmp_path / "e", {"group": "", "product": "P"}))

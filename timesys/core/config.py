"""Key file and dashboard config: reading, validation and the URL/flavour rules.

`KeyFile` and `DashboardConfig` are the one model of each: `LLAPI.configure` loads
them, and `timesys_ci.settings` resolves which one applies (flags, environment,
files) and holds them as they are. Their rules (vigiles-api.md sections 1 and 0/D1)
live here once; plain dataclasses, so the client library needs no pydantic.
"""
from __future__ import annotations

import json
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping, Optional, Union

from timesys.exceptions import ConfigurationError

logger = logging.getLogger(__name__)

Flavour = Literal["groups", "products"]
FLAVOURS: tuple[Flavour, ...] = ("groups", "products")
GROUPS_SERVER = "https://vigiles.lynx.com"
PRODUCTS_SERVER = "https://linuxlink.timesys.com"
DEFAULT_KEY_FILE = Path("~/timesys/linuxlink_key")
PathLike = Union[str, "os.PathLike[str]"]


def normalise_server_url(url: str) -> str:
    """Trim whitespace and remove exactly one trailing slash (section 1.1)."""
    url = url.strip()
    return url[:-1] if url.endswith("/") else url


@dataclass(frozen=True)
class KeyFile:
    """A parsed key file. `repr` never shows the key."""

    email: str
    key: bytes = field(repr=False)
    server_url: Optional[str]
    #: "organization" when the key came from `organization_key` (Vigiles), else "linuxlink".
    key_member: Literal["organization_key", "key"]
    source: str = "key file"

    @property
    def key_text(self) -> str:
        """The key as text, for the filters that keep it out of output; never print it."""
        return self.key.decode("utf-8")

    @property
    def is_plain_linuxlink(self) -> bool:
        """An era-P key file: `email` + `key` only, no `server_url` (decision D1, rule 3)."""
        return self.key_member == "key" and self.server_url is None

    @property
    def url(self) -> str:
        if self.server_url is not None:
            return self.server_url
        return PRODUCTS_SERVER if self.is_plain_linuxlink else GROUPS_SERVER

    @property
    def flavour(self) -> Flavour:
        return "products" if self.is_plain_linuxlink else "groups"


@dataclass(frozen=True)
class DashboardConfig:
    group_token: str
    folder_token: Optional[str] = None
    source: str = "dashboard config"


def _string_member(data: Mapping[str, Any], name: str, source: str, required: bool) -> Optional[str]:
    if name not in data:
        if required:
            raise ConfigurationError(f"{source}: missing member '{name}'")
        return None
    value = data[name]
    if not isinstance(value, str):
        raise ConfigurationError(f"{source}: member '{name}' must be a string, not {type(value).__name__}")
    return value.strip()


def _load_json_object(text: str, source: str) -> Mapping[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{source}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{source}: must hold a JSON object, not {type(data).__name__}")
    return data


def _read_text(path: PathLike, what: str) -> tuple[str, str]:
    resolved = Path(os.path.expanduser(os.fspath(path)))
    source = str(resolved)
    try:
        return resolved.read_text(encoding="utf-8"), source
    except FileNotFoundError:
        raise ConfigurationError(f"{source}: {what} not found") from None
    except IsADirectoryError:
        raise ConfigurationError(f"{source}: {what} is a directory") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigurationError(f"{source}: cannot read {what} ({reason})") from None


def parse_key_data(data: Mapping[str, Any], source: str = "key file") -> KeyFile:
    """Validate a key file's JSON object (section 1.1, current rules; empty keys rejected)."""
    email = _string_member(data, "email", source, required=True)
    if not email:
        raise ConfigurationError(f"{source}: member 'email' is empty")
    if "organization_key" in data:
        key_member: Literal["organization_key", "key"] = "organization_key"
    elif "key" in data:
        key_member = "key"
    else:
        raise ConfigurationError(f"{source}: missing member 'organization_key' (or 'key')")
    key = _string_member(data, key_member, source, required=True)
    if not key:
        raise ConfigurationError(f"{source}: member '{key_member}' is empty")
    server_url = _string_member(data, "server_url", source, required=False)
    if server_url is not None:
        server_url = normalise_server_url(server_url)
        if not server_url:
            raise ConfigurationError(f"{source}: member 'server_url' is empty")
    return KeyFile(email=email, key=key.encode("utf-8"), server_url=server_url, key_member=key_member, source=source)


def parse_key_text(text: str, source: str = "key file") -> KeyFile:
    return parse_key_data(_load_json_object(text, source), source)


def _warn_if_shared(path: str) -> None:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning("%s: key file is accessible by group or others (mode %03o); run: chmod 600 %s", path, mode & 0o777, path)


def read_key_file(path: PathLike) -> KeyFile:
    text, source = _read_text(path, "key file")
    key_file = parse_key_text(text, source)
    _warn_if_shared(source)
    return key_file


def parse_dashboard_data(data: Mapping[str, Any], source: str = "dashboard config") -> DashboardConfig:
    """Validate a dashboard config (section 1.2): `group`, else legacy `product`; optional `folder`."""
    member = "group" if "group" in data else "product"
    token = _string_member(data, member, source, required=False) or ""
    if not token:
        raise ConfigurationError(f"{source}: missing or empty member 'group' (or 'product')")
    folder = _string_member(data, "folder", source, required=False)
    return DashboardConfig(group_token=token, folder_token=folder or None, source=source)


def parse_dashboard_text(text: str, source: str = "dashboard config") -> DashboardConfig:
    return parse_dashboard_data(_load_json_object(text, source), source)


def read_dashboard_config(path: PathLike) -> DashboardConfig:
    text, source = _read_text(path, "dashboard config")
    return parse_dashboard_text(text, source)

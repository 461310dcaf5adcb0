"""Effective settings of timesys-ci: where the key, the dashboard config and the connection options come from.

Precedence, first match wins: command-line flags > environment variables > files
(the key file's `server_url`, the dashboard config's tokens) > defaults
(`~/timesys/linuxlink_key` and `~/timesys/dashboard_config`, each used only if it
exists). Every effective value remembers its source (`flag --url`, `env VIGILES_URL`,
`file /x/key`, `default`) for `timesys-ci config show`.

Key files and dashboard configs are modelled and validated by `timesys.core.config`
(`KeyFile`, `DashboardConfig`: the one model of each, which the client library loads
as they are); this module only adds the sources and the precedence. The API key never
appears in a repr, a dump or an error.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal, Mapping, Optional, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Field, InstanceOf, field_serializer

from timesys.core import config as core_config
from timesys.core.llapi import REDACTED, LLAPI
from timesys.exceptions import ConfigurationError
from timesys_ci.booleans import parse_bool

ENV_KEY_FILE = "VIGILES_KEY_FILE"
ENV_KEY = "VIGILES_KEY"
ENV_DASHBOARD_FILE = "VIGILES_DASHBOARD_CONFIG"
ENV_DASHBOARD_JSON = "VIGILES_DASHBOARD_CONFIG_JSON"
ENV_GROUP_TOKEN = "VIGILES_GROUP_TOKEN"
ENV_PRODUCT_TOKEN = "VIGILES_PRODUCT_TOKEN"
ENV_FOLDER_TOKEN = "VIGILES_FOLDER_TOKEN"
ENV_URL = "VIGILES_URL"
ENV_LINUXLINK_SERVER = "LINUXLINK_SERVER"
ENV_API = "VIGILES_API"
ENV_CA_BUNDLE = "VIGILES_CA_BUNDLE"
ENV_INSECURE = "VIGILES_INSECURE"
ENV_TIMEOUT = "VIGILES_TIMEOUT"

#: Every environment variable read, with what it means (for docs and `config show`).
ENVIRONMENT_VARIABLES: dict[str, str] = {
    ENV_KEY_FILE: "path of the key file",
    ENV_KEY: "the key file's JSON content (for CI secrets)",
    ENV_DASHBOARD_FILE: "path of the dashboard config",
    ENV_DASHBOARD_JSON: "the dashboard config's JSON content",
    ENV_GROUP_TOKEN: "group token (overrides the dashboard config)",
    ENV_PRODUCT_TOKEN: "same as VIGILES_GROUP_TOKEN (LinuxLink name)",
    ENV_FOLDER_TOKEN: "folder token (overrides the dashboard config)",
    ENV_URL: "base URL of the service",
    ENV_LINUXLINK_SERVER: "base URL, as meta-timesys sets it (below VIGILES_URL)",
    ENV_API: "API flavour: groups or products",
    ENV_CA_BUNDLE: "CA bundle file used to verify the server's certificate",
    ENV_INSECURE: "1/true/yes/on: do not verify TLS certificates",
    ENV_TIMEOUT: "request timeout in seconds",
}

DEFAULT_KEY_FILE = "~/timesys/linuxlink_key"
DEFAULT_DASHBOARD_CONFIG = "~/timesys/dashboard_config"
DEFAULT = "default"
NO_KEY_MESSAGE = ("no API key: use -k/--key-file, set VIGILES_KEY_FILE or VIGILES_KEY, "
                  "or create ~/timesys/linuxlink_key")


_Parsed = TypeVar("_Parsed", core_config.KeyFile, core_config.DashboardConfig)


class SettingsError(ConfigurationError):
    """A flag, environment variable or file holds an invalid setting (message names it)."""


@dataclass(frozen=True)
class CommandLine:
    """Values given as command-line flags; None (or False) means "not given"."""

    key_file: Optional[str] = None
    dash_config: Optional[str] = None
    url: Optional[str] = None
    api: Optional[str] = None
    ca_bundle: Optional[str] = None
    insecure: bool = False
    timeout: Optional[float] = None
    group_token: Optional[str] = None
    folder_token: Optional[str] = None
    dry_run: bool = False


class Settings(BaseModel):
    """The effective settings and, in `sources`, where each value came from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: Optional[InstanceOf[core_config.KeyFile]] = None
    dashboard: Optional[InstanceOf[core_config.DashboardConfig]] = None
    #: An explicit base URL (flag or environment); None: the key file decides.
    url: Optional[str] = None
    api: Optional[Literal["groups", "products"]] = None
    group_token: Optional[str] = None
    folder_token: Optional[str] = None
    ca_bundle: Optional[str] = None
    insecure: bool = False
    timeout: Optional[float] = Field(default=None, gt=0)
    dry_run: bool = False
    sources: dict[str, str] = Field(default_factory=dict)

    @field_serializer("key")
    def _dump_key(self, key: Optional[core_config.KeyFile]) -> Optional[dict[str, Any]]:
        """The key file as dumps show it: everything but the key."""
        if key is None:
            return None
        return {"email": key.email, "key": REDACTED, "server_url": key.server_url, "key_member": key.key_member,
                "source": key.source}

    @classmethod
    def resolve(cls, command_line: Optional[CommandLine] = None,
                environ: Optional[Mapping[str, str]] = None) -> "Settings":
        """Apply the precedence to flags, `environ` (default: os.environ) and files."""
        resolver = SettingsResolver(command_line or CommandLine(), os.environ if environ is None else environ)
        return resolver.settings()

    @property
    def verify_cert(self) -> Union[bool, str]:
        """What `LLAPI.verify_cert` gets: False (insecure), a CA bundle path, or True."""
        if self.insecure:
            return False
        return self.ca_bundle if self.ca_bundle else True

    def require_key(self) -> core_config.KeyFile:
        if self.key is None:
            raise SettingsError(NO_KEY_MESSAGE)
        return self.key

    def apply(self, client: LLAPI, *, require_key: bool = True) -> LLAPI:
        """Configure `client` with these settings (the key is required unless `require_key` is False)."""
        if self.key is not None:
            client.load_key(self.key)
        elif require_key:
            self.require_key()
        if self.dashboard is not None:
            client.load_dashboard_config(self.dashboard)
        # Flags and environment may override the dashboard's tokens, so they are set last.
        client.group_token, client.folder_token = self.group_token, self.folder_token
        client.configure(url=self.url, verify_cert=self.verify_cert, api=self.api, timeout=self.timeout,
                         dry_run=self.dry_run)
        return client

    def effective_connection(self) -> dict[str, Any]:
        """The base URL and flavour the client will use, as the library decides them."""
        probe = LLAPI()
        if self.key is not None:
            probe.load_key(self.key)
        probe.configure(url=self.url, api=self.api)
        url = probe.url if probe.url is not None else None
        return {"url": url, "api": probe.api}

    def describe(self) -> dict[str, dict[str, Any]]:
        """Every effective value with its source, the key redacted (for `config show`)."""
        connection = self.effective_connection()
        key_source = self.sources.get("key", "none")
        rows: dict[str, dict[str, Any]] = {
            "key": {"value": REDACTED if self.key else None, "source": key_source},
            "email": {"value": self.key.email if self.key else None, "source": key_source},
            "url": {"value": connection["url"], "source": self.sources.get("url", "none")},
            "api": {"value": connection["api"], "source": self.sources.get("api", DEFAULT)},
            "dashboard_config": {"value": self.dashboard.source if self.dashboard else None,
                                 "source": self.sources.get("dashboard", "none")},
            "group_token": {"value": self.group_token, "source": self.sources.get("group_token", "none")},
            "folder_token": {"value": self.folder_token, "source": self.sources.get("folder_token", "none")},
            "verify_cert": {"value": self.verify_cert, "source": self.sources.get("verify_cert", DEFAULT)},
            "timeout": {"value": self.timeout if self.timeout is not None else "10 s connect, 300 s read",
                        "source": self.sources.get("timeout", DEFAULT)},
            "dry_run": {"value": self.dry_run, "source": self.sources.get("dry_run", DEFAULT)},
        }
        return rows


class SettingsResolver:
    """Resolves each concern separately, so `doctor` can report every problem, not just the first."""

    def __init__(self, command_line: CommandLine, environ: Mapping[str, str]) -> None:
        self.flags = command_line
        self.environ = environ
        home = environ.get("HOME")
        self.home = Path(home) if home else Path.home()

    def env(self, name: str) -> Optional[str]:
        """A variable's value; empty counts as unset (CI systems set missing secrets to "")."""
        value = self.environ.get(name)
        return value if value not in (None, "") and value.strip() else None

    def _default_path(self, template: str) -> Optional[Path]:
        path = self.home / template[2:]
        return path if path.exists() else None

    def _one_of(self, *names: str) -> Optional[tuple[str, str]]:
        given = [(name, self.env(name)) for name in names if self.env(name) is not None]
        if len(given) > 1:
            raise SettingsError(f"{given[0][0]} and {given[1][0]} are both set: unset one of them")
        return (given[0][0], given[0][1]) if given else None  # type: ignore[return-value]

    # -- the key -------------------------------------------------------------------------

    def _file_setting(self, parse_text: Callable[[str, str], _Parsed], read: Callable[[Union[str, Path]], _Parsed],
                      flag: Optional[str], flag_name: str, content_env: str, path_env: str,
                      default: str) -> tuple[Optional[_Parsed], str]:
        """A key file or dashboard config: flag path > env content or env path (not both) > default path."""
        if flag:
            return read(flag), f"flag {flag_name}"
        chosen = self._one_of(content_env, path_env)
        if chosen is not None:
            name, value = chosen
            return (parse_text(value, content_env) if name == content_env else read(value)), f"env {name}"
        path = self._default_path(default)
        if path is not None:
            return read(path), f"default {default}"
        return None, "none"

    def key(self) -> tuple[Optional[core_config.KeyFile], str]:
        return self._file_setting(core_config.parse_key_text, core_config.read_key_file, self.flags.key_file,
                                  "--key-file", ENV_KEY, ENV_KEY_FILE, DEFAULT_KEY_FILE)

    def dashboard(self) -> tuple[Optional[core_config.DashboardConfig], str]:
        return self._file_setting(core_config.parse_dashboard_text, core_config.read_dashboard_config,
                                  self.flags.dash_config, "--dash-config", ENV_DASHBOARD_JSON, ENV_DASHBOARD_FILE,
                                  DEFAULT_DASHBOARD_CONFIG)

    # -- tokens --------------------------------------------------------------------------

    def tokens(self, dashboard: Optional[core_config.DashboardConfig],
               dashboard_source: str = "") -> dict[str, tuple[Optional[str], str]]:
        inline = dashboard_source == f"env {ENV_DASHBOARD_JSON}"
        dashboard_origin = dashboard_source if inline or dashboard is None else f"file {dashboard.source}"
        group: tuple[Optional[str], str]
        if self.flags.group_token:
            group = (self.flags.group_token.strip(), "flag --group-token")
        else:
            values = {name: self.env(name) for name in (ENV_GROUP_TOKEN, ENV_PRODUCT_TOKEN) if self.env(name)}
            if len({v.strip() for v in values.values() if v}) > 1:
                raise SettingsError(f"{ENV_GROUP_TOKEN} and {ENV_PRODUCT_TOKEN} differ: they name the same token, "
                                    "set only one")
            if values:
                name, value = next(iter(values.items()))
                group = (value.strip(), f"env {name}")
            elif dashboard is not None:
                group = (dashboard.group_token, dashboard_origin)
            else:
                group = (None, "none")
        folder: tuple[Optional[str], str]
        if self.flags.folder_token:
            folder = (self.flags.folder_token.strip(), "flag --folder-token")
        elif self.env(ENV_FOLDER_TOKEN):
            folder = (self.env(ENV_FOLDER_TOKEN).strip(), f"env {ENV_FOLDER_TOKEN}")  # type: ignore[union-attr]
        elif dashboard is not None and dashboard.folder_token and group[0] == dashboard.group_token:
            # A dashboard's folder belongs to its group: not used when another group was chosen.
            folder = (dashboard.folder_token, dashboard_origin)
        else:
            folder = (None, "none")
        return {"group_token": group, "folder_token": folder}

    # -- connection ----------------------------------------------------------------------

    def url(self, key: Optional[core_config.KeyFile], key_source: str) -> tuple[Optional[str], str]:
        """The explicit URL override (None: the key file or the library default decides)."""
        candidates = ((self.flags.url, "--url", "flag --url"), (self.env(ENV_URL), ENV_URL, f"env {ENV_URL}"),
                      (self.env(ENV_LINUXLINK_SERVER), ENV_LINUXLINK_SERVER, f"env {ENV_LINUXLINK_SERVER}"))
        for value, name, source in candidates:
            if value:
                return _check_url(value.strip(), name), source
        if key is not None:
            if key.server_url is not None:
                origin = key_source if key_source == f"env {ENV_KEY}" else f"file {key.source}"
                return None, f"{origin} (server_url)"
            return None, f"{DEFAULT} (key file without server_url)"
        return None, "none"

    def api(self) -> tuple[Optional[str], str]:
        for value, name in ((self.flags.api, "--api"), (self.env(ENV_API), ENV_API)):
            if value:
                source = f"flag {name}" if name.startswith("--") else f"env {name}"
                flavour = value.strip().lower()
                if flavour not in core_config.FLAVOURS:
                    raise SettingsError(f"{name}: expected groups or products, not {value!r}")
                return flavour, source
        return None, "derived from the key file and URL"

    def verify(self) -> tuple[bool, Optional[str], str]:
        """(insecure, ca_bundle, source). Insecure wins over a CA bundle."""
        insecure: tuple[bool, str] = (False, DEFAULT)
        if self.flags.insecure:
            insecure = (True, "flag --insecure")
        elif self.env(ENV_INSECURE) is not None:
            insecure = (_parse_bool(self.env(ENV_INSECURE) or "", ENV_INSECURE), f"env {ENV_INSECURE}")
        if insecure[0]:
            return True, None, insecure[1]
        for value, name, source in ((self.flags.ca_bundle, "--ca-bundle", "flag --ca-bundle"),
                                    (self.env(ENV_CA_BUNDLE), ENV_CA_BUNDLE, f"env {ENV_CA_BUNDLE}")):
            if value:
                path = os.path.expanduser(value.strip())
                if not os.path.isfile(path):
                    raise SettingsError(f"{name}: CA bundle {path} not found")
                return False, path, source
        return False, None, insecure[1]

    def timeout(self) -> tuple[Optional[float], str]:
        if self.flags.timeout is not None:
            return _check_timeout(str(self.flags.timeout), "--timeout"), "flag --timeout"
        value = self.env(ENV_TIMEOUT)
        if value is not None:
            return _check_timeout(value, ENV_TIMEOUT), f"env {ENV_TIMEOUT}"
        return None, DEFAULT

    # -- everything ----------------------------------------------------------------------

    def settings(self) -> Settings:
        key, key_source = self.key()
        dashboard, dashboard_source = self.dashboard()
        tokens = self.tokens(dashboard, dashboard_source)
        url, url_source = self.url(key, key_source)
        api, api_source = self.api()
        insecure, ca_bundle, verify_source = self.verify()
        timeout, timeout_source = self.timeout()
        sources = {"key": key_source, "dashboard": dashboard_source, "url": url_source, "api": api_source,
                   "group_token": tokens["group_token"][1], "folder_token": tokens["folder_token"][1],
                   "verify_cert": verify_source, "timeout": timeout_source,
                   "dry_run": "flag --dry-run" if self.flags.dry_run else DEFAULT}
        return Settings(key=key, dashboard=dashboard, url=url, api=api, group_token=tokens["group_token"][0],
                        folder_token=tokens["folder_token"][0], ca_bundle=ca_bundle, insecure=insecure,
                        timeout=timeout, dry_run=self.flags.dry_run, sources=sources)


def _parse_bool(value: str, name: str) -> bool:
    parsed = parse_bool(value)
    if parsed is not None:
        return parsed
    raise SettingsError(f"{name}: expected 1/true/yes/on or 0/false/no/off, not {value!r}")


def _check_timeout(value: str, name: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0 or seconds == float("inf"):
        raise SettingsError(f"{name}: expected a positive number of seconds, not {value!r}")
    return seconds


def _check_url(value: str, name: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingsError(f"{name}: expected an http:// or https:// URL, not {value!r}")
    return value


ENV_CACHE = "TIMESYS_CI_CACHE"
LOCAL_SERVICE_DIR = "local-service"


def cache_dir(environ: Optional[Mapping[str, str]] = None) -> Path:
    """`TIMESYS_CI_CACHE`, else `$XDG_CACHE_HOME/timesys-ci`, else `~/.cache/timesys-ci`."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV_CACHE):
        return Path(environ[ENV_CACHE])
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "timesys-ci"


def local_data_dir(environ: Optional[Mapping[str, str]] = None) -> Path:
    """The data dir of the embedded service (`upload --local`), which the `db` commands default to."""
    return cache_dir(environ) / LOCAL_SERVICE_DIR

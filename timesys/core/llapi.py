"""The client object: configuration, request preparation, dry-run, and the five HTTP verbs.

`timesys.llapi` is the shared instance every `timesys.vigiles.*` function uses,
exactly as in the reference client, unless code makes another client current for a
while with `using_client(client)` (the CLI does, so each run has its own client and
leaves `timesys.llapi` alone). Signing lives in `timesys.core.signing`, sending in
`timesys.core.transport`.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Mapping, Optional, Union

from timesys.core import config as cfg
from timesys.core import signing
from timesys.core.encoding import FormBody, form_encode
from timesys.core.transport import DEFAULT_TIMEOUT, RetryPolicy, Timeout, Transport
from timesys.core.version import tool_version
from timesys.exceptions import ConfigurationError, ParameterError

REDACTED = "<redacted>"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


class LLAPI:
    """Client for the Vigiles / LinuxLink API (see vigiles-api.md section 4.2)."""

    logger = logging.getLogger("timesys.core.llapi.LLAPI")
    DEFAULT_SERVER = cfg.GROUPS_SERVER

    def __init__(self, key_file_path: Optional[cfg.PathLike] = None, dashboard_config_path: Optional[cfg.PathLike] = None,
                 url: Optional[str] = None, verify_cert: Union[bool, str] = True, dry_run: bool = False,
                 log_level: Union[str, int] = "WARNING", *, api: Optional[str] = None,
                 timeout: Optional[Timeout] = None, max_attempts: Optional[int] = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        """`sleep` waits out the retry back-off (tests give a fake one); the rest as for `configure`."""
        self.email: Optional[str] = None
        self.key: Optional[bytes] = None
        self.url: Optional[str] = None
        self.group_token: Optional[str] = None
        self.folder_token: Optional[str] = None
        self.configured = False
        self._api: Optional[cfg.Flavour] = None
        self._key_flavour: Optional[cfg.Flavour] = None
        self._url_overridden = False
        self._dry_run = False
        self._verify_cert: Union[bool, str] = True
        self._log_level: Union[str, int] = "WARNING"
        self._transport = Transport(timeout=DEFAULT_TIMEOUT, retry=RetryPolicy(), sleep=sleep)
        self.configure(key_file_path, dashboard_config_path, url, verify_cert, dry_run, log_level,
                       api=api, timeout=timeout, max_attempts=max_attempts)

    # -- configuration -------------------------------------------------------------------

    def configure(self, key_file_path: Optional[cfg.PathLike] = None, dashboard_config_path: Optional[cfg.PathLike] = None,
                  url: Optional[str] = None, verify_cert: Optional[Union[bool, str]] = None,
                  dry_run: Optional[bool] = None, log_level: Optional[Union[str, int]] = None, *,
                  api: Optional[str] = None, timeout: Optional[Timeout] = None,
                  max_attempts: Optional[int] = None) -> None:
        """Apply the given settings, in the reference order; arguments left as None change nothing.

        `timeout` is seconds, or `(connect, read)`; default `(10, 300)`. The read timeout is the longest
        wait for the next bytes of an answer, and an upload is answered only after its scan: raise it
        (e.g. `(10, 1800)`) for very large SBOMs or a busy server rather than let a slow scan fail.
        """
        if key_file_path:
            self.load_key(cfg.read_key_file(key_file_path))
        if dashboard_config_path:
            self.load_dashboard_config(cfg.read_dashboard_config(dashboard_config_path))
        if url is not None:
            self.url = cfg.normalise_server_url(url)  # D3: normalised like server_url
            self._url_overridden = True
        if dry_run is not None:
            self.dry_run = dry_run
        if verify_cert is not None:
            self.verify_cert = verify_cert
        if log_level is not None:
            self.log_level = log_level
        if api is not None:
            self.api = api  # type: ignore[assignment]
        if timeout is not None:
            self.timeout = timeout
        if max_attempts is not None:
            if max_attempts < 1:
                raise ConfigurationError("max_attempts must be at least 1")
            self._transport.retry.max_attempts = max_attempts
        self.configured = self.email is not None and self.key is not None and self.url is not None

    def load_key(self, key_file: cfg.KeyFile) -> None:
        """Use a parsed key file (from a path, an environment variable, a secret...)."""
        self.email, self.key, self.url = key_file.email, key_file.key, key_file.url
        self._key_flavour = key_file.flavour
        self._url_overridden = False
        self.configured = True

    def load_dashboard_config(self, dashboard: cfg.DashboardConfig) -> None:
        # Both are overwritten: a config without `folder` clears an earlier folder token.
        self.group_token = dashboard.group_token
        self.folder_token = dashboard.folder_token

    @property
    def api(self) -> cfg.Flavour:
        """The API flavour in use: 'groups' (current Vigiles) or 'products' (LinuxLink), decision D1."""
        if self._api is not None:
            return self._api
        if self._key_flavour == "products" and not self._url_overridden:
            return "products"
        return "groups"

    @api.setter
    def api(self, value: Optional[str]) -> None:
        if value is not None and value not in cfg.FLAVOURS:
            raise ConfigurationError(f"api must be one of {', '.join(cfg.FLAVOURS)}, not {value!r}")
        self._api = value  # type: ignore[assignment]

    @property
    def product_token(self) -> Optional[str]:
        """Era-P name of `group_token`; the same token."""
        return self.group_token

    @product_token.setter
    def product_token(self, value: Optional[str]) -> None:
        self.group_token = value

    @property
    def verify_cert(self) -> Union[bool, str]:
        return self._verify_cert

    @verify_cert.setter
    def verify_cert(self, value: Union[bool, str, None]) -> None:
        value = True if value is None else value
        if isinstance(value, (str, os.PathLike)):
            value = os.path.expanduser(os.fspath(value))
            if not os.path.exists(value):
                raise ConfigurationError(f"{value}: CA bundle not found (verify_cert)")
        if value is False:
            self.logger.warning("Insecure requests are enabled. Certificates will not be verified.")
        self._verify_cert = value
        self._transport.verify = value

    @property
    def dry_run(self) -> bool:
        return self._dry_run

    @dry_run.setter
    def dry_run(self, value: bool) -> None:
        if value:
            self.logger.warning("Dry Run mode is enabled. No requests will be made.")
        self._dry_run = bool(value)

    @property
    def log_level(self) -> Union[str, int]:
        return self._log_level

    @log_level.setter
    def log_level(self, value: Union[str, int]) -> None:
        level = value.upper() if isinstance(value, str) else value
        try:
            # Applied to the package logger so it also quiets/raises the module loggers
            # (the reference only changed this class's logger: weakness 19).
            logging.getLogger("timesys").setLevel(level)
        except (ValueError, TypeError):
            raise ConfigurationError(f"unknown log level {value!r}") from None
        self._log_level = level

    @property
    def timeout(self) -> Timeout:
        """(connect, read) seconds, or one number for both; see `configure` for choosing the read timeout."""
        return self._transport.timeout

    @timeout.setter
    def timeout(self, value: Timeout) -> None:
        values = value if isinstance(value, tuple) else (value,)
        if not all(isinstance(v, (int, float)) and v > 0 for v in values):
            raise ConfigurationError(f"timeout must be a positive number of seconds, not {value!r}")
        self._transport.timeout = value

    @property
    def version(self) -> str:
        return tool_version()

    @property
    def current_config(self) -> dict[str, Any]:
        """The settings in effect, with the key redacted."""
        return {
            "email": self.email,
            "key": REDACTED if self.key else None,
            "url": self.url,
            "api": self.api,
            "group_token": self.group_token,
            "product_token": self.group_token,
            "folder_token": self.folder_token,
            "verify_cert": self.verify_cert,
            "dry_run": self.dry_run,
            "log_level": self.log_level,
            "timeout": self.timeout,
        }

    def __repr__(self) -> str:
        return f"<LLAPI email={self.email!r} url={self.url!r} api={self.api!r} configured={self.configured}>"

    def close(self) -> None:
        """Close pooled connections (a new session is opened on the next request)."""
        self._transport.close()

    # -- static helpers kept for scripts written against the reference ---------------------

    @staticmethod
    def parse_keyfile(key_file_path: cfg.PathLike) -> tuple[str, bytes, str]:
        key_file = cfg.read_key_file(key_file_path)
        return key_file.email, key_file.key, key_file.url

    @staticmethod
    def parse_dashboard_config(dashboard_config_path: cfg.PathLike) -> dict[str, Optional[str]]:
        dashboard = cfg.read_dashboard_config(dashboard_config_path)
        return {"group_token": dashboard.group_token, "folder_token": dashboard.folder_token}

    # -- requests ------------------------------------------------------------------------

    @property
    def error_prefix(self) -> str:
        return "LinuxLink server returned an error" if self.api == "products" else "Vigiles server returned an error"

    def prepare(self, method: str, resource: str, data_dict: Optional[Mapping[str, Any]] = None) -> dict[str, Any]:
        """The request as the dry-run description of section 2.8 (also used to send it)."""
        method = method.upper()
        if method not in METHODS:
            raise ParameterError(f"unsupported HTTP method {method!r}")
        if not resource.startswith("/api/"):
            raise ParameterError(f"resource must start with /api/, not {resource!r}")
        if not self.configured or self.key is None or self.url is None:
            raise ConfigurationError("LLAPI object has not been configured: give a key file (timesys.llapi.configure)")
        params = dict(data_dict or {})  # the caller's mapping is never mutated
        params["email"] = self.email
        # D3: a None value would be signed but not sent, so it is never sent nor signed.
        params = {name: value for name, value in params.items() if value is not None}
        signature = signing.signature(self.key, method, resource, params)
        url = self.url + resource
        description: dict[str, Any] = {"headers": {signing.SIGNATURE_HEADER: signature}, "method": method}
        if method == "POST":
            description["url"] = url
            description["data"] = params
        else:
            description["url"] = url + "?" + form_encode(sorted(params.items()))
        if self.dry_run:  # only shown, never needed to send: for an upload it is a copy of the manifest
            description["hmac_msg"] = signing.message(method, resource, params)
        return description

    def request(self, method: str, resource: str, data_dict: Optional[Mapping[str, Any]] = None, json: bool = True) -> Any:
        prepared = self.prepare(method, resource, data_dict)
        if self.dry_run:
            return prepared
        headers = {signing.SIGNATURE_HEADER: prepared["headers"][signing.SIGNATURE_HEADER].decode("ascii")}
        body = None
        if prepared["method"] == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = FormBody(prepared["data"].items())  # encoded while it is sent, never whole in memory
        self.logger.debug("%s %s", prepared["method"], resource)
        return self._transport.request(prepared["method"], prepared["url"], resource=resource, body=body,
                                       headers=headers, raw=not json, error_prefix=self.error_prefix)

    def GET(self, resource: str, data_dict: Optional[Mapping[str, Any]] = None, json: bool = True) -> Any:
        return self.request("GET", resource, data_dict, json)

    def POST(self, resource: str, data_dict: Optional[Mapping[str, Any]] = None, json: bool = True) -> Any:
        return self.request("POST", resource, data_dict, json)

    def PUT(self, resource: str, data_dict: Optional[Mapping[str, Any]] = None, json: bool = True) -> Any:
        return self.request("PUT", resource, data_dict, json)

    def PATCH(self, resource: str, data_dict: Optional[Mapping[str, Any]] = None, json: bool = True) -> Any:
        return self.request("PATCH", resource, data_dict, json)

    def DELETE(self, resource: str, data_dict: Optional[Mapping[str, Any]] = None, json: bool = True) -> Any:
        return self.request("DELETE", resource, data_dict, json)


_ACTIVE: ContextVar[Optional[LLAPI]] = ContextVar("timesys_active_client", default=None)


def active_client() -> LLAPI:
    """The client the operation functions use: the one made current by `using_client`, else `timesys.llapi`."""
    client = _ACTIVE.get()
    if client is not None:
        return client
    import timesys

    return timesys.llapi


@contextmanager
def using_client(client: LLAPI) -> Iterator[LLAPI]:
    """Make `client` the one `timesys.vigiles.*` and `timesys.utilities.*` use in this context (thread/task)."""
    token = _ACTIVE.set(client)
    try:
        yield client
    finally:
        _ACTIVE.reset(token)

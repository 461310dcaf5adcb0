"""`doctor`: check each part of the configuration, then a real heartbeat, and say what to fix.

Exit status: 0 all good (warnings allowed), 2 a configuration problem (the heartbeat
is then skipped), 3 the service check failed.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict, dataclass
from typing import Any, Callable, Literal, Optional
from urllib.parse import urlsplit

import timesys
from timesys.exceptions import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    TLSError,
    TransportError,
    VigilesError,
)
from timesys_ci.cli import exit_codes
from timesys_ci.cli.render import use_color
from timesys_ci.cli.runtime import command_line_of, configured_client, emit, wants_json
from timesys_ci.cli.state import current_run
from timesys_ci.settings import NO_KEY_MESSAGE, SettingsResolver

Status = Literal["ok", "warn", "fail", "skip"]
COLORS = {"ok": "32", "warn": "33", "fail": "31", "skip": "2"}
LOOPBACK = ("localhost", "127.0.0.1", "::1")


@dataclass
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


def _attempt(checks: list[Check], name: str, fix: str, step: Callable[[], Any]) -> Optional[Any]:
    """Run one resolution step; a configuration error becomes a failed check."""
    try:
        return step()
    except ConfigurationError as exc:
        checks.append(Check(name, "fail", current_run().redactor.clean(str(exc)), fix))
        return None


def _service_fix(exc: VigilesError) -> str:
    if isinstance(exc, AuthenticationError):
        return "check the email and key in the key file, and that they belong to this server"
    if isinstance(exc, NotFoundError):
        return "check the URL (-u/--url, VIGILES_URL) and the API flavour (--api, VIGILES_API)"
    if isinstance(exc, TLSError):
        return "give the server's CA with --ca-bundle PATH or VIGILES_CA_BUNDLE"
    if isinstance(exc, TransportError):
        return "check the URL, the network and the proxy settings (HTTPS_PROXY, NO_PROXY)"
    return "the service failed: try again later or contact its administrator"


def diagnose(args: argparse.Namespace) -> list[Check]:
    resolver = SettingsResolver(command_line_of(args), os.environ)
    checks: list[Check] = []
    key_fix = "fix the key file (download it again from your Vigiles account) or VIGILES_KEY"
    resolved_key = _attempt(checks, "key", key_fix, resolver.key)
    if resolved_key is not None:
        key, key_source = resolved_key
        if key is None:
            checks.append(Check("key", "fail", NO_KEY_MESSAGE, "download the key file from your Vigiles account"))
        else:
            current_run().redactor.add(key.key_text)
            checks.append(Check("key", "ok", f"{key.email} ({key_source})"))
    dashboard_fix = "fix the dashboard config or download it again from the group's page"
    resolved_dashboard = _attempt(checks, "dashboard config", dashboard_fix, resolver.dashboard)
    if resolved_dashboard is not None:
        dashboard, dashboard_source = resolved_dashboard
        tokens = _attempt(checks, "group", "set only one of them",
                          lambda: resolver.tokens(dashboard, dashboard_source))
        if tokens is not None:
            group, source = tokens["group_token"]
            if group:
                folder = tokens["folder_token"][0]
                where = f"group {group}" + (f", folder {folder}" if folder else "")
                checks.append(Check("dashboard config", "ok", f"{where} ({source})"))
            else:
                checks.append(Check("dashboard config", "warn", "no group: uploads go to your Private Workspace",
                                    "download a dashboard config from a group's page, or set VIGILES_GROUP_TOKEN"))
    _attempt(checks, "URL", "give an http:// or https:// URL", lambda: resolver.url(None, ""))
    _attempt(checks, "flavour", "use groups or products", resolver.api)
    verify = _attempt(checks, "TLS", "point it at an existing PEM file", resolver.verify)
    _attempt(checks, "timeout", "use a positive number of seconds", resolver.timeout)
    if any(check.status == "fail" for check in checks):
        checks.append(Check("heartbeat", "skip", "configuration problems above", "fix them first"))
        return checks
    settings = resolver.settings()
    connection = settings.effective_connection()
    checks.append(Check("flavour", "ok", f"{connection['api']} ({settings.sources['api']})"))
    url = connection["url"] or ""
    parts = urlsplit(url)
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        checks.append(Check("URL", "warn", f"{url}: plain HTTP, requests are not encrypted", "use https://"))
    else:
        checks.append(Check("URL", "ok", f"{url} ({settings.sources['url']})"))
    insecure, ca_bundle, verify_source = verify
    if parts.scheme == "http":
        checks.append(Check("TLS", "ok", "not used (http)"))
    elif insecure:
        checks.append(Check("TLS", "warn", f"certificate verification is off ({verify_source})",
                            "remove --insecure / VIGILES_INSECURE; use --ca-bundle for a private CA"))
    else:
        checks.append(Check("TLS", "ok", f"CA bundle {ca_bundle}" if ca_bundle else "system CA certificates"))
    if settings.dry_run:
        checks.append(Check("heartbeat", "skip", "--dry-run: nothing is sent"))
        return checks
    try:
        configured_client(args, settings)
        timesys.utilities.heartbeat()
    except VigilesError as exc:
        checks.append(Check("heartbeat", "fail", current_run().redactor.clean(str(exc)), _service_fix(exc)))
    else:
        checks.append(Check("heartbeat", "ok", f"{url} answered"))
    return checks


def exit_status(checks: list[Check]) -> int:
    failed = {check.name for check in checks if check.status == "fail"}
    if failed - {"heartbeat"}:
        return exit_codes.USAGE
    return exit_codes.SERVICE if failed else exit_codes.OK


def run_doctor(args: argparse.Namespace) -> int:
    checks = diagnose(args)
    status = exit_status(checks)
    if wants_json(args):
        emit(args, {"ok": status == exit_codes.OK, "checks": [asdict(check) for check in checks]})
        return status
    color = use_color(sys.stdout)
    width = max(len(check.name) for check in checks)
    for check in checks:
        mark = f"[{check.status}]".ljust(6)
        if color:
            mark = f"\033[{COLORS[check.status]}m{mark}\033[0m"
        sys.stdout.write(f"{mark} {check.name.ljust(width)}  {check.detail}\n")
        if check.fix and check.status in ("warn", "fail"):
            sys.stdout.write(f"{' ' * 7}{' ' * width}  fix: {check.fix}\n")
    return status

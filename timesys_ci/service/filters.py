"""What the local service did with the filter inputs of an upload or rescan: every report says it.

The real Vigiles filters kernel and U-Boot CVEs by the uploaded `.config` and, with
`filter_results`, by the group's filter settings. This service receives only the
`.config` text: deciding that a CVE's files were not built needs the kernel's Kbuild
Makefiles (which CONFIG_ option builds which file) or the build's own record of what
it compiled, and it has neither, so it applies no config filter rather than guess. The
group settings it keeps hold no CVE filters (identifiers and strict matching decide
what matches, on every scan). Each statement says so in the report's `filters`
object, so no option is accepted and silently ignored; `timesys-ci upload` prints
them, and its kernel triage (`--kernel-build-dir`) does the kernel filtering on the
client, where the build is.
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

KERNEL_CONFIG_REASON = (
    "the service has only the .config text; which CVEs a configuration excludes needs the kernel's Kbuild "
    "Makefiles or the build's .cmd files (run `timesys-ci upload --kernel-build-dir DIR`: kernel triage on the "
    "client)")
UBOOT_CONFIG_REASON = ("the service has only the .config text; no CVE data maps U-Boot CVEs to configuration "
                       "options")
FILTER_RESULTS_REASON = ("the group's settings hold no CVE filters (vuln_identifiers and vuln_strict_match decide "
                         "matching and apply to every scan); whitelisted and not-affected findings stay in the "
                         "report, marked, and never fail a gate")


def _statement(requested: bool, reason: str, absent: str) -> dict[str, Any]:
    return {"requested": requested, "applied": False, "reason": reason if requested else absent}


def filters_statement(manifest: Mapping[str, Any], *, filtered: bool) -> dict[str, Any]:
    """The report's `filters`: per input, whether it was given, whether it was applied, and why not."""
    kernel_config: Optional[str] = manifest["kernel_config"]
    uboot_config: Optional[str] = manifest["uboot_config"]
    return {
        "kernel_config": _statement(bool(kernel_config), KERNEL_CONFIG_REASON, "no kernel config was uploaded"),
        "uboot_config": _statement(bool(uboot_config), UBOOT_CONFIG_REASON, "no U-Boot config was uploaded"),
        "filter_results": _statement(filtered, FILTER_RESULTS_REASON, "not requested"),
    }


def restated(body: dict[str, Any], *, filtered: bool) -> dict[str, Any]:
    """A stored report fetched again: `filter_results` as this request asked it (the stored body says what the
    scan was asked)."""
    filters = body.get("filters")
    if isinstance(filters, dict):
        body["filters"] = dict(filters, filter_results=_statement(filtered, FILTER_RESULTS_REASON, "not requested"))
    return body

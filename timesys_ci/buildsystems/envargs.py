"""Map hook settings (environment / Kconfig values) onto `timesys_ci upload` options.

Shared by the Yocto and Buildroot entries so both read `TIMESYS_CI_*` the same way.
The upload command reads the key and dashboard config itself from
`VIGILES_KEY_FILE` / `VIGILES_DASHBOARD_CONFIG`, so those never become arguments
(and a key never appears in an argument list or a log line).
"""
from __future__ import annotations

from typing import Literal, Mapping, Optional

from timesys_ci.booleans import parse_bool
from timesys_ci.buildsystems import BuildArtifacts, SettingError

OnFailure = Literal["fail", "warn"]


# TIMESYS_CI_<X> -> upload option taking a value.
GATE_VALUE_SETTINGS: tuple[tuple[str, str], ...] = (
    ("TIMESYS_CI_FAIL_ON", "--fail-on"),
    ("TIMESYS_CI_POLICY", "--policy"),
    ("TIMESYS_CI_BASELINE", "--baseline"),
    ("TIMESYS_CI_WAIT_TIMEOUT", "--wait-timeout"),
    ("TIMESYS_CI_SARIF", "--sarif"),
    ("TIMESYS_CI_JSON", "--json"),
    ("TIMESYS_CI_JUNIT", "--junit"),
    ("TIMESYS_CI_MARKDOWN", "--markdown"),
    ("TIMESYS_CI_ON_SERVICE_ERROR", "--on-service-error"),
)
# TIMESYS_CI_<X> -> upload switch.
GATE_FLAG_SETTINGS: tuple[tuple[str, str], ...] = (
    ("TIMESYS_CI_NEW_ONLY", "--new-only"),
    ("TIMESYS_CI_FILTER_RESULTS", "--filter-results"),
    ("TIMESYS_CI_UPLOAD_ONLY", "--upload-only"),
    ("TIMESYS_CI_LOCAL", "--local"),
    ("TIMESYS_CI_APPLY_TRIAGE", "--apply-triage"),
)


def env_value(env: Mapping[str, str], name: str) -> Optional[str]:
    """The stripped value, or None when unset or blank."""
    value = (env.get(name) or "").strip()
    return value or None


def parse_flag(value: Optional[str], name: str) -> bool:
    """Bitbake/Kconfig/shell style booleans (1/y/yes/true/on); anything else is a setting error."""
    parsed = parse_bool(value or "", also_false=("", "none"))
    if parsed is not None:
        return parsed
    raise SettingError(f"{name}: expected a boolean (1/0, yes/no, true/false), got {value!r}")


def env_flag(env: Mapping[str, str], name: str) -> bool:
    return parse_flag(env.get(name), name)


def on_failure_mode(env: Mapping[str, str]) -> OnFailure:
    """TIMESYS_CI_ON_FAILURE: `fail` (default) breaks the build, `warn` only reports."""
    value = (env_value(env, "TIMESYS_CI_ON_FAILURE") or "fail").lower()
    if value not in ("fail", "warn"):
        raise SettingError(f"TIMESYS_CI_ON_FAILURE: expected 'fail' or 'warn', got {value!r}")
    return value  # type: ignore[return-value]


class UploadArgs:
    """An upload argument list that keeps the first value given for each option."""

    def __init__(self, manifest: str) -> None:
        self._args: list[str] = [manifest]
        self._seen: set[str] = set()

    def option(self, flag: str, value: Optional[str]) -> None:
        if value is None or value == "" or flag in self._seen:
            return
        self._seen.add(flag)
        self._args += [flag, value]

    def switch(self, flag: str, enabled: bool) -> None:
        if enabled and flag not in self._seen:
            self._seen.add(flag)
            self._args.append(flag)

    def as_list(self) -> list[str]:
        return list(self._args)


def start_args(artifacts: BuildArtifacts) -> UploadArgs:
    """Manifest and the discovered config side files."""
    args = UploadArgs(str(artifacts.manifest))
    args.option("--kernel-config", str(artifacts.kernel_config) if artifacts.kernel_config else None)
    args.option("--uboot-config", str(artifacts.uboot_config) if artifacts.uboot_config else None)
    return args


def add_gate_settings(args: UploadArgs, env: Mapping[str, str]) -> None:
    """TIMESYS_CI_* gate and output settings; `warn` mode also softens service errors."""
    for name, flag in GATE_VALUE_SETTINGS:
        args.option(flag, env_value(env, name))
    for name, flag in GATE_FLAG_SETTINGS:
        args.switch(flag, env_flag(env, name))
    if on_failure_mode(env) == "warn":
        args.option("--on-service-error", "warn")

"""Map hook settings (environment / Kconfig values) onto an `UploadRequest` for the upload.

Shared by the Yocto and Buildroot entries so both read `TIMESYS_CI_*` the same way.
The upload command reads the key and dashboard config itself from
`VIGILES_KEY_FILE` / `VIGILES_DASHBOARD_CONFIG`, so those never become arguments
(and a key never appears in an argument list or a log line).
"""
from __future__ import annotations

from typing import Literal, Mapping, Optional

from timesys_ci.booleans import parse_bool
from timesys_ci.buildsystems import BuildArtifacts, SettingError
from timesys_ci.job.arguments import UploadRequest

OnFailure = Literal["fail", "warn"]


# TIMESYS_CI_<X> -> UploadRequest field taking a value.
GATE_VALUE_SETTINGS: tuple[tuple[str, str], ...] = (
    ("TIMESYS_CI_FAIL_ON", "fail_on"),
    ("TIMESYS_CI_POLICY", "policy"),
    ("TIMESYS_CI_BASELINE", "baseline"),
    ("TIMESYS_CI_WAIT_TIMEOUT", "wait_timeout"),
    ("TIMESYS_CI_SARIF", "sarif"),
    ("TIMESYS_CI_JSON", "json"),
    ("TIMESYS_CI_JUNIT", "junit"),
    ("TIMESYS_CI_MARKDOWN", "markdown"),
    ("TIMESYS_CI_ON_SERVICE_ERROR", "on_service_error"),
)
# TIMESYS_CI_<X> -> UploadRequest switch (set when the setting is true).
GATE_FLAG_SETTINGS: tuple[tuple[str, str], ...] = (
    ("TIMESYS_CI_NEW_ONLY", "new_only"),
    ("TIMESYS_CI_FILTER_RESULTS", "filter_results"),
    ("TIMESYS_CI_UPLOAD_ONLY", "upload_only"),
    ("TIMESYS_CI_LOCAL", "local"),
    ("TIMESYS_CI_APPLY_TRIAGE", "apply_triage"),
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


def start_options(artifacts: BuildArtifacts) -> UploadRequest:
    """Manifest and the discovered config side files."""
    as_text = lambda path: str(path) if path else None  # noqa: E731
    return UploadRequest(str(artifacts.manifest), kernel_config=as_text(artifacts.kernel_config),
                         uboot_config=as_text(artifacts.uboot_config))


def add_gate_settings(options: UploadRequest, env: Mapping[str, str]) -> None:
    """TIMESYS_CI_* gate and output settings (a build system's own setting, set first, wins);
    `warn` mode also softens service errors."""
    for name, field in GATE_VALUE_SETTINGS:
        if getattr(options, field) is None:
            setattr(options, field, env_value(env, name))
    for name, field in GATE_FLAG_SETTINGS:
        if env_flag(env, name):
            setattr(options, field, True)
    if on_failure_mode(env) == "warn" and options.on_service_error is None:
        options.on_service_error = "warn"

"""The one translation of "what the upload should do" into `timesys_ci upload` arguments.

Every entry that runs the upload for someone else's settings — the GitHub Action
(`INPUT_*`), the Yocto class and the Buildroot script (`VIGILES_*`, `TIMESYS_CI_*`,
`.config`) — fills an `UploadRequest` from its own settings and calls
`upload_argv`, so a new upload flag is mapped in one place and every entry
passes it the same way. Unset options become no flag at all, so the upload's own
precedence (flags > --policy > pyproject.toml > defaults) still decides.

Key and dashboard config never become arguments: the upload reads them from
`VIGILES_KEY_FILE` / `VIGILES_DASHBOARD_CONFIG` (a key never reaches an argument list).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

# UploadRequest field -> upload option taking a value, in argument order.
_VALUE_OPTIONS: tuple[tuple[str, str], ...] = (
    ("kernel_config", "--kernel-config"), ("uboot_config", "--uboot-config"),
    ("manifest_name", "--manifest-name"), ("subfolder_name", "--subfolder-name"),
)
_GATE_OPTIONS: tuple[tuple[str, str], ...] = (
    ("fail_on", "--fail-on"), ("policy", "--policy"), ("baseline", "--baseline"),
    ("wait_timeout", "--wait-timeout"), ("sarif", "--sarif"), ("json", "--json"), ("junit", "--junit"),
    ("markdown", "--markdown"),
)
_KERNEL_OPTIONS: tuple[tuple[str, str], ...] = (
    ("kernel_build_dir", "--kernel-build-dir"), ("kernel_source_dir", "--kernel-source-dir"),
)


@dataclass
class UploadRequest:
    """The upload settings an entry resolved; None / False means "not set": no flag."""

    manifest: str
    kernel_config: Optional[str] = None
    uboot_config: Optional[str] = None
    manifest_name: Optional[str] = None
    subfolder_name: Optional[str] = None
    upload_only: bool = False
    fail_on: Optional[str] = None
    policy: Optional[str] = None
    baseline: Optional[str] = None
    wait_timeout: Optional[str] = None
    sarif: Optional[str] = None
    json: Optional[str] = None
    junit: Optional[str] = None
    markdown: Optional[str] = None
    new_only: Optional[bool] = None  # None: the policy/pyproject decides; False passes --no-new-only
    filter_results: bool = False
    on_service_error: Optional[str] = None  # "fail" | "warn"
    local: bool = False
    summary: bool = True
    annotations: bool = True
    kernel_build_dir: Optional[str] = None
    kernel_source_dir: Optional[str] = None
    kernel_evidence_optional: bool = False  # found (not named) evidence: unusable only warns
    apply_triage: bool = False

    @property
    def gets_report(self) -> bool:
        """Whether the upload waits for a report (so there is something to triage)."""
        return not self.upload_only or self.wait_timeout is not None

    @property
    def kernel_named(self) -> bool:
        return bool(self.kernel_build_dir or self.kernel_source_dir)


def upload_argv(options: UploadRequest) -> list[str]:
    """The arguments after `upload`: the manifest, then one flag per option that is set."""
    args = [options.manifest]

    def values(table: tuple[tuple[str, str], ...]) -> None:
        for field, flag in table:
            value = getattr(options, field)
            if value is not None and value != "":
                args.extend([flag, str(value)])

    values(_VALUE_OPTIONS)
    if options.upload_only:
        args.append("--upload-only")
    values(_GATE_OPTIONS)
    if options.new_only is not None:
        args.append("--new-only" if options.new_only else "--no-new-only")
    if options.filter_results:
        args.append("--filter-results")
    if options.on_service_error:
        args += ["--on-service-error", options.on_service_error]
    values(_KERNEL_OPTIONS)
    switches = (("--local", options.local), ("--no-summary", not options.summary),
                ("--no-annotations", not options.annotations),
                ("--kernel-evidence-optional", options.kernel_evidence_optional),
                ("--apply-triage", options.apply_triage))
    return args + [flag for flag, on in switches if on]

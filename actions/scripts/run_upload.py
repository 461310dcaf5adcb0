"""Action step: turn the action inputs (INPUT_* env) into a `timesys_ci upload` command line and run it.

Connection inputs become global flags (`-k`, `-d`, `-u`, `--group-token`,
`--folder-token`) only when given, so an empty input never hides a `VIGILES_*`
variable the workflow set at job level (a step's `env:` would replace it).
Gate inputs too are passed only when set (their defaults are empty), so the CLI's
precedence holds under the action: inputs (flags) > `policy` file > the
repository's `pyproject.toml` `[tool.timesys-ci]` > the CLI's defaults (`fail-on high`).
`summary: false` / `annotations: false` become `--no-summary` / `--no-annotations`.
With `upload-only` nothing is gated, so no SARIF or JSON file is asked for.
Kernel triage: `kernel-build-dir` / `kernel-source-dir`, else the kernel that
`build-system` discovery finds; `apply-triage` writes the statuses back.

Exit status: the upload's, except that with fail-build=false a failed gate (1) or a
service error (3) becomes a warning and 0. Configuration errors (2) always fail.
Writes `exit-code` to GITHUB_OUTPUT; the upload command writes the other outputs.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Optional

EXIT_CONFIG = 2
SOFT_FAILURES = (1, 3)
DEFAULT_JSON_NAME = "timesys-ci-gate-result.json"  # in RUNNER_TEMP
# (env variable set by action.yml, global flag of `python -m timesys_ci`)
CONNECTION_FLAGS = (("SECRET_KEY_FILE", "--key-file"), ("SECRET_DASHBOARD_CONFIG", "--dash-config"),
                    ("INPUT_SERVER_URL", "--url"), ("INPUT_GROUP_TOKEN", "--group-token"),
                    ("INPUT_FOLDER_TOKEN", "--folder-token"))


class InputError(ValueError):
    """An action input has an unusable value."""


def text(env: Mapping[str, str], name: str) -> str:
    return (env.get(f"INPUT_{name}") or "").strip()


def optional_boolean(env: Mapping[str, str], name: str) -> Optional[bool]:
    """True/False as set, None when the input is empty (not set)."""
    value = text(env, name).lower()
    if not value:
        return None
    if value in ("true", "false"):
        return value == "true"
    input_name = name.lower().replace("_", "-")
    raise InputError(f"input '{input_name}' must be true or false, got '{value}'")


def boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = optional_boolean(env, name)
    return default if value is None else value


def discovered(env: Mapping[str, str]) -> tuple[str, Optional[str], Optional[str]]:
    """The manifest input, or discovery in the build tree named by build-system/build-dir."""
    manifest = text(env, "MANIFEST")
    if manifest:
        if not Path(manifest).is_file():
            raise InputError(f"input 'manifest': file not found: {manifest}")
        return manifest, None, None
    system, build_dir = text(env, "BUILD_SYSTEM").lower(), text(env, "BUILD_DIR")
    if not system or not build_dir:
        raise InputError("set input 'manifest', or 'build-system' (yocto|buildroot) and 'build-dir'")
    # Imported here so a plain `manifest` run needs nothing beyond the upload command.
    from timesys_ci.buildsystems import BuildSystemError
    from timesys_ci.buildsystems.buildroot import discover_buildroot
    from timesys_ci.buildsystems.yocto import discover_yocto

    try:
        if system == "yocto":
            if not text(env, "IMAGE"):
                raise InputError("input 'image' is required with build-system yocto")
            found = discover_yocto(Path(build_dir), text(env, "IMAGE"), {})
        elif system == "buildroot":
            found = discover_buildroot({"O": build_dir})
        else:
            raise InputError(f"input 'build-system' must be yocto or buildroot, got '{system}'")
    except BuildSystemError as exc:
        raise InputError(str(exc)) from exc
    as_text = lambda p: str(p) if p else None  # noqa: E731
    return str(found.manifest), as_text(found.kernel_config), as_text(found.uboot_config)


def kernel_args(env: Mapping[str, str], args: list[str]) -> tuple[list[str], dict[str, str]]:
    """Kernel triage: the kernel-build-dir / kernel-source-dir inputs (strict), else the kernel a build-system
    discovery finds (found evidence that is unusable only warns); apply-triage writes the statuses back."""
    build, source = text(env, "KERNEL_BUILD_DIR"), text(env, "KERNEL_SOURCE_DIR")
    flags: list[str] = []
    extra: dict[str, str] = {}
    if build or source:
        flags += [part for flag, value in (("--kernel-build-dir", build), ("--kernel-source-dir", source)) if value
                  for part in (flag, value)]
    elif text(env, "BUILD_SYSTEM") and text(env, "BUILD_DIR") and not text(env, "MANIFEST"):
        from timesys_ci.buildsystems.buildroot import find_buildroot_kernel
        from timesys_ci.buildsystems.entry import kernel_upload_args
        from timesys_ci.buildsystems.yocto import find_yocto_kernel

        build_dir = text(env, "BUILD_DIR")
        found = (find_yocto_kernel(Path(build_dir), {}) if text(env, "BUILD_SYSTEM").lower() == "yocto"
                 else find_buildroot_kernel({"O": build_dir}))
        flags, extra = kernel_upload_args("timesys-ci action", args, found, {})
    if boolean(env, "APPLY_TRIAGE", False):
        if not flags:
            raise InputError("input 'apply-triage' needs the kernel: set 'kernel-build-dir' (or 'build-system' and "
                             "'build-dir' where the kernel was built)")
        flags.append("--apply-triage")
    return flags, extra


def upload_args(env: Mapping[str, str], extra_env: Optional[dict[str, str]] = None) -> list[str]:
    """The upload's arguments; `extra_env` receives what kernel triage needs in the environment."""
    manifest, kernel, uboot = discovered(env)
    args = [manifest]

    def option(flag: str, value: Optional[str]) -> None:
        if value:
            args.extend([flag, value])

    option("--kernel-config", text(env, "KERNEL_CONFIG") or kernel)
    option("--uboot-config", text(env, "UBOOT_CONFIG") or uboot)
    option("--manifest-name", text(env, "MANIFEST_NAME"))
    option("--subfolder-name", text(env, "SUBFOLDER"))
    upload_only = boolean(env, "UPLOAD_ONLY", False)
    if upload_only:
        args.append("--upload-only")
    option("--fail-on", text(env, "SEVERITY_CUTOFF"))
    new_only = optional_boolean(env, "NEW_ONLY")
    if new_only is not None:
        args.append("--new-only" if new_only else "--no-new-only")
    option("--baseline", text(env, "BASELINE"))
    option("--policy", text(env, "POLICY"))
    if not upload_only:
        option("--sarif", text(env, "SARIF"))
        option("--json", text(env, "JSON") or str(Path(env.get("RUNNER_TEMP") or ".") / DEFAULT_JSON_NAME))
    if not boolean(env, "FAIL_BUILD", True):
        args += ["--on-service-error", "warn"]
    if boolean(env, "LOCAL", False):
        args.append("--local")
    if not boolean(env, "SUMMARY", True):
        args.append("--no-summary")
    if not boolean(env, "ANNOTATIONS", True):
        args.append("--no-annotations")
    if not upload_only:
        flags, kernel_env = kernel_args(env, args)
        args += flags
        if extra_env is not None:
            extra_env.update(kernel_env)
    return args


def connection_args(env: Mapping[str, str]) -> list[str]:
    """Global flags for the connection inputs that were given (paths and tokens only, never key content)."""
    args: list[str] = []
    for name, flag in CONNECTION_FLAGS:
        value = (env.get(name) or "").strip()
        if value:
            args += [flag, value]
    return args


def command(env: Mapping[str, str], extra_env: Optional[dict[str, str]] = None) -> list[str]:
    python = env.get("TIMESYS_CI_PYTHON") or sys.executable
    return [python, "-m", "timesys_ci", *connection_args(env), "upload", *upload_args(env, extra_env)]


def write_output(name: str, value: str) -> None:
    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{name}={value}\n")


def main() -> int:
    env = dict(os.environ)
    try:
        kernel_env: dict[str, str] = {}
        argv = command(env, kernel_env)
        env.update(kernel_env)
        fail_build = boolean(env, "FAIL_BUILD", True)
    except InputError as exc:
        print(f"::error::{exc}")
        write_output("exit-code", str(EXIT_CONFIG))
        return EXIT_CONFIG
    sys.stdout.flush()  # our lines before the command's, in the log
    code = subprocess.run(argv, env=env, check=False).returncode
    write_output("exit-code", str(code))
    if code in SOFT_FAILURES and not fail_build:
        what = "gate failed" if code == 1 else "Vigiles service error"
        print(f"::warning::timesys-ci: {what} (exit {code}); not failing the step because fail-build is false")
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())

"""Action step: turn the action inputs (INPUT_* env) into `timesys_ci upload` arguments and run it.

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
ANNOTATION_PREFIXES = ("::error", "::warning", "::notice")
# Empty env values would read as "set" to the upload command; drop them.
UPLOAD_ENV = ("VIGILES_KEY_FILE", "VIGILES_DASHBOARD_CONFIG", "VIGILES_GROUP_TOKEN", "VIGILES_FOLDER_TOKEN", "VIGILES_URL")


class InputError(ValueError):
    """An action input has an unusable value."""


def text(env: Mapping[str, str], name: str) -> str:
    return (env.get(f"INPUT_{name}") or "").strip()


def boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = text(env, name).lower()
    if not value:
        return default
    if value in ("true", "false"):
        return value == "true"
    input_name = name.lower().replace("_", "-")
    raise InputError(f"input '{input_name}' must be true or false, got '{value}'")


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


def upload_args(env: Mapping[str, str]) -> list[str]:
    manifest, kernel, uboot = discovered(env)
    args = [manifest]

    def option(flag: str, value: Optional[str]) -> None:
        if value:
            args.extend([flag, value])

    option("--kernel-config", text(env, "KERNEL_CONFIG") or kernel)
    option("--uboot-config", text(env, "UBOOT_CONFIG") or uboot)
    option("--manifest-name", text(env, "MANIFEST_NAME"))
    option("--subfolder-name", text(env, "SUBFOLDER"))
    if boolean(env, "UPLOAD_ONLY", False):
        args.append("--upload-only")
    option("--fail-on", text(env, "SEVERITY_CUTOFF") or "critical")
    if boolean(env, "NEW_ONLY", False):
        args.append("--new-only")
    option("--baseline", text(env, "BASELINE"))
    option("--policy", text(env, "POLICY"))
    option("--sarif", text(env, "SARIF"))
    option("--json", text(env, "JSON") or str(Path(env.get("RUNNER_TEMP") or ".") / "timesys-ci-report.json"))
    if not boolean(env, "FAIL_BUILD", True):
        args += ["--on-service-error", "warn"]
    if boolean(env, "LOCAL", False):
        args.append("--local")
    return args


def upload_env(env: Mapping[str, str], summary: bool, scratch_summary: Path) -> dict[str, str]:
    child = {k: v for k, v in env.items() if not (k in UPLOAD_ENV and not v.strip())}
    if not summary:
        child["GITHUB_STEP_SUMMARY"] = str(scratch_summary)  # the command writes it; we just don't keep it
    return child


def run(args: list[str], env: dict[str, str], annotations: bool) -> int:
    python = env.get("TIMESYS_CI_PYTHON") or sys.executable
    command = [python, "-m", "timesys_ci", "upload", *args]
    if annotations:
        return subprocess.run(command, env=env, check=False).returncode
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if not line.startswith(ANNOTATION_PREFIXES):
                sys.stdout.write(line)
        return proc.wait()


def write_output(name: str, value: str) -> None:
    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{name}={value}\n")


def main() -> int:
    env = dict(os.environ)
    try:
        args = upload_args(env)
        fail_build = boolean(env, "FAIL_BUILD", True)
        summary = boolean(env, "SUMMARY", True)
        annotations = boolean(env, "ANNOTATIONS", True)
    except InputError as exc:
        print(f"::error::{exc}")
        write_output("exit-code", str(EXIT_CONFIG))
        return EXIT_CONFIG
    scratch = Path(env.get("RUNNER_TEMP") or ".") / f"timesys-ci-summary-{os.getpid()}.md"
    try:
        code = run(args, upload_env(env, summary, scratch), annotations)
    finally:
        if scratch.exists():
            scratch.unlink()
    write_output("exit-code", str(code))
    if code in SOFT_FAILURES and not fail_build:
        what = "gate failed" if code == 1 else "Vigiles service error"
        print(f"::warning::timesys-ci: {what} (exit {code}); not failing the step because fail-build is false")
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())

"""Command entries `timesys_ci yocto` and `timesys_ci buildroot`: discover, then run `upload`.

Exit codes follow `upload`: 0 pass, 1 gate failed, 2 usage/config error, 3 service
error. With TIMESYS_CI_ON_FAILURE=warn (or --on-failure warn) any failure is
printed as a warning and the entry exits 0, so the build carries on.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

from timesys_ci.buildsystems import (KERNEL_BUILD_DIR_ENV, KERNEL_CONFIG_ENV, KERNEL_SOURCE_DIR_ENV, KERNEL_TRIAGE_ENV,
                                     BuildSystemError, KernelTree)
from timesys_ci.buildsystems.buildroot import buildroot_upload_args, buildroot_upload_env, find_buildroot_kernel
from timesys_ci.buildsystems.envargs import on_failure_mode, parse_flag
from timesys_ci.buildsystems.yocto import find_yocto_kernel, yocto_upload_args
from timesys_ci.cli import exit_codes

_MEANING = {exit_codes.GATE_FAILED: "gate failed", exit_codes.USAGE: "usage/config error",
            exit_codes.SERVICE: "service error"}


def run_upload(args: list[str], env_overrides: Optional[Mapping[str, str]] = None) -> int:
    """Run `python -m timesys_ci upload ARGS` and return its exit code.

    One seam on purpose: it can become an in-process call later. TIMESYS_CI_PYTHON
    picks the interpreter (e.g. a venv's python when bitbake runs another one).
    """
    python = os.environ.get("TIMESYS_CI_PYTHON") or sys.executable
    env = dict(os.environ)
    env.update(env_overrides or {})
    return subprocess.run([python, "-m", "timesys_ci", "upload", *args], env=env, check=False).returncode


def finish(code: int, on_failure: str, program: str) -> int:
    """Apply warn mode: report the failure, keep the build going."""
    if code != exit_codes.OK and on_failure == "warn":
        print(f"{program}: WARNING: {_MEANING.get(code, f'exit {code}')} (exit {code}); "
              "continuing because on-failure is 'warn'", file=sys.stderr)
        return exit_codes.OK
    return code


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--print-args", "--dry-run-args", dest="print_args", action="store_true",
                        help="print the discovered upload arguments as JSON and exit")
    parser.add_argument("--on-failure", choices=("fail", "warn"),
                        help="fail (default) or only warn when upload/gate fails (env TIMESYS_CI_ON_FAILURE)")
    parser.add_argument("--kernel-build-dir", type=Path, metavar="DIR",
                        help=f"the kernel's build directory, for kernel triage (env {KERNEL_BUILD_DIR_ENV}; "
                             f"default: found in the build tree)")
    parser.add_argument("--kernel-source-dir", type=Path, metavar="DIR",
                        help=f"the kernel source tree, for kernel triage (env {KERNEL_SOURCE_DIR_ENV})")


def kernel_environment(opts: argparse.Namespace, env: Mapping[str, str]) -> dict[str, str]:
    """The environment with the kernel directory flags applied (flags win)."""
    merged = dict(env)
    for flag, name in ((opts.kernel_build_dir, KERNEL_BUILD_DIR_ENV), (opts.kernel_source_dir, KERNEL_SOURCE_DIR_ENV)):
        if flag is not None:
            merged[name] = str(flag)
    return merged


def kernel_upload_args(program: str, args: list[str], kernel: KernelTree, env: Mapping[str, str]
                       ) -> tuple[list[str], dict[str, str]]:
    """The upload's kernel triage arguments (and environment) for the kernel the build left behind.

    The .config goes as `--kernel-config` when discovery already uploads one; when only the
    sources and a .config elsewhere remain (Yocto after `rm_work`), as `TIMESYS_CI_KERNEL_CONFIG`:
    evidence for the triage, not uploaded.
    """
    if not parse_flag(env.get(KERNEL_TRIAGE_ENV) or "yes", KERNEL_TRIAGE_ENV):
        return [], {}
    if "--upload-only" in args and "--wait-timeout" not in args:
        return [], {}  # no report to triage
    if not kernel:
        print(f"{program}: kernel triage: no kernel build directory or sources found; kernel CVEs are not triaged "
              f"(name them with {KERNEL_BUILD_DIR_ENV} / {KERNEL_SOURCE_DIR_ENV})", file=sys.stderr)
        return [], {}
    # Found, not named: evidence that turns out unusable only warns (the gate then counts every kernel CVE).
    flags = KernelTree(kernel.build_dir, kernel.source_dir).as_args() + ["--kernel-evidence-optional"]
    extra: dict[str, str] = {}
    config = kernel.config
    if config is not None and "--kernel-config" not in args and (kernel.build_dir is None or
                                                                config.parent != kernel.build_dir):
        extra[KERNEL_CONFIG_ENV] = str(config)
        print(f"{program}: kernel triage: the build directory is gone; evaluating {config} against the Kbuild "
              f"Makefiles ({KERNEL_CONFIG_ENV})", file=sys.stderr)
    return flags, extra


def _run(program: str, on_failure_arg: Optional[str], print_args: bool,
         plan: Callable[[], tuple[list[str], dict[str, str]]],
         kernel: Optional[Callable[[], KernelTree]] = None) -> int:
    env = os.environ
    on_failure = on_failure_arg or "fail"
    try:
        on_failure = on_failure_arg or on_failure_mode(env)
        args, extra_env = plan()
        if kernel is not None:
            flags, kernel_env = kernel_upload_args(program, args, kernel(), env)
            args, extra_env = args + flags, {**extra_env, **kernel_env}
    except BuildSystemError as exc:
        print(f"{program}: error: {exc}", file=sys.stderr)
        return finish(exit_codes.USAGE, on_failure, program)
    if print_args:
        print(json.dumps(args))
        return exit_codes.OK
    if on_failure == "warn" and "--on-service-error" not in args:
        args += ["--on-service-error", "warn"]
    return finish(run_upload(args, extra_env), on_failure, program)


def add_yocto_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--build-dir", required=True, type=Path, help="the bitbake build directory (TOPDIR)")
    parser.add_argument("--image", required=True, help="image name (IMAGE_BASENAME)")
    parser.add_argument("--manifest", type=Path, help="use this manifest instead of searching")
    parser.add_argument("--machine", help="MACHINE, to pick deploy/images/<machine> for SPDX")
    parser.add_argument("--tmpdir", type=Path, help="bitbake TMPDIR if not <build-dir>/tmp")
    _common_options(parser)


def run_yocto(opts: argparse.Namespace) -> int:
    env = kernel_environment(opts, os.environ)
    return _run("timesys_ci yocto", opts.on_failure, opts.print_args, lambda: (
        yocto_upload_args(opts.build_dir, opts.image, os.environ, tmpdir=opts.tmpdir,
                          machine=opts.machine, manifest=opts.manifest), {}),
        lambda: find_yocto_kernel(opts.build_dir, env, tmpdir=opts.tmpdir, machine=opts.machine))


def add_buildroot_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output-dir", type=Path, help="Buildroot output directory (default: $O or $BASE_DIR)")
    parser.add_argument("--br2-config", type=Path, help="the .config (default: $BR2_CONFIG)")
    parser.add_argument("--show-info", type=Path, help="saved `make show-info` JSON to use when no manifest exists")
    # Post-image scripts get BINARIES_DIR and BR2_ROOTFS_POST_SCRIPT_ARGS positionally; they are not ours.
    parser.add_argument("post_image_args", nargs="*", metavar="ARG", help=argparse.SUPPRESS)
    _common_options(parser)


def _buildroot_env(opts: argparse.Namespace) -> dict[str, str]:
    env = kernel_environment(opts, os.environ)
    for value, name in ((opts.output_dir, "O"), (opts.br2_config, "BR2_CONFIG"), (opts.show_info, "TIMESYS_CI_SHOW_INFO")):
        if value:
            env[name] = str(value)
    return env


def run_buildroot(opts: argparse.Namespace) -> int:
    def plan() -> tuple[list[str], dict[str, str]]:
        env = _buildroot_env(opts)
        return buildroot_upload_args(env), buildroot_upload_env(env)

    return _run("timesys_ci buildroot", opts.on_failure, opts.print_args, plan,
                lambda: find_buildroot_kernel(_buildroot_env(opts)))


YOCTO_HELP = "Upload and gate a Yocto image's Vigiles manifest (meta-timesys) or SPDX."
BUILDROOT_HELP = "Upload and gate a Buildroot build (vigiles-buildroot manifest or show-info)."


def yocto_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="timesys_ci yocto", description=YOCTO_HELP)
    add_yocto_arguments(parser)
    return run_yocto(parser.parse_args(list(argv)))


def buildroot_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="timesys_ci buildroot", description=BUILDROOT_HELP)
    add_buildroot_arguments(parser)
    opts, _ = parser.parse_known_args(list(argv))
    return run_buildroot(opts)


def register(subparsers: argparse._SubParsersAction) -> None:
    """`timesys-ci yocto` and `timesys-ci buildroot` in the main CLI (timesys_ci.cli.registry)."""
    yocto = subparsers.add_parser("yocto", help=YOCTO_HELP, description=YOCTO_HELP)
    add_yocto_arguments(yocto)
    yocto.set_defaults(func=run_yocto)
    buildroot = subparsers.add_parser("buildroot", help=BUILDROOT_HELP, description=BUILDROOT_HELP)
    add_buildroot_arguments(buildroot)
    buildroot.set_defaults(func=run_buildroot)

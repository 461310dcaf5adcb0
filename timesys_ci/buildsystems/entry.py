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

from timesys_ci.buildsystems import BuildSystemError
from timesys_ci.buildsystems.buildroot import buildroot_upload_args, buildroot_upload_env
from timesys_ci.buildsystems.envargs import on_failure_mode
from timesys_ci.buildsystems.yocto import yocto_upload_args
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


def _run(program: str, on_failure_arg: Optional[str], print_args: bool,
         plan: Callable[[], tuple[list[str], dict[str, str]]]) -> int:
    env = os.environ
    on_failure = on_failure_arg or "fail"
    try:
        on_failure = on_failure_arg or on_failure_mode(env)
        args, extra_env = plan()
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
    return _run("timesys_ci yocto", opts.on_failure, opts.print_args, lambda: (
        yocto_upload_args(opts.build_dir, opts.image, os.environ, tmpdir=opts.tmpdir,
                          machine=opts.machine, manifest=opts.manifest), {}))


def add_buildroot_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output-dir", type=Path, help="Buildroot output directory (default: $O or $BASE_DIR)")
    parser.add_argument("--br2-config", type=Path, help="the .config (default: $BR2_CONFIG)")
    parser.add_argument("--show-info", type=Path, help="saved `make show-info` JSON to use when no manifest exists")
    # Post-image scripts get BINARIES_DIR and BR2_ROOTFS_POST_SCRIPT_ARGS positionally; they are not ours.
    parser.add_argument("post_image_args", nargs="*", metavar="ARG", help=argparse.SUPPRESS)
    _common_options(parser)


def run_buildroot(opts: argparse.Namespace) -> int:
    def plan() -> tuple[list[str], dict[str, str]]:
        env = dict(os.environ)
        if opts.output_dir:
            env["O"] = str(opts.output_dir)
        if opts.br2_config:
            env["BR2_CONFIG"] = str(opts.br2_config)
        if opts.show_info:
            env["TIMESYS_CI_SHOW_INFO"] = str(opts.show_info)
        return buildroot_upload_args(env), buildroot_upload_env(env)

    return _run("timesys_ci buildroot", opts.on_failure, opts.print_args, plan)


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

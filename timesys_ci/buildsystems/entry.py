"""Command entries `timesys_ci yocto` and `timesys_ci buildroot`: discover, then run `upload` in-process.

Exit codes follow `upload`: 0 pass, 1 gate failed, 2 usage/config error, 3 service
error. With TIMESYS_CI_ON_FAILURE=warn (or --on-failure warn) any failure is
printed as a warning and the entry exits 0, so the build carries on.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Mapping, Optional, Sequence

from timesys_ci.buildsystems import (KERNEL_BUILD_DIR_ENV, KERNEL_CONFIG_ENV, KERNEL_SOURCE_DIR_ENV, KERNEL_TRIAGE_ENV,
                                     BuildSystemError, KernelTree)
from timesys_ci.buildsystems.buildroot import buildroot_upload_env, buildroot_upload_options, find_buildroot_kernel
from timesys_ci.buildsystems.envargs import on_failure_mode, parse_flag
from timesys_ci.buildsystems.yocto import find_yocto_kernel, yocto_upload_options
from timesys_ci import exits
from timesys_ci.job.arguments import UploadRequest, upload_argv

_MEANING = {exits.GATE_FAILED: "gate failed", exits.USAGE: "usage/config error",
            exits.SERVICE: "service error"}


def run_upload(args: list[str], env_overrides: Optional[Mapping[str, str]] = None) -> int:
    """Run `timesys_ci upload ARGS` in this process (the CLI's `main`) and return its exit status.

    `env_overrides` (key file, dashboard config, kernel .config found by discovery) are in
    the environment for the upload's duration only, as a child process would have seen them.
    """
    from timesys_ci import cli  # at call time: the CLI imports this module to register `yocto`/`buildroot`

    with environment(env_overrides or {}):
        return cli.main(["upload", *args])


@contextmanager
def environment(overrides: Mapping[str, str]) -> Iterator[None]:
    """`os.environ` with `overrides` applied, restored afterwards."""
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def finish(code: int, on_failure: str, program: str) -> int:
    """Apply warn mode: report the failure, keep the build going."""
    if code != exits.OK and on_failure == "warn":
        print(f"{program}: WARNING: {_MEANING.get(code, f'exit {code}')} (exit {code}); "
              "continuing because on-failure is 'warn'", file=sys.stderr)
        return exits.OK
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


def add_kernel_triage(program: str, options: UploadRequest, kernel: KernelTree, env: Mapping[str, str]
                      ) -> dict[str, str]:
    """Kernel triage for the kernel the build left behind: set on `options`; returns the environment it needs.

    The .config goes as `--kernel-config` when discovery already uploads one; when only the
    sources and a .config elsewhere remain (Yocto after `rm_work`), as `TIMESYS_CI_KERNEL_CONFIG`:
    evidence for the triage, not uploaded.
    """
    if not parse_flag(env.get(KERNEL_TRIAGE_ENV) or "yes", KERNEL_TRIAGE_ENV):
        return {}
    if not options.gets_report:
        return {}  # no report to triage
    if not kernel:
        print(f"{program}: kernel triage: no kernel build directory or sources found; kernel CVEs are not triaged "
              f"(name them with {KERNEL_BUILD_DIR_ENV} / {KERNEL_SOURCE_DIR_ENV})", file=sys.stderr)
        return {}
    # Found, not named: evidence that turns out unusable only warns (the gate then counts every kernel CVE).
    as_text = lambda path: str(path) if path is not None else None  # noqa: E731
    options.kernel_build_dir, options.kernel_source_dir = as_text(kernel.build_dir), as_text(kernel.source_dir)
    options.kernel_evidence_optional = True
    extra: dict[str, str] = {}
    config = kernel.config
    if config is not None and options.kernel_config is None and (kernel.build_dir is None or
                                                                 config.parent != kernel.build_dir):
        extra[KERNEL_CONFIG_ENV] = str(config)
        print(f"{program}: kernel triage: the build directory is gone; evaluating {config} against the Kbuild "
              f"Makefiles ({KERNEL_CONFIG_ENV})", file=sys.stderr)
    return extra


def _run(program: str, on_failure_arg: Optional[str], print_args: bool,
         plan: Callable[[], tuple[UploadRequest, dict[str, str]]],
         kernel: Optional[Callable[[], KernelTree]] = None) -> int:
    env = os.environ
    on_failure = on_failure_arg or "fail"
    try:
        on_failure = on_failure_arg or on_failure_mode(env)
        options, extra_env = plan()
        if kernel is not None:
            extra_env = {**extra_env, **add_kernel_triage(program, options, kernel(), env)}
    except BuildSystemError as exc:
        print(f"{program}: error: {exc}", file=sys.stderr)
        return finish(exits.USAGE, on_failure, program)
    if print_args:
        print(json.dumps(upload_argv(options)))
        return exits.OK
    if on_failure == "warn" and options.on_service_error is None:
        options.on_service_error = "warn"
    return finish(run_upload(upload_argv(options), extra_env), on_failure, program)


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
        yocto_upload_options(opts.build_dir, opts.image, os.environ, tmpdir=opts.tmpdir,
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
    def plan() -> tuple[UploadRequest, dict[str, str]]:
        env = _buildroot_env(opts)
        return buildroot_upload_options(env), buildroot_upload_env(env)

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

"""The kernel evidence options, shared by `kernel-triage`, `upload` and the build-system entries.

Light on purpose (argparse and pathlib only): the CLI builds every parser at start-up.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Optional

from timesys_ci.buildsystems import KERNEL_BUILD_DIR_ENV as ENV_BUILD_DIR
from timesys_ci.buildsystems import KERNEL_CONFIG_ENV as ENV_CONFIG
from timesys_ci.buildsystems import KERNEL_SOURCE_DIR_ENV as ENV_SOURCE_DIR

if TYPE_CHECKING:
    from timesys_ci.kernel.discover import KernelInputs


def add_evidence_arguments(parser: argparse.ArgumentParser, *, config: bool = True,
                           spdx_flags: tuple[str, ...] = ("--spdx", "--kernel-spdx"),
                           title: str = "kernel evidence (what was compiled)") -> argparse._ArgumentGroup:
    """The kernel evidence flags (kernel-triage, upload). `config`: also --kernel-config (upload has its own,
    the reference option that uploads the file)."""
    group = parser.add_argument_group(title)
    group.add_argument("--kernel-build-dir", type=Path, metavar="DIR",
                       help=f"the kernel's build directory with its .cmd files (env {ENV_BUILD_DIR})")
    group.add_argument("--kernel-source-dir", type=Path, metavar="DIR",
                       help=f"the kernel source tree (env {ENV_SOURCE_DIR}); with the kernel .config, the "
                            "fallback when the build directory is gone")
    if config:
        group.add_argument("--kernel-config", type=Path, metavar="FILE", help=f"the kernel .config (env {ENV_CONFIG})")
    group.add_argument(*spdx_flags, dest="kernel_spdx", type=Path, metavar="FILE",
                       help="Yocto SPDX (3 or 2.2) JSON listing the kernel's compiled sources")
    return group


def kernel_inputs(args: argparse.Namespace, env: Mapping[str, str] = os.environ, *,
                  config: Optional[Path] = None) -> "KernelInputs":
    """The evidence named by flags, else by `TIMESYS_CI_KERNEL_*` (`config`: upload's --kernel-config, which wins
    over `TIMESYS_CI_KERNEL_CONFIG`)."""
    def given(flag: Optional[Path], name: str) -> Optional[Path]:
        return flag if flag is not None else (Path(env[name]) if env.get(name, "").strip() else None)

    from timesys_ci.kernel.discover import KernelInputs

    return KernelInputs(build_dir=given(args.kernel_build_dir, ENV_BUILD_DIR),
                        source_dir=given(args.kernel_source_dir, ENV_SOURCE_DIR),
                        config=given(getattr(args, "kernel_config", None) or config, ENV_CONFIG),
                        spdx=args.kernel_spdx)

"""An extra command registered through timesys_ci.cli.registry, as the upload/gate/service modules will be."""
from __future__ import annotations

import argparse
from typing import Any

from timesys_ci.cli import emit, exit_codes, settings_from_args


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    emit(args, {"gate": "failed", "group": settings.group_token, "threshold": args.threshold})
    return exit_codes.GATE_FAILED


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("example-gate", help="an example extra command")
    parser.add_argument("--threshold", default="high")
    parser.set_defaults(func=run)

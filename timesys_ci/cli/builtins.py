"""Commands that are not API calls: version, config show, doctor, completion."""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

import timesys
from timesys_ci.cli import exit_codes
from timesys_ci.cli.render import table, use_color
from timesys_ci.cli.runtime import emit, settings_from_args, wants_json

if TYPE_CHECKING:
    from timesys_ci.cli.parser import LazyCommands


def run_version(args: argparse.Namespace) -> int:
    if wants_json(args):
        emit(args, {"version": timesys.__version__})
    else:
        sys.stdout.write(timesys.__version__ + "\n")
    return exit_codes.OK


def run_config_show(args: argparse.Namespace) -> int:
    described = settings_from_args(args).describe()
    if wants_json(args):
        emit(args, described)
        return exit_codes.OK
    rows = [{"setting": name, "value": row["value"], "source": row["source"]} for name, row in described.items()]
    sys.stdout.write("\n".join(table(rows, use_color(sys.stdout))) + "\n")
    return exit_codes.OK


def run_completion(args: argparse.Namespace) -> int:
    from timesys_ci.cli.completion import script

    args._root_parser.commands.define_all()  # every command, for the completion script
    sys.stdout.write(script(args._root_parser, args.shell))
    return exit_codes.OK


def register(commands: "LazyCommands") -> None:
    """version, config show, doctor, completion (listed, with their help, in `timesys_ci.cli.registry`)."""
    from timesys_ci.cli.doctor import run_doctor
    from timesys_ci.cli.parser import CommandTree
    from timesys_ci.cli.registry import listed_help

    tree = CommandTree(commands)
    tree.add(("version",), listed_help("version")).set_defaults(func=run_version)
    tree.add(("config", "show"), "Show the effective settings and where each comes from (key redacted)") \
        .set_defaults(func=run_config_show)
    tree.add(("doctor",), listed_help("doctor")).set_defaults(func=run_doctor)
    completion = tree.add(("completion",), listed_help("completion"))
    completion.add_argument("shell", choices=("bash", "zsh"), help="the shell")
    completion.set_defaults(func=run_completion, _root_parser=tree.root)

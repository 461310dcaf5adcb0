"""Running a table command: arguments -> library keyword arguments -> call -> output."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from timesys_ci.cli import exit_codes
from timesys_ci.cli.errors import UsageError
from timesys_ci.cli.progress import Progress, human_size
from timesys_ci.cli.table import Arg, Command

# The settings and output helpers (`timesys_ci.cli.runtime`: pydantic, the client) are imported by the
# functions that run a command, so defining a command for `COMMAND --help` does not load them.


def _converted(arg: Arg, value: Any) -> Any:
    if arg.kind == "csv":
        return [item.strip() for item in value.split(",")]
    if arg.kind == "file_text":
        from timesys_ci.cli.runtime import read_input_text

        name = next((flag for flag in arg.flags if flag.startswith("--")), arg.flags[0])
        return read_input_text(value, name.lstrip("-").replace("-", " ").replace("_", " ") + " file")
    if arg.strip and isinstance(value, str):
        return value.strip()
    return value


def _value(arg: Arg, args: argparse.Namespace) -> Any:
    raw = getattr(args, arg.dest, arg.default)
    if raw is None:
        return None
    value = _converted(arg, raw)
    if arg.check is not None:
        where = raw if arg.kind == "file_text" else "/".join(arg.flags[:2])
        value = arg.check(where, value)
    return value


def library_kwargs(command: Command, args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of the library call, as the reference CLI builds them."""
    kwargs = {arg.param: _value(arg, args) for arg in command.all_args()}
    if command.prepare is not None:
        kwargs = command.prepare(kwargs, args)
    return kwargs


def progress_message(command: Command, args: argparse.Namespace, kwargs: dict[str, Any]) -> str:
    if command.progress == "uploading":
        for arg in command.all_args():
            if arg.kind == "file_text" and arg.positional:
                path, text = getattr(args, arg.dest), kwargs.get(arg.param) or ""
                return f"uploading {os.path.basename(path)} ({human_size(len(text.encode('utf-8')))})"
    return f"{command.progress} {' '.join(command.words[:1])}"


def run_command(args: argparse.Namespace) -> int:
    """`func` of every table command."""
    from timesys_ci.cli.runtime import configured_client, emit, quiet, write_binary

    command: Command = args._command
    if command.output == "bytes" and getattr(args, "stdout", False) and getattr(args, "json", False):
        raise UsageError("--json cannot be combined with --stdout (the file's bytes go to stdout)")
    kwargs = library_kwargs(command, args)
    client = configured_client(args)
    if command.progress and not client.dry_run:
        with Progress(progress_message(command, args, kwargs), enabled=not quiet(args)):
            result = command.function(**kwargs)
    else:
        result = command.function(**kwargs)
    if command.output == "bytes" and not client.dry_run:
        write_binary(args, bytes(result))
    else:
        emit(args, result)
        if result == [] and not quiet(args):
            _explain_empty(command, kwargs, client)
    return exit_codes.OK


def _explain_empty(command: Command, kwargs: dict[str, Any], client: Any) -> None:
    """An empty list filtered by the configured folder (not one given) says so: the filter is easy to miss."""
    takes_folder = any(arg.param == "folder_token" for arg in command.all_args())
    if takes_folder and not kwargs.get("folder_token") and client.folder_token:
        sys.stderr.write(f"timesys-ci: note: only entries of folder {client.folder_token} (the configured folder) "
                         f"were asked for; give -f/--folder-token for another one\n")

"""What every command shares: settings from the parsed arguments, the configured client, output, logging.

These helpers are the public contract for commands registered through
`timesys_ci.cli.registry` (see its docstring).
"""
from __future__ import annotations

import argparse
import hashlib
import logging
import os
import sys
from typing import Any, Callable, Iterable, Optional, TextIO

from timesys.core.llapi import LLAPI
from timesys.core.utils import write_bytes_atomic
from timesys_ci.cli.errors import UsageError
from timesys_ci.cli.progress import human_size
from timesys_ci.cli.render import render, to_json, use_color
from timesys_ci.cli.state import current_run
from timesys_ci.settings import CommandLine, Settings

LOGGERS = ("timesys", "timesys_ci")


def command_line_of(args: argparse.Namespace) -> CommandLine:
    """The settings-relevant global flags of a parsed command line."""
    return CommandLine(key_file=getattr(args, "key_file", None), dash_config=getattr(args, "dash_config", None),
                       url=getattr(args, "url", None), api=getattr(args, "api", None),
                       ca_bundle=getattr(args, "ca_bundle", None), insecure=bool(getattr(args, "insecure", False)),
                       timeout=getattr(args, "timeout", None), group_token=getattr(args, "group_token", None),
                       folder_token=getattr(args, "folder_token", None),
                       dry_run=bool(getattr(args, "dry_run", False)))


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The effective settings (flags > environment > files > defaults); resolved once per run."""
    settings = getattr(args, "_settings", None)
    if settings is None:
        settings = Settings.resolve(command_line_of(args))
        if settings.key is not None:
            current_run().redactor.add(settings.key.key_text)
        args._settings = settings
    return settings


def configured_client(args: argparse.Namespace, settings: Optional[Settings] = None) -> LLAPI:
    """The run's own client, configured from `settings` (default: the run's, from `args`); needs a key.

    `timesys.vigiles.*` and `timesys.utilities.*` use it until the run ends; `timesys.llapi` is left alone.
    """
    settings = settings if settings is not None else settings_from_args(args)
    if settings.key is not None:
        current_run().redactor.add(settings.key.key_text)
    return settings.apply(current_run().client)


def wants_json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False) or getattr(args, "dry_run", False))


def compact(args: argparse.Namespace) -> bool:
    """-f/--no-format: JSON on one line (also with --json and --dry-run)."""
    return bool(getattr(args, "no_format", False))


def quiet(args: argparse.Namespace) -> bool:
    """-q/--quiet: only results and errors (no warnings, notes or progress; `upload` prints only its verdict)."""
    return bool(getattr(args, "quiet", False))


def emit(args: argparse.Namespace, value: Any, stream: Optional[TextIO] = None) -> None:
    """Print a result: JSON with --json or --dry-run, one-line JSON with -f/--no-format, else human form."""
    stream = stream if stream is not None else sys.stdout
    if wants_json(args) or compact(args):
        text = to_json(value, compact=compact(args))
    else:
        text = render(value, color=use_color(stream))
    stream.write(text + "\n")
    stream.flush()


def read_input_text(path: str, what: str = "input file") -> str:
    """A file's UTF-8 text; an unreadable file is a usage error naming the path."""
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        raise UsageError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: {what} is a directory") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: {what} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read {what} ({exc.strerror or exc})") from None


def write_binary(args: argparse.Namespace, data: bytes) -> None:
    """File bytes to --stdout (raw, nothing appended) or atomically to -o FILE, byte-exact."""
    if getattr(args, "stdout", False):
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    path = args.outfile
    try:
        write_bytes_atomic(os.path.expanduser(path), data)
    except OSError as exc:
        raise UsageError(f"{path}: cannot write ({exc.strerror or exc})") from None
    summary = {"path": path, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    if wants_json(args):
        emit(args, summary)
    else:
        sys.stdout.write(f"saved {path} ({human_size(len(data))})\n")


class _Formatter(logging.Formatter):
    def __init__(self, prog: str, debug: bool) -> None:
        fmt = "%(asctime)s %(name)s %(levelname)s: %(message)s" if debug else f"{prog}: %(levelname)s: %(message)s"
        super().__init__(fmt)

    def format(self, record: logging.LogRecord) -> str:
        record.levelname = record.levelname.lower()
        return super().format(record)


def log_level(*, debug: bool = False, verbose: bool = False, quiet: bool = False) -> int:
    """--debug: everything; -v/--verbose: progress notes (polling, baseline chosen...); -q/--quiet: errors only."""
    if debug:
        return logging.DEBUG
    if verbose:
        return logging.INFO
    return logging.ERROR if quiet else logging.WARNING


def configure_logging(prog: str, level: int = logging.WARNING, stream: Optional[TextIO] = None,
                      loggers: Iterable[str] = LOGGERS) -> Callable[[], None]:
    """The library's log records at `level` and above on stderr, redacted, one line each.

    Returns a function restoring the loggers as they were (main() may run in-process, e.g. in tests).
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(_Formatter(prog, level <= logging.DEBUG))
    handler.addFilter(current_run().redactor)
    saved = []
    for name in loggers:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate))
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False

    def restore() -> None:
        for logger, level, propagate in saved:
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate

    return restore

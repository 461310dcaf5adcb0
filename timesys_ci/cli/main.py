"""The entry point: parse, set up logging, run the command, map errors to one line and an exit status."""
from __future__ import annotations

import os
import sys
import traceback
from typing import Optional, Sequence

from timesys_ci.cli import exit_codes
from timesys_ci.cli.parser import build_parser
from timesys_ci.cli.state import cli_run, current_run
from timesys_ci.clock import Clock

PROG_NAMES = ("timesys-ci", "vigiles")


def program_name(argv0: Optional[str] = None) -> str:
    name = os.path.basename(argv0 if argv0 is not None else (sys.argv[0] if sys.argv else ""))
    return name if name in PROG_NAMES else "timesys-ci"


def _error(prog: str, message: str) -> None:
    one_line = " ".join(current_run().redactor.clean(message).split())
    sys.stderr.write(f"{prog}: error: {one_line}\n")


def main(argv: Optional[Sequence[str]] = None, *, clock: Optional[Clock] = None) -> int:
    """Run one command line and return its exit status.

    Safe to call many times in one process: each run has its own client, secrets to redact, colour mode
    and log handler (`timesys_ci.cli.state`), and leaves nothing behind. `clock` is what the run waits
    with (the client's retry back-off, `--wait-timeout` polling, `db update` rate limits): tests pass a
    fake one so nothing really sleeps.
    """
    prog = program_name()
    parser = build_parser(prog)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, already reported on one line)
        return exc.code if isinstance(exc.code, int) else exit_codes.USAGE
    # Only now, with a command to run: the settings, the client and their imports.
    from timesys_ci.cli.errors import exit_code_for
    from timesys_ci.cli.runtime import configure_logging, log_level

    debug = bool(getattr(args, "debug", False))
    if getattr(args, "quiet", False) and (debug or getattr(args, "verbose", False)):
        _error(prog, "-q/--quiet cannot be combined with -v/--verbose or --debug")
        return exit_codes.USAGE
    level = log_level(debug=debug, verbose=bool(getattr(args, "verbose", False)),
                      quiet=bool(getattr(args, "quiet", False)))
    with cli_run(prog, clock=clock, color_mode=getattr(args, "color", None) or "auto", log_level=level) as run:
        restore_logging = configure_logging(prog, level)
        try:
            return int(args.func(args) or exit_codes.OK)
        except KeyboardInterrupt:
            _error(prog, "interrupted")
            return exit_codes.INTERRUPTED
        except BrokenPipeError:
            # The reader went away (e.g. `| head`): not an error of ours.
            sys.stderr.close()
            return exit_codes.OK
        except Exception as exc:  # noqa: BLE001 - every error becomes one line and an exit status
            code = exit_code_for(exc)
            if code == exit_codes.INTERNAL:
                _error(prog, f"internal error: {type(exc).__name__}: {exc}")
                if debug:
                    sys.stderr.write(run.redactor.clean("".join(traceback.format_exc())))
            else:
                _error(prog, str(exc))
            return code
        finally:
            restore_logging()

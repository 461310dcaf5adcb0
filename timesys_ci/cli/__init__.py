"""The timesys-ci command line: `python -m timesys_ci`, installed as `timesys-ci` and `vigiles`.

Public helpers for commands registered through `timesys_ci.cli.registry`.
"""
from __future__ import annotations

from timesys_ci.cli import exit_codes
from timesys_ci.cli.errors import UsageError, exit_code_for
from timesys_ci.cli.main import main
from timesys_ci.cli.runtime import (
    configured_client,
    emit,
    read_input_text,
    settings_from_args,
    write_binary,
)

__all__ = ["main", "exit_codes", "settings_from_args", "configured_client", "emit", "write_binary", "read_input_text",
           "UsageError", "exit_code_for"]

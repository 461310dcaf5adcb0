"""The timesys-ci command line: `python -m timesys_ci`, installed as `timesys-ci` and `vigiles`.

Public helpers for commands registered through `timesys_ci.cli.registry`. They are imported on first
use (PEP 562): starting the program, `--help` and a usage error load none of the settings, the client
or pydantic.
"""
from __future__ import annotations

import importlib
from typing import Any

from timesys_ci.cli import exit_codes
from timesys_ci.cli.main import main

_LAZY = {"UsageError": "timesys_ci.cli.errors", "exit_code_for": "timesys_ci.cli.errors",
         **dict.fromkeys(("configured_client", "emit", "read_input_text", "settings_from_args", "write_binary"),
                         "timesys_ci.cli.runtime")}

__all__ = ["main", "exit_codes", "settings_from_args", "configured_client", "emit", "write_binary", "read_input_text",
           "UsageError", "exit_code_for"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

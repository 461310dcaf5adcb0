"""The tool's name and version: the one lookup the client, the CLI, the outputs and the exports share."""
from __future__ import annotations

from functools import lru_cache

#: The distribution's name, and the tool name written into SARIF, SBOMs and reports.
TOOL_NAME = "timesys-ci"
#: What a source tree that was never installed reports (PEP 440: a local version of nothing released).
UNKNOWN_VERSION = "0+unknown"


@lru_cache(maxsize=1)
def tool_version() -> str:
    """The installed distribution's version, or UNKNOWN_VERSION when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(TOOL_NAME)
    except PackageNotFoundError:
        return UNKNOWN_VERSION

"""Human output: aligned tables for lists of objects, `key: value` lines for objects, indentation for nesting.

Never Python reprs: scalars print as JSON-like words (true/false, "-" for null),
nested values inside table cells as compact JSON.
"""
from __future__ import annotations

import json
import os
from typing import Any, Mapping, Optional, Sequence, TextIO

from timesys_ci.cli.state import current_run

NULL = "-"


def use_color(stream: TextIO, environ: Optional[Mapping[str, str]] = None, mode: Optional[str] = None) -> bool:
    """Whether to colour `stream`: `--color always|never` (the run's, unless `mode` is given) first, then the environment, then "is it a terminal".

    https://no-color.org: `NO_COLOR` set to a non-empty value turns colour off (an empty one does not).
    https://force-color.org: `FORCE_COLOR` set to a non-empty value turns it on (CI logs render ANSI colours),
    and wins over `NO_COLOR`, as in Node and pytest; `FORCE_COLOR=0` or `false` means "do not force".
    `TERM=dumb` and a stream that is not a terminal get no colour.
    """
    mode = current_run().color_mode if mode is None else mode
    if mode != "auto":
        return mode == "always"
    environ = os.environ if environ is None else environ
    force = environ.get("FORCE_COLOR", "")
    if force and force.lower() not in ("0", "false"):
        return True
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def json_default(value: Any) -> Any:
    """JSON for what `json` cannot encode: bytes as text (dry-run signatures), others as strings."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def to_json(value: Any, compact: bool = False) -> str:
    if compact:
        return json.dumps(value, default=json_default, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(value, default=json_default, ensure_ascii=False, indent=2)


def scalar(value: Any) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray)):
        return json_default(value)
    if isinstance(value, (dict, list, tuple)):
        return to_json(value, compact=True)
    return str(value)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list, tuple)) or not value


def _bold(text: str, color: bool) -> str:
    return f"\033[1m{text}\033[0m" if color else text


def table(rows: Sequence[Mapping[str, Any]], color: bool = False, indent: int = 0) -> list[str]:
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    cells = [[scalar(row.get(column)) for column in columns] for row in rows]
    widths = [max([len(column)] + [len(line[i]) for line in cells]) for i, column in enumerate(columns)]
    pad = " " * indent
    header = "  ".join(column.upper().ljust(width) for column, width in zip(columns, widths)).rstrip()
    lines = [pad + _bold(header, color)]
    lines.extend(pad + "  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in cells)
    return lines


def render_lines(value: Any, color: bool = False, indent: int = 0) -> list[str]:
    pad = " " * indent
    if isinstance(value, Mapping):
        if not value:
            return [pad + "(empty)"]
        width = max(len(str(key)) for key in value) + 1
        lines: list[str] = []
        for key, item in value.items():
            label = f"{key}:"
            if _is_scalar(item):
                text = scalar(item) if item not in ({}, []) else "(none)"
                first, *rest = text.splitlines() or [""]
                lines.append(f"{pad}{label.ljust(width)} {first}".rstrip())
                lines.extend(f"{pad}{' ' * (width + 1)}{line}" for line in rest)
            else:
                lines.append(pad + label)
                lines.extend(render_lines(item, color, indent + 2))
        return lines
    if isinstance(value, (list, tuple)):
        if not value:
            return [pad + "(none)"]
        if all(isinstance(item, Mapping) and item for item in value):
            return table(list(value), color, indent)
        if all(_is_scalar(item) for item in value):
            return [pad + scalar(item) for item in value]
        lines = []
        for item in value:
            nested = render_lines(item, color, indent + 2)
            lines.append(pad + "- " + nested[0].lstrip())
            lines.extend(nested[1:])
        return lines
    return [pad + scalar(value)]


def render(value: Any, color: bool = False) -> str:
    """The human form of a result, as one string without a trailing newline."""
    return "\n".join(render_lines(value, color))

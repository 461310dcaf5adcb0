"""The vocabulary of the command table: one `Command` per CLI command, naming the library function it calls.

The table (`timesys_ci.cli.commands`) is the only place the command tree is
written down; argparse, dispatch, help and shell completion are derived from it.
Each `Arg` maps the reference CLI's option spellings onto one keyword argument of
the `timesys` library function, which stays the single description of the API call.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Optional, Sequence, Union

ArgKind = Literal["text", "flag", "csv", "file_text"]
#: What a command produces: a JSON-able value, or file bytes (written to -o FILE / --stdout).
OutputKind = Literal["json", "bytes"]


@dataclass(frozen=True)
class Arg:
    """One positional or option.

    flags: the reference spellings, e.g. ("-g", "--group_token") or ("manifest-token",) for a
    positional (its metavar). Each long option also accepts its other spelling
    (underscores <-> hyphens). param: the library keyword it fills.
    kind: text (as given), flag (store_true), csv ("a, b" -> ["a", "b"]),
    file_text (a path whose UTF-8 text is passed).
    """

    flags: tuple[str, ...]
    param: str
    help: str = ""
    kind: ArgKind = "text"
    choices: Optional[Sequence[str]] = None
    default: Any = None
    required: bool = False
    nargs: Optional[str] = None
    strip: bool = False  # the reference trims these values
    metavar: Optional[str] = None
    #: Checks the converted value before anything is sent: `check(where, value) -> value`, raising UsageError.
    #: `where` is the option as given (`-S/--subscribe`), or the path for file_text.
    check: Optional[Callable[[str, Any], Any]] = None

    @property
    def positional(self) -> bool:
        return not self.flags[0].startswith("-")

    @property
    def dest(self) -> str:
        # Prefixed so a command's options never collide with the global ones (--group-token, --url...).
        return f"arg_{self.param}"


@dataclass(frozen=True)
class OneOf:
    """Mutually exclusive options; `required`: exactly one must be given."""

    args: tuple[Arg, ...]
    required: bool = False


Prepare = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class Command:
    """One command: its words, the library function, its arguments and output kind."""

    words: tuple[str, ...]
    function: Callable[..., Any]
    args: tuple[Union[Arg, OneOf], ...] = ()
    aliases: tuple[str, ...] = ()  # extra names of the last word (spelling variants are automatic)
    output: OutputKind = "json"
    help: Optional[str] = None
    #: Adjusts the keyword arguments (reference rules such as "forward X only with Y"); may raise UsageError.
    prepare: Optional[Prepare] = None
    #: Verb shown by the progress indicator on a terminal ("uploading", "downloading").
    progress: Optional[str] = None
    epilog: Optional[str] = None

    def all_args(self) -> list[Arg]:
        flat: list[Arg] = []
        for item in self.args:
            flat.extend(item.args if isinstance(item, OneOf) else (item,))
        return flat

    def summary(self) -> str:
        if self.help:
            return self.help
        from timesys.core.endpoints import ENDPOINTS

        endpoint = ENDPOINTS.get(getattr(self.function, "__name__", ""))
        if endpoint is not None and endpoint.summary:
            return endpoint.summary
        doc = (self.function.__doc__ or "").strip()
        return doc.splitlines()[0].rstrip(".") if doc else ""


@dataclass(frozen=True)
class Group:
    """An intermediate word (`manifest`, `group settings`...) with its help text."""

    words: tuple[str, ...]
    help: str
    aliases: tuple[str, ...] = field(default_factory=tuple)


def spellings(name: str) -> list[str]:
    """A name and its other spelling: `--group_token` <-> `--group-token`, `list_active` <-> `list-active`."""
    head = "--" if name.startswith("--") else ""
    body = name[len(head):]
    variants = [name]
    for old, new in (("_", "-"), ("-", "_")):
        if old in body:
            variant = head + body.replace(old, new)
            if variant not in variants:
                variants.append(variant)
    return variants


def option_strings(flags: Sequence[str]) -> list[str]:
    """All accepted option strings for `flags`, reference spellings first."""
    result: list[str] = []
    for flag in flags:
        for variant in spellings(flag) if flag.startswith("--") else [flag]:
            if variant not in result:
                result.append(variant)
    return result

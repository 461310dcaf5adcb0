"""The argparse tree, built from the command table, the built-in commands and the registered extra modules."""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import TYPE_CHECKING, Any, Iterator, NamedTuple, NoReturn, Optional, Sequence, Union

from timesys_ci.cli import exit_codes, registry
from timesys_ci.cli.state import COLOR_MODES
from timesys_ci.cli.table import option_strings, spellings

if TYPE_CHECKING:
    from timesys_ci.cli.table import Arg, Command, OneOf

DESCRIPTION = "Vigiles SBOM vulnerability management from the command line and CI."
EPILOG = ("Global options may also follow the command (long forms only). Settings come from flags, then "
          "VIGILES_* environment variables, then ~/timesys/linuxlink_key and ~/timesys/dashboard_config; see "
          "'config show'. Exit status: " + exit_codes.describe() + ".")


class CLIParser(argparse.ArgumentParser):
    """argparse with one-line errors (`timesys-ci: error: manifest info: ...`) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        root, _, path = self.prog.partition(" ")
        where = f"{path}: " if path else ""
        if message.endswith("required: COMMAND"):  # run bare: say where the list of commands is
            message = f"no command given; '{root} --help' lists the commands"
        elif message.endswith("required: SUBCOMMAND"):
            message = f"{message} (see '{self.prog} --help')"
        sys.stderr.write(f"{root}: error: {where}{message}\n")
        sys.exit(exit_codes.USAGE)


class GlobalOption(NamedTuple):
    flags: tuple[str, ...]
    dest: str
    help: str
    flag: bool = False  # store_true
    choices: Optional[Sequence[str]] = None
    type: Any = None
    metavar: Optional[str] = None


GLOBAL_OPTIONS: tuple[GlobalOption, ...] = (
    GlobalOption(("--dry-run",), "dry_run", "print the requests (as JSON) instead of sending them", flag=True),
    GlobalOption(("-u", "--url"), "url", "base URL of the service (default: from the key file)", metavar="URL"),
    GlobalOption(("-i", "--insecure"), "insecure", "do not verify TLS certificates", flag=True),
    GlobalOption(("-k", "--key-file"), "key_file", "key file (default: ~/timesys/linuxlink_key)", metavar="PATH"),
    GlobalOption(("-d", "--dash-config"), "dash_config", "dashboard config (default: ~/timesys/dashboard_config)",
                 metavar="PATH"),
    GlobalOption(("-f", "--no-format"), "no_format", "print results as one-line JSON", flag=True),
    GlobalOption(("--api",), "api", "API flavour (default: from the key file)", choices=("groups", "products")),
    GlobalOption(("--ca-bundle",), "ca_bundle", "CA bundle to verify the server's certificate", metavar="PATH"),
    GlobalOption(("--timeout",), "timeout", "network timeout in seconds, for connecting and for each wait on an answer (default 10 and "
                 "300; an upload is answered after its scan, so raise it for huge SBOMs)", type=float, metavar="SECONDS"),
    GlobalOption(("--group-token",), "group_token", "group to work in (overrides the dashboard config)",
                 metavar="TOKEN"),
    GlobalOption(("--folder-token",), "folder_token", "folder to work in (overrides the dashboard config)",
                 metavar="TOKEN"),
    GlobalOption(("--json",), "json", "print results as JSON", flag=True),
    GlobalOption(("--debug",), "debug", "log requests and details on stderr (secrets stay redacted)", flag=True),
    GlobalOption(("-v", "--verbose"), "verbose", "also say what is being done (polling, baseline chosen, ...)",
                 flag=True),
    GlobalOption(("-q", "--quiet"), "quiet", "only results and errors: no warnings, notes or progress", flag=True),
    GlobalOption(("--color", "--colour"), "color", "colour the output: auto (default: on a terminal, per NO_COLOR and "
                 "FORCE_COLOR), always, never", choices=COLOR_MODES),
)


def add_global_options(parser: argparse.ArgumentParser, trailing: bool = False) -> None:
    """The global options; `trailing` (after the command): long forms only, and only those the command
    does not define itself, with SUPPRESS defaults so values given before the command survive."""
    taken = set(parser._option_string_actions)
    for option in GLOBAL_OPTIONS:
        strings = [s for s in option_strings(option.flags) if not trailing or s.startswith("--")]
        if trailing:
            if taken.intersection(strings):
                continue
        kwargs: dict[str, Any] = {"dest": option.dest, "help": option.help}
        if option.flag:
            kwargs["action"] = "store_true"
        else:
            kwargs.update(choices=option.choices, type=option.type, metavar=option.metavar)
        if trailing:
            kwargs["default"] = argparse.SUPPRESS
            kwargs["help"] = argparse.SUPPRESS
        parser.add_argument(*strings, **kwargs)


def _add_arg(container: Any, arg: "Arg") -> None:
    kwargs: dict[str, Any] = {"help": arg.help}
    if arg.positional:
        kwargs.update(metavar=arg.flags[0], choices=arg.choices, nargs=arg.nargs)
        if arg.choices:
            kwargs["help"] = f"{arg.help} ({', '.join(arg.choices)})"
            kwargs["metavar"] = arg.flags[0]
        container.add_argument(arg.dest, **{k: v for k, v in kwargs.items() if v is not None})
        return
    if arg.kind == "flag":
        kwargs["action"] = "store_true"
    else:
        metavar = None if arg.choices else (arg.metavar or arg.flags[-1].lstrip("-").upper().replace("-", "_"))
        kwargs.update(default=arg.default, choices=arg.choices, nargs=arg.nargs, metavar=metavar,
                      required=arg.required or None)
    container.add_argument(*option_strings(arg.flags), dest=arg.dest,
                           **{k: v for k, v in kwargs.items() if v is not None or k == "default"})


def add_args(container: Any, items: Sequence[Union["Arg", "OneOf"]]) -> None:
    """Add table arguments to a parser or an argument group (also used by commands outside the table)."""
    from timesys_ci.cli.table import OneOf

    for item in items:
        if isinstance(item, OneOf):
            group = container.add_mutually_exclusive_group(required=item.required)
            for arg in item.args:
                _add_arg(group, arg)
        else:
            _add_arg(container, item)


def add_command_arguments(parser: argparse.ArgumentParser, command: "Command") -> None:
    from timesys_ci.cli.dispatch import run_command

    add_args(parser, command.args)
    if command.output == "bytes":
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("-o", "--outfile", "--output", dest="outfile", metavar="FILE",
                            help="write the file here (atomically, byte-exact)")
        target.add_argument("--stdout", action="store_true", help="write the raw bytes to standard output")
    parser.set_defaults(func=run_command, _command=command)


class LazyCommands(argparse._SubParsersAction):
    """The top-level commands: listed from `registry.LISTED`, each defined when the command line names it.

    `--help` and usage errors need only the names and one-line helps, so each listed command starts as an
    empty placeholder parser; when argparse reaches the command's word, the module that defines it is
    imported and its `register(subparsers)` replaces the placeholder (same listing, same help line) with
    the real parser. Nothing of a command's module is imported unless that command runs.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.root: Optional[argparse.ArgumentParser] = None
        self._placeholders: dict[str, registry.Listed] = {}  # name or alias -> its entry, until defined
        self._imported: set[str] = set()
        self._new: list[argparse.ArgumentParser] = []  # parsers added by the module being imported

    def add_listed(self, entry: registry.Listed) -> None:
        super().add_parser(entry.name, aliases=list(entry.aliases), help=entry.help)
        for name in (entry.name, *entry.aliases):
            self._placeholders[name] = entry

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        entry = self._placeholders.get(name)
        if entry is None:
            parser = super().add_parser(name, **kwargs)
            self._new.append(parser)
            return parser
        # A listed command being defined: its line in the listing (name, aliases, help) is the list's.
        kwargs.pop("help", None)
        names = (name, *kwargs.pop("aliases", ()), *entry.aliases)
        kwargs.setdefault("prog", f"{self._prog_prefix} {name}")
        parser = self._parser_class(**kwargs)
        for each in names:
            self._name_parser_map[each] = parser
            self._placeholders.pop(each, None)
        self._new.append(parser)
        return parser

    def define(self, name: str) -> None:
        """Import the module defining command `name` (if it is still a placeholder) and register it."""
        entry = self._placeholders.get(name)
        if entry is None or entry.module in self._imported:
            return
        self._imported.add(entry.module)
        self.register_module(entry.module)

    def register_module(self, module_name: str) -> None:
        """Import a command module, let it `register(self)`, and give its commands the trailing global options."""
        self._new = []
        importlib.import_module(module_name).register(self)
        for parser in self._new:
            add_trailing_global_options(parser)
        self._new = []

    def define_all(self) -> None:
        for entry in registry.LISTED:
            self.define(entry.name)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: Optional[str] = None) -> None:
        self.define(values[0])
        super().__call__(parser, namespace, values, option_string)


def add_trailing_global_options(parser: argparse.ArgumentParser) -> None:
    for leaf in leaf_parsers(parser):
        add_global_options(leaf, trailing=True)


class CommandTree:
    """Adds parsers for word paths, creating intermediate `manifest`, `group settings`... nodes on demand."""

    def __init__(self, commands: LazyCommands) -> None:
        from timesys_ci.cli.commands import GROUPS

        assert commands.root is not None
        self.root = commands.root
        self.nodes: dict[tuple[str, ...], Any] = {(): commands}
        # Top-level groups (`manifest`, `config`...) are described in the registry's list, deeper ones in GROUPS.
        self.group_help = {(entry.name,): entry.help for entry in registry.LISTED}
        self.group_help.update((group.words, group.help) for group in GROUPS)

    def subparsers(self, words: tuple[str, ...]) -> Any:
        if words not in self.nodes:
            parent = self.subparsers(words[:-1])
            parser = parent.add_parser(words[-1], aliases=spellings(words[-1])[1:], help=self.group_help.get(words),
                                       description=self.group_help.get(words))
            self.nodes[words] = parser.add_subparsers(dest=f"command_{len(words)}", metavar="SUBCOMMAND",
                                                      required=True, parser_class=CLIParser)
        return self.nodes[words]

    def add(self, words: tuple[str, ...], help: str, aliases: Sequence[str] = ()) -> argparse.ArgumentParser:
        names = list(aliases) + [a for a in spellings(words[-1])[1:] if a not in aliases]
        return self.subparsers(words[:-1]).add_parser(words[-1], aliases=names, help=help, description=help)


def leaf_parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every parser that runs a command (has no subcommands), each once."""
    seen: set[int] = set()
    stack = [parser]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        children = [a for a in current._actions if isinstance(a, argparse._SubParsersAction)]
        if not children:
            yield current
        for action in children:
            stack.extend(action.choices.values())


class _VersionAction(argparse._VersionAction):
    """`--version`: the version is looked up only when asked for (it reads the installed distribution)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: Optional[str] = None) -> None:
        from timesys.core.version import tool_version

        self.version = f"{parser.prog} {tool_version()}"
        super().__call__(parser, namespace, values, option_string)


def build_parser(prog: str = "timesys-ci", extra_modules: Optional[Sequence[str]] = None) -> CLIParser:
    """The whole command line; each listed command is defined (its module imported) when it is parsed.

    `LazyCommands.define_all()` on `parser.commands` defines every command at once (shell completion does).
    """
    parser = CLIParser(prog=prog, description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    add_global_options(parser)
    parser.register("action", "parsers", LazyCommands)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=CLIParser)
    assert isinstance(commands, LazyCommands)
    commands.root = parser
    parser.commands = commands  # type: ignore[attr-defined]
    for entry in registry.LISTED:
        commands.add_listed(entry)
    modules = registry.EXTRA_COMMAND_MODULES if extra_modules is None else extra_modules
    for module_name in modules:
        commands.register_module(module_name)
    return parser

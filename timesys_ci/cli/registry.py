"""The one registration point for commands: the list of top-level commands, and where each is defined.

`LISTED` names every top-level command with its one-line help and the module that defines it. `--help`
is printed from this list alone; a command's module (its argparse set-up and its implementation, with
their imports: pydantic, the service, the database...) is imported only when the command line names that
command (`timesys_ci.cli.parser.LazyCommands`). A test checks the list against what the modules register.

A new command module: add a `Listed` entry per top-level command it registers (or, for a module that
should be imported at every start, its import path to `EXTRA_COMMAND_MODULES`).
Contract for such a module:

* It defines `register(subparsers) -> None`. `subparsers` is the top-level
  `argparse._SubParsersAction`; call `subparsers.add_parser(name, help=..., description=...)`
  (nested `add_subparsers(required=True, dest=...)` is fine) and on each runnable
  parser `set_defaults(func=my_function)`.
* `func(args) -> int` receives the parsed `argparse.Namespace` and returns an exit status from
  `timesys_ci.cli.exit_codes` (`OK`, `GATE_FAILED` for a failed gate, ...).
* The global options (`--json`, `--dry-run`, `--url`, `--key-file`, `--api`, `--group-token`,
  `--debug`, `-v/--verbose`, `-q/--quiet`, `--color`, `-f/--no-format`, ...) are shared: they are
  parsed before the command, and their long forms are also added after it automatically (unless
  your command defines the same option string). A new global option is one `GlobalOption` entry in
  `timesys_ci.cli.parser.GLOBAL_OPTIONS`. Read them through the helpers below rather than from
  `args` directly: `quiet(args)` (print only results; no progress or notes), `compact(args)`.
* Helpers (import from `timesys_ci.cli`): `settings_from_args(args) -> Settings`,
  `configured_client(args) -> timesys.LLAPI` (the run's own client, configured and made current
  for `timesys.vigiles.*` until the run ends; `timesys.llapi` is left alone; raises a
  configuration error without a key), `emit(args, value)` (JSON with --json/--dry-run, a human
  table or summary otherwise), `write_binary(args, data)`, `read_input_text(path, what)`, and
  `UsageError` for bad input (exit 2, message on one line naming the file or option).
* Do not catch `timesys.VigilesError` just to print it: raise. The main program turns any error
  into one stderr line `timesys-ci: error: <message>` and the exit status (2 usage/configuration/
  input, including a 4xx answer the input caused; 3 service/network/authentication; 70 a bug;
  130 interrupted: `timesys_ci.cli.errors.exit_code_for`), redacting the key; `--debug` adds the
  library's DEBUG log. Check values and option combinations before sending anything (raise
  `UsageError`); a table `Arg` can carry `check=` and a `Command` `prepare=` for that.
* Warnings go through the `timesys_ci` logger (`logging.getLogger(__name__)`), one line each,
  hidden by `-q`. A warning about a gate result (stale data, a rule that could not apply) goes
  into `GateOutcome.warnings` instead — pass `warnings=[...]` to
  `timesys_ci.job.upload.evaluate_report` — so the summary, JSON, Markdown and step summary all
  carry it; `notes=[...]` for facts (e.g. how to browse a report).
* Shell completion and help pick registered commands up automatically.
"""
from __future__ import annotations

from typing import NamedTuple


class Listed(NamedTuple):
    """A top-level command as `--help` lists it, and the module whose `register(subparsers)` defines it."""

    name: str
    help: str
    module: str
    aliases: tuple[str, ...] = ()


_TABLE = "timesys_ci.cli.commands"  # the API commands of the command table (and their groups)
_BUILTINS = "timesys_ci.cli.builtins"

#: Every top-level command, in `--help` order.
LISTED: tuple[Listed, ...] = (
    Listed("version", "Print the version (needs no key)", _BUILTINS),
    Listed("heartbeat", "Check authentication and server availability", _TABLE, ("test",)),
    Listed("about", "Application and database versions", _TABLE),
    Listed("manifest", "SBOMs (called manifests by the API): list, upload, download, rescan, move", _TABLE),
    Listed("report", "vulnerability reports: download, compare", _TABLE),
    Listed("folder", "folders inside groups", _TABLE),
    Listed("group", "groups: members, settings, activity log", _TABLE),
    Listed("cves", "CVE lookups and triage statuses", _TABLE),
    Listed("product", "products (LinuxLink API flavour)", _TABLE),
    Listed("config", "the effective configuration", _BUILTINS),
    Listed("doctor", "Check the configuration, TLS and a heartbeat, and say what to fix", _BUILTINS),
    Listed("completion", "Print a shell completion script (bash or zsh)", _BUILTINS),
    Listed("upload", "Upload a manifest/SBOM, wait for the report and gate the build on it", "timesys_ci.job.cli"),
    Listed("gate", "Apply the gate to a saved report (offline)", "timesys_ci.job.cli"),
    Listed("yocto", "Upload and gate a Yocto image's Vigiles manifest (meta-timesys) or SPDX.",
           "timesys_ci.buildsystems.entry"),
    Listed("buildroot", "Upload and gate a Buildroot build (vigiles-buildroot manifest or show-info).",
           "timesys_ci.buildsystems.entry"),
    Listed("service", "run and manage the local Vigiles-compatible service", "timesys_ci.service.commands"),
    Listed("kernel-triage", "Set aside kernel CVEs whose affected files the build did not compile (offline)",
           "timesys_ci.kernel.cli"),
    Listed("db", "the local vulnerability database: update, status, export, import", "timesys_ci.vulndb.commands"),
)



def listed_help(name: str) -> str:
    """The one-line help of a listed top-level command."""
    return next(entry.help for entry in LISTED if entry.name == name)


#: Modules imported at every start (each `register(subparsers)` adds commands not in `LISTED`).
EXTRA_COMMAND_MODULES: list[str] = []

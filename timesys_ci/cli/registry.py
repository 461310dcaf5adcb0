"""The one registration point for commands written outside the command table.

Add the module's import path to `EXTRA_COMMAND_MODULES` (e.g. "timesys_ci.upload.cli").
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

EXTRA_COMMAND_MODULES: list[str] = [
    "timesys_ci.job.cli",
    "timesys_ci.buildsystems.entry",
    "timesys_ci.service.commands",
    "timesys_ci.kernel.cli",  # kernel-triage
    "timesys_ci.vulndb.commands",  # db update|status|export|import
]

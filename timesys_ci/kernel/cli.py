"""`timesys-ci kernel-triage REPORT.json`: set aside kernel CVEs whose files were not compiled, offline.

Exit status as `gate`: 0 the gate passes on what is left, 1 it fails, 2 usage or input error.
"""
from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from timesys_ci.cli import exit_codes
from timesys_ci.cli.errors import UsageError
from timesys_ci.kernel.options import add_evidence_arguments, kernel_inputs

if TYPE_CHECKING:  # the evaluators are loaded when the command runs, not at CLI start-up
    from timesys_ci.kernel.discover import LoadedEvidence
    from timesys_ci.kernel.records import FileData
    from timesys_ci.kernel.triage import TriageResult

HELP = "Set aside kernel CVEs whose affected files the build did not compile (offline)"
STDOUT = "-"
FAIL_ON_CHOICES = ("none", "low", "medium", "high", "critical")
MAX_LISTED = 20


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("kernel-triage", help=HELP, description=HELP + ".")
    parser.add_argument("report", type=Path, help="a report JSON (upload --save-report, or from the API)")
    add_evidence_arguments(parser)
    data = parser.add_argument_group("kernel file data (the Linux kernel CNA's programFiles)")
    data.add_argument("--data", type=Path, metavar="DIR",
                      help="data dir whose vulnerability database has them (default: the embedded service's)")
    data.add_argument("--cve-records", type=Path, action="append", metavar="PATH",
                      help="CVE JSON 5 records instead: a vulns.git or cvelistV5 checkout, a directory or a file "
                           "(repeatable)")
    out = parser.add_argument_group("outputs (written atomically)")
    out.add_argument("-o", "--output", metavar="FILE", help="the triaged report (feed it to `timesys-ci gate`)")
    out.add_argument("--json", dest="json_file", nargs="?", const=STDOUT, metavar="FILE",
                     help="the triage as JSON (schema timesys-ci/kernel-triage v1); no FILE: on stdout")
    gate = parser.add_argument_group("gate on what is left (as `timesys-ci gate`)")
    gate.add_argument("--fail-on", choices=FAIL_ON_CHOICES, help="fail on affected findings of this severity or worse")
    gate.add_argument("--policy", type=Path, metavar="FILE", help="a TOML gate policy (top-level keys)")
    gate.add_argument("--pyproject", type=Path, default=Path("pyproject.toml"), metavar="FILE",
                      help="read [tool.timesys-ci] from this file if it exists (default: %(default)s)")
    parser.set_defaults(func=run_kernel_triage)


def _file_data(args: argparse.Namespace, stack: ExitStack) -> "FileData":
    from timesys_ci.kernel.records import record_file_data, store_file_data
    from timesys_ci.settings import local_data_dir

    if args.cve_records:
        if args.data:
            raise UsageError("--data and --cve-records: give one source of kernel file data")
        return record_file_data(args.cve_records)
    return stack.enter_context(store_file_data(args.data or local_data_dir()))


def _read_report(path: Path) -> Any:
    from timesys_ci.report import ReportError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path.name}: cannot read report: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path.name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


def run_kernel_triage(args: argparse.Namespace) -> int:
    from timesys_ci.gate.policy import load_policy
    from timesys_ci.job.upload import GateInputs, evaluate_report
    from timesys_ci.kernel.discover import load_evidence
    from timesys_ci.kernel.triage import triage_report
    from timesys_ci.outputs.atomic import write_atomic
    from timesys_ci.report import parse_report

    policy = load_policy(args.policy, args.pyproject, {"fail_on": args.fail_on})
    report = _read_report(args.report)
    loaded = load_evidence(kernel_inputs(args))
    with ExitStack() as stack:
        data = _file_data(args, stack)
        result = triage_report(report, loaded.evidence, data.program_files, source=args.report.name)
    outcome = evaluate_report(parse_report(result.report, source=args.report.name),
                              GateInputs(policy, online=False))
    if args.output:
        write_atomic(args.output, json.dumps(result.report, indent=2) + "\n")
    document = dict(result.to_json(), notes=loaded.notes, gate={"passed": outcome.passed,
                                                               "failing": len(outcome.result.failing)})
    if args.json_file and args.json_file != STDOUT:
        write_atomic(args.json_file, json.dumps(document, indent=2) + "\n")
    if args.json_file == STDOUT:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        write_summary(result, loaded, data.origin, outcome.passed, len(outcome.result.failing), sys.stdout)
    return exit_codes.OK if outcome.passed else exit_codes.GATE_FAILED


def write_summary(result: "TriageResult", loaded: "LoadedEvidence", origin: str, passed: bool, failing: int,
                  out: TextIO) -> None:
    from timesys_ci.outputs.summary import kernel_triage_lines

    lines = ["Kernel CVE triage"]
    lines += [f"  {line}" for line in kernel_triage_lines(result.summary(origin), MAX_LISTED)]
    lines += [f"  not used: {note}" for note in loaded.notes if "kernel sources listed" not in note]
    kept = tuple(d for d in result.kept if d.outcome != "no_file_data")
    if kept:
        lines.append("  kept, and why:")
        lines += _listed([f"{d.cve_id} {d.package} {d.version}: {d.reason}" for d in kept])
    lines.append(f"Gate: {'PASS' if passed else 'FAIL'}" + ("" if passed else f" ({failing} failing)"))
    out.write("\n".join(lines) + "\n")


def _listed(rows: list[str]) -> list[str]:
    shown = [f"    {row}" for row in rows[:MAX_LISTED]]
    if len(rows) > MAX_LISTED:
        shown.append(f"    ... and {len(rows) - MAX_LISTED} more (--json lists every one)")
    return shown

"""Write the job's outputs: the human summary, the files asked for, and GitHub's step files."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, TextIO

from timesys_ci.cli.render import use_color
from timesys_ci.outputs import github
from timesys_ci.outputs.atomic import write_atomic
from timesys_ci.outputs.json_report import render_json
from timesys_ci.outputs.junit import render_junit
from timesys_ci.outputs.markdown import render_markdown
from timesys_ci.outputs.outcome import GateOutcome
from timesys_ci.outputs.sarif import render_sarif
from timesys_ci.outputs.summary import render_summary, verdict_line

STDOUT = "-"


@dataclass
class OutputOptions:
    json_file: Optional[str] = None  # "-": the gate result as JSON on stdout instead of the summary
    sarif_file: Optional[str] = None
    junit_file: Optional[str] = None
    markdown_file: Optional[str] = None
    report_file: Optional[str] = None  # the raw report, for `timesys-ci gate` later
    step_summary: bool = True
    annotations: bool = True
    repo_root: Optional[str] = None
    compact: bool = False  # -f/--no-format: JSON on stdout on one line
    quiet: bool = False  # -q/--quiet: only the verdict line on stdout, no warnings on stderr


def write_outputs(outcome: GateOutcome, report: Any, options: OutputOptions, *,
                  stdout: Optional[TextIO] = None, stderr: Optional[TextIO] = None) -> None:
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    if options.report_file and report is not None:
        write_atomic(options.report_file, json.dumps(report, indent=2, sort_keys=True) + "\n")
    files = {options.sarif_file: lambda: render_sarif(outcome, repo_root=options.repo_root),
             options.junit_file: lambda: render_junit(outcome),
             options.markdown_file: lambda: render_markdown(outcome)}
    for path, render in files.items():
        if path:
            write_atomic(path, render())
    if options.json_file and options.json_file != STDOUT:
        write_atomic(options.json_file, render_json(outcome))
    if options.json_file == STDOUT:
        stdout.write(render_json(outcome, compact=options.compact))
        if not options.quiet:  # the summary that would carry them is not printed
            for warning in outcome.warnings:
                stderr.write(f"timesys-ci: warning: {warning}\n")
    elif options.quiet:
        stdout.write(verdict_line(outcome) + "\n")
    else:
        stdout.write(render_summary(outcome, color=use_color(stdout)) + "\n")
    stdout.flush()
    github.publish(outcome, stdout=stdout, sarif_file=_absolute(options.sarif_file),
                   json_file=_absolute(options.json_file if options.json_file != STDOUT else None),
                   step_summary=options.step_summary, annotate=options.annotations)


def _absolute(path: Optional[str]) -> Optional[str]:
    return str(Path(path).resolve()) if path else None

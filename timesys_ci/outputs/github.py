"""GitHub Actions integration: step summary, step outputs, error annotations.

Formats follow GitHub's "Workflow commands for GitHub Actions" documentation:
* `$GITHUB_STEP_SUMMARY`: Markdown, appended.
* `$GITHUB_OUTPUT`: `name=value` lines; a value containing a newline uses
  `name<<DELIMITER` / value / `DELIMITER`, with a random delimiter that does
  not occur in the value.
* Annotations on stdout: `::error file=F,title=T::MESSAGE`; data escapes
  `%`, CR and LF; property values also escape `:` and `,`.
"""
from __future__ import annotations

import os
import secrets
import sys
from typing import Dict, Iterable, List, Mapping, Optional, TextIO

from timesys_ci.outputs.markdown import render_markdown
from timesys_ci.outputs.outcome import GateOutcome, fix_text, verdict_detail
from timesys_ci.outputs.sarif import manifest_uri

MAX_ANNOTATIONS = 10  # GitHub shows at most 10 error annotations per step


def running_on_github(env: Mapping[str, str] = os.environ) -> bool:
    return env.get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_output(name: str, value: str) -> str:
    """One `$GITHUB_OUTPUT` entry, newline-terminated."""
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    while delimiter in value:  # astronomically unlikely, but the format breaks if it happens
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def step_outputs(
    outcome: GateOutcome, *, sarif_file: Optional[str] = None, json_file: Optional[str] = None
) -> Dict[str, str]:
    """Step outputs: report-url, tokens, counts by category and severity, gate, kernel CVEs set aside by kernel
    triage (empty without it), files."""
    outputs: Dict[str, str] = {
        "report-url": outcome.summary.report_url or "",
        "manifest-token": outcome.summary.manifest_token or "",
        "report-token": outcome.summary.report_token or "",
        "gate": outcome.gate,
        "failing": str(len(outcome.result.failing)),
    }
    for name, count in list(outcome.result.counts_by_category.items()) + list(outcome.result.counts_by_severity.items()):
        outputs[name] = str(count)
    triage = outcome.kernel_triage
    outputs["kernel-set-aside"] = str(triage.counts.get("set_aside", 0)) if triage is not None else ""
    outputs["sarif-file"] = sarif_file or ""
    outputs["json-file"] = json_file or ""
    return outputs


def error_annotations(outcome: GateOutcome, *, limit: int = MAX_ANNOTATIONS) -> List[str]:
    """`::error` lines for the worst failing findings, at the manifest file."""
    file = manifest_uri(outcome.manifest_path) if outcome.manifest_path else None
    lines = []
    for verdict in outcome.result.failing[:limit]:
        f = verdict.finding
        title = f"{f.cve_id} in {f.package} {f.version}"
        message = f"{title}: {verdict.gate_severity}; {fix_text(f)}. Gate: {verdict_detail(verdict)}"
        props = ([f"file={escape_property(file)}"] if file and "://" not in file else []) + [
            f"title={escape_property(title)}"
        ]
        lines.append(f"::error {','.join(props)}::{escape_data(message)}")
    return lines


def publish(
    outcome: GateOutcome,
    *,
    env: Mapping[str, str] = os.environ,
    stdout: TextIO = sys.stdout,
    sarif_file: Optional[str] = None,
    json_file: Optional[str] = None,
    step_summary: bool = True,
    annotate: bool = True,
) -> bool:
    """Write summary, outputs and annotations when running under GitHub Actions.

    `step_summary` / `annotate` switch the step summary and the annotations off
    (the step outputs are always written). Returns False (and does nothing) elsewhere.
    """
    if not running_on_github(env):
        return False
    summary_path = env.get("GITHUB_STEP_SUMMARY")
    if summary_path and step_summary:
        _append(summary_path, render_markdown(outcome))
    output_path = env.get("GITHUB_OUTPUT")
    if output_path:
        _append(output_path, "".join(format_output(k, v) for k, v in
                                     step_outputs(outcome, sarif_file=sarif_file, json_file=json_file).items()))
    if annotate:
        _print_lines(error_annotations(outcome), stdout)
    return True


def _append(path: str, text: str) -> None:
    # These files belong to the runner and are appended to by every step:
    # append (one write) rather than replace.
    with open(path, "a", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def _print_lines(lines: Iterable[str], stdout: TextIO) -> None:
    for line in lines:
        stdout.write(line + "\n")
    stdout.flush()

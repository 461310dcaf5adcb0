"""Markdown summary (also the GitHub step summary)."""
from __future__ import annotations

from typing import List, Mapping

from timesys_ci.outputs.outcome import GateOutcome, KernelTriage, fix_text, nvd_url, score_text, verdict_detail

# GitHub caps a step summary at 1 MiB: a kernel can have thousands of set-aside CVEs.
MAX_SET_ASIDE_ROWS = 500


def render_markdown(outcome: GateOutcome) -> str:
    result = outcome.result
    verdict_line = "PASSED" if outcome.passed else f"FAILED ({len(result.failing)} finding(s))"
    lines: List[str] = [f"## Vigiles gate: {_cell(outcome.title)}: {verdict_line}", ""]
    if outcome.summary.report_url:
        lines += [f"Report: {outcome.summary.report_url}", ""]
    lines += [f"Packages scanned: {_cell(outcome.scanned.describe())}", ""]
    if outcome.baseline is not None:
        lines += [f"Baseline: {_cell(outcome.baseline.describe())}; {len(outcome.set_aside)} finding(s) set aside as "
                  f"not new", ""]
    if outcome.warnings:
        lines += [f"> **Warning:** {_cell(warning)}" for warning in outcome.warnings] + [""]
    if outcome.notes:
        lines += [f"- {_cell(note)}" for note in outcome.notes] + [""]
    if outcome.kernel_triage is not None:
        lines += _kernel_triage(outcome.kernel_triage)
    lines += _counts_table("Category", result.counts_by_category)
    lines += _counts_table("Severity (affected)", result.counts_by_severity)
    if result.failing:
        lines += [
            "### Failing findings",
            "",
            "| CVE | Package | Version | Severity | Score | Category | Fix | Why |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for verdict in result.failing:
            f = verdict.finding
            lines.append(
                f"| [{f.cve_id}]({nvd_url(f.cve_id)}) | {_cell(f.package)} | {_cell(f.version)} | "
                f"{verdict.gate_severity} | {score_text(verdict)} | {f.category} | {_cell(fix_text(f))} | "
                f"{_cell(verdict_detail(verdict))} |"
            )
        lines.append("")
    if result.waived:
        lines += ["### Waived", ""]
        lines += [f"- {v.finding.cve_id} ({_cell(v.finding.package)}): {_cell(verdict_detail(v))}" for v in result.waived]
        lines.append("")
    if result.expired_waivers:
        lines += ["### Expired waivers (no longer applied)", ""]
        lines += [f"- {_cell(waiver.describe())}" for waiver in result.expired_waivers]
        lines.append("")
    lines.append(f"Policy: fail-on `{outcome.policy.fail_on}`, categories `{', '.join(outcome.policy.categories)}`, "
                 f"scope `{', '.join(outcome.policy.scope)}`" + (", new only" if outcome.policy.new_only else ""))
    return "\n".join(lines) + "\n"


def _kernel_triage(triage: KernelTriage) -> List[str]:
    """The triage's facts, then every set-aside CVE in a collapsed table (they are many)."""
    facts = triage.lines()
    lines = [f"**Kernel triage:** {_cell(facts[0])}", ""] + [f"- {_cell(line)}" for line in facts[1:]]
    lines += [f"- {_cell(triage.written())}", ""]
    if triage.set_aside:
        lines += [f"<details><summary>{len(triage.set_aside)} kernel CVE(s) set aside as not_affected "
                  f"(code_not_present)</summary>", "", "| CVE | Package | Version | Why |", "|---|---|---|---|"]
        lines += [f"| [{cve.cve_id}]({nvd_url(cve.cve_id)}) | {_cell(cve.package)} | {_cell(cve.version)} | "
                  f"{_cell(cve.reason)} |" for cve in triage.set_aside[:MAX_SET_ASIDE_ROWS]]
        if len(triage.set_aside) > MAX_SET_ASIDE_ROWS:
            lines.append(f"| ... | {len(triage.set_aside) - MAX_SET_ASIDE_ROWS} more | | the JSON result lists "
                         f"every one |")
        lines += ["", "</details>", ""]
    return lines


def _counts_table(title: str, counts: Mapping[str, int]) -> List[str]:
    return [
        "| " + " | ".join([title] + list(counts)) + " |",
        "|" + "---|" * (len(counts) + 1),
        "| Count | " + " | ".join(str(value) for value in counts.values()) + " |",
        "",
    ]


def _cell(text: str) -> str:
    """Keep text inside one table cell / line: escape pipes, flatten newlines."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")

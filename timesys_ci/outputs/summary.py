"""Human text summary for the terminal / CI log."""
from __future__ import annotations

from typing import Callable, List, Mapping

from timesys_ci.outputs.outcome import GateOutcome, KernelTriage, fix_text, score_text, verdict_detail

_RED, _GREEN, _YELLOW, _BOLD, _RESET = "\033[31m", "\033[32m", "\033[33m", "\033[1m", "\033[0m"


def render_summary(outcome: GateOutcome, *, color: bool = False) -> str:
    """Counts, failing CVEs first with reasons, waivers, the report URL and a PASS/FAIL line.

    `color` adds ANSI colours; the caller decides (NO_COLOR, is a tty).
    """

    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    result = outcome.result
    lines: List[str] = [paint(f"Vigiles report: {outcome.title}", _BOLD)]
    if outcome.summary.date:
        lines.append(f"  date: {outcome.summary.date}")
    lines.append(f"  packages scanned: {outcome.scanned.describe()}")
    if outcome.baseline is not None:
        lines.append(f"  baseline: {outcome.baseline.describe()}; {len(outcome.set_aside)} finding(s) set aside "
                     f"as not new")
    if outcome.kernel_triage is not None:
        triage = outcome.kernel_triage
        lines.append(f"  kernel triage: {triage.headline()}")
        lines += [f"    {line}" for line in kernel_triage_lines(triage, written=True)[1:]]
    lines.append("  by category: " + _pairs(result.counts_by_category))
    lines.append("  by severity (affected): " + _pairs(result.counts_by_severity))
    if result.failing:
        lines.append(paint(f"Failing ({len(result.failing)}):", _RED))
        for verdict in result.failing:
            f = verdict.finding
            lines.append(
                f"  {f.cve_id}  {f.package} {f.version}  {verdict.gate_severity} {score_text(verdict)}"
                f"  [{f.category}, {f.scope}]  {fix_text(f)}"
            )
            lines.append(f"      because: {verdict_detail(verdict)}")
    if result.waived:
        lines.append(paint(f"Waived ({len(result.waived)}):", _YELLOW))
        for verdict in result.waived:
            lines.append(f"  {verdict.finding.cve_id}  {verdict.finding.package}: {verdict_detail(verdict)}")
    if result.expired_waivers:
        lines.append(paint(f"Expired waivers ({len(result.expired_waivers)}), no longer applied:", _YELLOW))
        lines.extend(f"  {waiver.describe()}" for waiver in result.expired_waivers)
    if result.unused_waivers:
        lines.append(f"Unused waivers ({len(result.unused_waivers)}):")
        lines.extend(f"  {waiver.describe()}" for waiver in result.unused_waivers)
    if outcome.summary.report_url:
        lines.append(f"Report: {outcome.summary.report_url}")
    lines.extend(f"note: {note}" for note in outcome.notes)
    lines.extend(paint(f"warning: {warning}", _YELLOW) for warning in outcome.warnings)
    lines.append(verdict_line(outcome, paint))
    return "\n".join(lines) + "\n"


def verdict_line(outcome: GateOutcome, paint: Callable[[str, str], str] = lambda text, code: text) -> str:
    """`Gate: PASS (fail-on high)` / `Gate: FAIL, 2 finding(s) (fail-on high)`: all that -q/--quiet prints."""
    result = outcome.result
    if outcome.passed:
        return paint(f"Gate: PASS (fail-on {outcome.policy.fail_on})", _GREEN)
    return paint(f"Gate: FAIL, {len(result.failing)} finding(s) (fail-on {outcome.policy.fail_on})", _RED)


def kernel_triage_lines(triage: KernelTriage, listed: int = 10, *, written: bool = False) -> List[str]:
    """The triage's facts (`written`: and whether the statuses went to the service) and the first `listed`
    set-aside CVEs with their reason (kernel-triage and upload)."""
    lines = triage.lines() + ([triage.written()] if written else [])
    if triage.set_aside:
        lines.append("set aside:")
        lines += [f"  {cve.cve_id} {cve.package} {cve.version}: {cve.reason}" for cve in triage.set_aside[:listed]]
        if len(triage.set_aside) > listed:
            lines.append(f"  ... and {len(triage.set_aside) - listed} more (--json lists every one)")
    return lines


def _pairs(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in counts.items())

from __future__ import annotations

from .gate_helpers import contract_outcome
from timesys_ci.gate.policy import GatePolicy
from timesys_ci.outputs.markdown import render_markdown
from timesys_ci.outputs.summary import render_summary


def test_summary_lists_failing_first_and_ends_with_verdict() -> None:
    text = render_summary(contract_outcome())
    lines = text.splitlines()
    assert "\033[" not in text
    assert lines[0] == "Vigiles report: core-image-minimal"
    assert "  by category: unfixed 6, unapplied 1, upgradable 1, fixed 1, whitelisted 1" in lines
    failing_at = lines.index("Failing (4):")
    assert lines[failing_at + 1].startswith("  CVE-2022-37434  zlib 1.2.11  critical 9.8")
    assert lines[failing_at + 2] == "      because: severity critical >= high; waiver expired 2026-06-30"
    assert "  CVE-2023-29491  ncurses: waived until 2027-01-31: tic is not shipped" in lines
    assert "  CVE-2022-37434 (expires 2026-06-30): inflateGetHeader unused" in lines
    assert "Report: https://vigiles.example.test/cves/reports/RPT-2026-11-27-0002" in lines
    assert lines[-1] == "Gate: FAIL, 4 finding(s) (fail-on high)"


def test_colour_only_when_asked() -> None:
    coloured = render_summary(contract_outcome(), color=True)
    assert "\033[31mGate: FAIL" in coloured
    passing = render_summary(contract_outcome(GatePolicy(fail_on="none")))
    assert passing.splitlines()[-1] == "Gate: PASS (fail-on none)" and "Failing" not in passing


def test_markdown_table_of_failing_findings() -> None:
    text = render_markdown(contract_outcome())
    assert text.startswith("## Vigiles gate: core-image-minimal: FAILED (4 finding(s))\n")
    assert "| Category | unfixed | unapplied | upgradable | fixed | whitelisted |" in text
    rows = [line for line in text.splitlines() if line.startswith("| [CVE-")]
    assert len(rows) == 4
    assert rows[0].startswith("| [CVE-2022-37434](https://nvd.nist.gov/vuln/detail/CVE-2022-37434) | zlib | 1.2.11 |")
    assert "### Expired waivers (no longer applied)" in text

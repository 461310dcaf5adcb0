from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Dict

from .gate_helpers import contract_outcome
from .support.github_files import parse_github_output as read_github_output
from timesys_ci.outputs.github import (
    MAX_ANNOTATIONS,
    error_annotations,
    escape_data,
    escape_property,
    format_output,
    publish,
    step_outputs,
)
from timesys_ci.outputs.markdown import render_markdown


def parse_github_output(text: str) -> Dict[str, str]:
    assert text.endswith("\n")  # every entry ends with a newline
    return read_github_output(text)


def test_single_and_multi_line_outputs_round_trip() -> None:
    assert format_output("gate", "fail") == "gate=fail\n"
    block = format_output("notes", "line one\nline two\n")
    name_line, *_ = block.split("\n")
    delimiter = name_line.split("<<", 1)[1]
    assert re.fullmatch(r"ghadelimiter_[0-9a-f]{32}", delimiter)
    assert block == f"notes<<{delimiter}\nline one\nline two\n\n{delimiter}\n"
    assert parse_github_output(block + format_output("gate", "pass")) == {
        "notes": "line one\nline two\n", "gate": "pass"}


def test_delimiter_never_occurs_in_value(monkeypatch) -> None:
    tokens = iter(["a" * 32, "b" * 32])
    monkeypatch.setattr("timesys_ci.outputs.github.secrets.token_hex", lambda n: next(tokens))
    value = f"x\nghadelimiter_{'a' * 32}\ny"
    block = format_output("v", value)
    assert block.startswith(f"v<<ghadelimiter_{'b' * 32}\n")
    assert parse_github_output(block) == {"v": value}


def test_escaping() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_publish_writes_exactly_what_github_reads(tmp_path: Path) -> None:
    outcome = contract_outcome()
    summary = tmp_path / "summary.md"
    output = tmp_path / "output.txt"
    summary.write_text("earlier step\n", encoding="utf-8")
    output.write_text("earlier=1\n", encoding="utf-8")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_OUTPUT": str(output)}
    stdout = io.StringIO()
    assert publish(outcome, env=env, stdout=stdout, sarif_file="out/v.sarif", json_file="out/v.json")
    assert summary.read_text(encoding="utf-8") == "earlier step\n" + render_markdown(outcome)
    values = parse_github_output(output.read_text(encoding="utf-8"))
    assert values == {"earlier": "1", **step_outputs(outcome, sarif_file="out/v.sarif", json_file="out/v.json")}
    assert values["gate"] == "fail" and values["report-token"] == "RPT-2026-11-27-0002"
    assert values["report-url"] == "https://vigiles.example.test/cves/reports/RPT-2026-11-27-0002"
    assert values["manifest-token"] == "MNF-core-image-minimal-0001"
    assert (values["unfixed"], values["critical"], values["high"]) == ("6", "2", "3")
    assert values["sarif-file"] == "out/v.sarif" and values["json-file"] == "out/v.json"
    lines = stdout.getvalue().splitlines()
    assert len(lines) == 4 and all(line.startswith("::error ") for line in lines)
    assert lines[0].startswith("::error file=images/core-image-minimal.vigiles.json,title=CVE-2022-37434 in zlib 1.2.11::")


def test_not_on_github_does_nothing(tmp_path: Path) -> None:
    stdout = io.StringIO()
    assert not publish(contract_outcome(), env={"GITHUB_OUTPUT": str(tmp_path / "o")}, stdout=stdout)
    assert stdout.getvalue() == "" and not (tmp_path / "o").exists()


def test_at_most_ten_annotations_with_escaped_properties() -> None:
    from datetime import date

    from .gate_helpers import finding
    from timesys_ci.gate.evaluate import evaluate
    from timesys_ci.gate.policy import GatePolicy
    from timesys_ci.outputs import GateOutcome
    from timesys_ci.report import ReportSummary

    findings = [finding(f"CVE-2024-{n:04d}", package="pkg,with:odd", cvss=9.0 + n / 100) for n in range(15)]
    result = evaluate(findings, GatePolicy(), today=date(2026, 1, 1))
    outcome = GateOutcome(ReportSummary(manifest_name="m"), result, GatePolicy(), "sbom,1:a.json")
    lines = error_annotations(outcome)
    assert len(lines) == MAX_ANNOTATIONS
    assert lines[0].startswith("::error file=sbom%2C1%3Aa.json,title=CVE-2024-0014 in pkg%2Cwith%3Aodd 3.2.3::")
    assert "::CVE-2024-0014 in pkg,with:odd 3.2.3: critical" in lines[0]  # message part: only %, CR, LF escaped


from hypothesis import given, strategies as st  # noqa: E402


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_any_value_round_trips_through_github_output(value: str) -> None:
    block = format_output("v", value)
    if "\n" not in value and "\r" not in value:
        assert block == f"v={value}\n"
    else:
        assert parse_github_output(block) == {"v": value}

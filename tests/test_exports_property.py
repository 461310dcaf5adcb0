from __future__ import annotations

import csv
import io
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.exports_support import spdx_expression_errors
from tests.test_exports_pdf import _check_structure
from timesys_ci.service.exports.csv_report import FORMULA_TRIGGERS
from timesys_ci.service.exports import render_report
from timesys_ci.sbom.licenses import declared_license
from timesys_ci.service.exports.pdf_writer import Line, render_pdf

# Words and operators that build-system licence strings are made of, so the examples look like real ones.
_LICENCE_TOKENS = st.sampled_from(["GPLv2", "GPLv2+", "LGPLv2.1", "MIT", "BSD", "PD", "Apache-2.0", "LicenseRef-x",
                                   "GPL-3.0-with-autoconf-exception", "Linux-syscall-note", "&", "|", ",", "(", ")",
                                   "AND", "OR", "WITH", "or", "with", "later", "(programs)"])


@given(st.text(max_size=60) | st.lists(_LICENCE_TOKENS, max_size=12).map(" ".join))
def test_licence_expressions_are_always_valid_spdx(text: str) -> None:
    declared = declared_license(text)
    if declared is None:
        return
    # license-expression parses it strictly, every id is on the SPDX list or a LicenseRef- the result explains.
    assert spdx_expression_errors(declared.expression) == [], (text, declared.expression)
    for ref in re.findall(r"LicenseRef-[A-Za-z0-9.\-]+", declared.expression):
        assert ref in declared.references, (text, declared.expression)


_names = st.text(min_size=1, max_size=30)


@settings(max_examples=40)
@given(st.dictionaries(_names, st.lists(st.fixed_dictionaries({"cve_id": _names.filter(str.strip), "status": st.sampled_from(["Unfixed", "Fixed", "Whitelisted", "Unfixed, Patch Available"]), "version": st.text(max_size=10)}), max_size=3), max_size=4))
def test_csv_round_trips_any_text(cves: dict) -> None:
    report = {"report_token": "RPT1", "cves": cves}
    records = list(csv.DictReader(io.StringIO(render_report(report, None, "csv")[0].decode("utf-8"), newline="")))
    # timesys_ci.report trims surrounding whitespace and upper-cases the id; the CSV drops NUL characters
    # and keeps a cell that would start a formula text with a leading "'".
    def as_cell(text: str) -> str:
        text = text.replace("\x00", "")
        return f"'{text}" if text.startswith(FORMULA_TRIGGERS) else text

    expected = sorted((as_cell(package), as_cell(entry["cve_id"].strip().upper()))
                      for package, entries in cves.items() for entry in entries)
    assert sorted((record["package"], record["cve_id"]) for record in records) == expected


@settings(max_examples=30)
@given(st.lists(st.text(max_size=200), max_size=120))
def test_pdf_is_well_formed_for_any_text(lines: list) -> None:
    _check_structure(render_pdf([Line(text) for text in lines], title="any"))

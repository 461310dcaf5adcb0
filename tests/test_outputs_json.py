from __future__ import annotations

import json

import jsonschema
import pytest

from .gate_helpers import contract_outcome
from timesys_ci.gate.policy import GatePolicy
from timesys_ci.outputs.json_report import load_schema, render_json


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = load_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_document_validates_and_says_what_happened(validator) -> None:
    document = json.loads(render_json(contract_outcome()))
    validator.validate(document)
    assert (document["schema"], document["version"]) == ("timesys-ci/gate-result", 1)
    assert document["gate"]["result"] == "fail" and document["gate"]["passed"] is False
    assert document["gate"]["failing"] == 4 and document["gate"]["waived"] == 1
    assert document["gate"]["policy"]["categories"] == ["unfixed", "upgradable"]
    assert document["report"]["report_url"] == "https://vigiles.example.test/cves/reports/RPT-2026-11-27-0002"
    assert document["counts"]["by_category"]["unfixed"] == 6
    first = document["findings"][0]
    assert (first["cve_id"], first["outcome"], first["reasons"]) == (
        "CVE-2022-37434", "fail", ["severity critical >= high"])
    assert first["note"] == "waiver expired 2026-06-30"
    waived = next(f for f in document["findings"] if f["outcome"] == "waived")
    assert waived["waiver"] == {"id": "CVE-2023-29491", "package": "ncurses", "version": None,
                                "reason": "tic is not shipped", "expires": "2027-01-31"}
    assert [w["id"] for w in document["expired_waivers"]] == ["CVE-2022-37434"]
    assert [w["id"] for w in document["unused_waivers"]] == ["CVE-2099-0001"]
    assert len(document["findings"]) == 10


def test_passing_document_validates(validator) -> None:
    document = json.loads(render_json(contract_outcome(GatePolicy(fail_on="none"))))
    validator.validate(document)
    assert document["gate"]["result"] == "pass" and document["gate"]["failing"] == 0


def test_schema_rejects_a_broken_document(validator) -> None:
    document = json.loads(render_json(contract_outcome()))
    document["findings"][0]["outcome"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(document)
    del document["gate"]
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(document)

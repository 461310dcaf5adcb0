from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from .gate_helpers import FIXTURES, contract_outcome
from timesys_ci.outputs.sarif import FINGERPRINT_KEY, finding_fingerprint, manifest_uri, render_sarif


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def sarif(tmp_path: Path, **kwargs) -> dict:
    outcome = contract_outcome(manifest_path=str(tmp_path / "images" / "core.vigiles.json"), **kwargs)
    return json.loads(render_sarif(outcome, repo_root=tmp_path))


def test_valid_against_the_official_schema(sarif_validator, tmp_path: Path) -> None:
    document = sarif(tmp_path)
    sarif_validator.validate(document)
    assert document["version"] == "2.1.0"


def test_schema_copy_really_checks(sarif_validator, tmp_path: Path) -> None:
    document = sarif(tmp_path)
    document["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        sarif_validator.validate(document)


def test_rules_results_levels(tmp_path: Path) -> None:
    run = sarif(tmp_path)["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "timesys-ci" and driver["informationUri"].startswith("https://") and driver["version"]
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert len(rules) == len(driver["rules"])  # one rule per CVE
    busybox = rules["CVE-2022-48174"]
    assert busybox["helpUri"] == "https://nvd.nist.gov/vuln/detail/CVE-2022-48174"
    assert busybox["properties"]["security-severity"] == "9.8"
    assert busybox["properties"]["tags"][0] == "security"
    assert busybox["shortDescription"]["text"].startswith("CVE-2022-48174")
    assert "security-severity" not in rules["CVE-2024-28085"]["properties"]  # unscored: GitHub uses level
    results = {r["ruleId"]: r for r in run["results"]}
    # Ignored by status / fixed are not shown.
    assert "CVE-2024-36971" not in results and "CVE-2023-42363" not in results
    assert results["CVE-2022-48174"]["level"] == "error"
    assert results["CVE-2024-9143"]["level"] == "note"  # medium, passes the gate
    assert results["CVE-2023-29491"]["level"] == "warning"  # high but waived
    assert results["CVE-2023-29491"]["suppressions"][0]["kind"] == "external"
    assert results["CVE-2023-29491"]["suppressions"][0]["justification"].endswith("tic is not shipped")
    message = results["CVE-2024-1086"]["message"]["text"]
    assert "linux-yocto 6.6.21" in message and "fixed in 6.6.15" in message
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "images/core.vigiles.json"
        assert location["region"]["startLine"] == 1
    assert run["automationDetails"]["id"] == "timesys-ci/core-image-minimal/"


def test_fingerprint_ignores_version(tmp_path: Path) -> None:
    run = sarif(tmp_path)["runs"][0]
    result = next(r for r in run["results"] if r["ruleId"] == "CVE-2024-1086")
    assert result["partialFingerprints"][FINGERPRINT_KEY] == finding_fingerprint("linux-yocto", "CVE-2024-1086")
    assert finding_fingerprint("linux-yocto", "CVE-2024-1086") != finding_fingerprint("linux", "CVE-2024-1086")
    assert len({r["partialFingerprints"][FINGERPRINT_KEY] for r in run["results"]}) == len(run["results"])


def test_manifest_uri(tmp_path: Path) -> None:
    assert manifest_uri(tmp_path / "a" / "b.json", tmp_path) == "a/b.json"
    outside = tmp_path.parent / "elsewhere.json"
    assert manifest_uri(outside, tmp_path) == outside.resolve().as_uri()
    assert manifest_uri(None, tmp_path) == "manifest"

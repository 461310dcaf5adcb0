"""`actions/action.yml` and the workflow examples in the READMEs, checked by the tools GitHub users run on theirs.

check-jsonschema validates them against the schemas it vendors from SchemaStore (`vendor.github-actions`,
`vendor.github-workflows`, `vendor.gitlab-ci`); zizmor audits the action and the GitHub workflows for security
problems (template injection, credential persistence, unpinned actions, ...). Both run offline.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import check_jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "actions" / "action.yml"
DOCUMENTS = (ROOT / "README.md", ROOT / "actions" / "README.md")
# The examples say `OWNER/timesys-ci/actions@FULL_COMMIT_SHA`: a placeholder for the full commit SHA the reader pins.
# zizmor cannot know that, so the audited copy carries a (made-up) full SHA in its place, which is what the
# placeholder stands for; everything else is audited as written.
PLACEHOLDER_SHA = "0123456789abcdef0123456789abcdef01234567"


def _examples() -> dict[str, list[str]]:
    """The READMEs' YAML blocks: GitHub workflows (they have `runs-on:`) and GitLab CI jobs (`script:`)."""
    found: dict[str, list[str]] = {"github": [], "gitlab": []}
    for document in DOCUMENTS:
        for block in re.findall(r"```yaml\n(.*?)```", document.read_text(encoding="utf-8"), re.S):
            found["github" if "runs-on:" in block else "gitlab" if "script:" in block else "other"].append(block)
    return found


def _check_jsonschema(capsys: pytest.CaptureFixture[str], schema: str, *paths: Path) -> tuple[int, str]:
    """(exit status, output) of `check-jsonschema --builtin-schema SCHEMA PATHS...`, run in-process."""
    capsys.readouterr()
    try:
        check_jsonschema.main(["--builtin-schema", schema, *map(str, paths)])
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    else:
        code = 0
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _zizmor() -> Optional[str]:
    """The zizmor binary of this environment (a test dependency; a wheel exists for the common platforms)."""
    beside = Path(sys.executable).with_name("zizmor")
    return str(beside) if beside.exists() else shutil.which("zizmor")


def _audit(home: Path, *paths: Path) -> list[dict]:
    zizmor = _zizmor()
    if zizmor is None:
        pytest.skip("zizmor has no build for this platform")
    run = subprocess.run([zizmor, "--offline", "--no-config", "--no-progress", "--strict-collection", "--format", "json",
                          *map(str, paths)], capture_output=True, text=True, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(home)})  # no token, no user config, nothing online
    assert run.returncode in (0, 10, 11, 12, 13, 14), run.stderr  # 10-14: findings (by severity); others: failures
    return json.loads(run.stdout or "[]")


def _write_workflows(tmp_path: Path, blocks: list[str]) -> list[Path]:
    directory = tmp_path / ".github" / "workflows"
    directory.mkdir(parents=True)
    paths = []
    for number, block in enumerate(blocks):
        path = directory / f"example-{number}.yml"
        path.write_text(block.replace("FULL_COMMIT_SHA", PLACEHOLDER_SHA), encoding="utf-8")
        paths.append(path)
    return paths


def _summary(findings: list[dict]) -> list[str]:
    """Findings not suppressed by a `# zizmor: ignore[...]` comment (each such comment must say why)."""
    return [f"{finding['ident']}: {finding['desc']}" for finding in findings if not finding.get("ignored")]


def test_action_matches_the_github_actions_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _check_jsonschema(capsys, "vendor.github-actions", ACTION)
    assert code == 0, output


def test_readme_examples_match_the_workflow_schemas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    examples = _examples()
    assert len(examples["github"]) == 2 and len(examples["gitlab"]) == 1, {key: len(value) for key, value in examples.items()}
    code, output = _check_jsonschema(capsys, "vendor.github-workflows", *_write_workflows(tmp_path, examples["github"]))
    assert code == 0, output
    gitlab = tmp_path / ".gitlab-ci.yml"
    gitlab.write_text(examples["gitlab"][0], encoding="utf-8")
    code, output = _check_jsonschema(capsys, "vendor.gitlab-ci", gitlab)
    assert code == 0, output


def test_schema_check_catches_a_broken_workflow(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [path] = _write_workflows(tmp_path, [_examples()["github"][0].replace("on: [push, pull_request]\n", "")])
    code, output = _check_jsonschema(capsys, "vendor.github-workflows", path)
    assert code != 0 and "'on' is a required property" in output


def test_zizmor_finds_nothing_in_the_action(tmp_path: Path) -> None:
    assert _summary(_audit(tmp_path, ACTION)) == []


def test_zizmor_finds_nothing_in_the_readme_workflows(tmp_path: Path) -> None:
    assert _summary(_audit(tmp_path, *_write_workflows(tmp_path, _examples()["github"]))) == []


def test_zizmor_catches_template_injection_and_persisted_credentials(tmp_path: Path) -> None:
    example = _examples()["github"][0].replace("        with: { persist-credentials: false }", "        with: {}")
    example += "      - run: echo ${{ github.event.pull_request.title }}\n"
    identities = {finding["ident"] for finding in _audit(tmp_path, *_write_workflows(tmp_path, [example]))}
    assert {"template-injection", "artipacked"} <= identities

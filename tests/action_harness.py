"""Run `actions/action.yml` the way the GitHub runner runs a composite action.

Supported, as GitHub does it:
- `${{ inputs.x }}` (with defaults), `${{ steps.<id>.outputs.<name> }}` and
  `${{ github.action_path }}` in `env:` values and in `outputs.*.value`;
- `shell: bash` as `bash --noprofile --norc -eo pipefail <script file>`;
- a fresh GITHUB_OUTPUT / GITHUB_STEP_SUMMARY file per step (`name=value` and
  `name<<DELIM` forms), GITHUB_ENV and GITHUB_PATH carried to later steps,
  RUNNER_TEMP, GITHUB_ACTION_PATH, GITHUB_ACTIONS=true;
- `if:` of `always()` or the default `success()`: after a failed step only
  always() steps run, and the action fails;
- `::add-mask::` lines collected from step output;
- after each step, the modes of everything under RUNNER_TEMP (`StepRun.temp_modes`),
  so tests can see secret files as the next step finds them.
Any other expression raises, so the action cannot quietly use something the
harness does not model. Composite steps get no INPUT_* variables from the
runner; the harness gives none either.
"""
from __future__ import annotations

import os
import re
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

import yaml

from .support.github_files import parse_github_output

REPO = Path(__file__).resolve().parent.parent
ACTION_DIR = REPO / "actions"
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


class UnsupportedExpression(AssertionError):
    pass


@dataclass
class StepRun:
    id: str
    ran: bool
    returncode: Optional[int] = None
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    temp_modes: dict[str, int] = field(default_factory=dict)  # path relative to RUNNER_TEMP -> permission bits


@dataclass
class ActionRun:
    steps: dict[str, StepRun]
    outputs: dict[str, str]
    masks: list[str]
    failed: bool

    @property
    def stdout(self) -> str:
        return "".join(s.stdout for s in self.steps.values())

    @property
    def summary(self) -> str:
        return "".join(s.summary for s in self.steps.values())


def tree_modes(root: Path) -> dict[str, int]:
    """Permission bits of every file and directory below `root` (symlinks not followed)."""
    return {path.relative_to(root).as_posix(): stat.S_IMODE(path.lstat().st_mode) for path in sorted(root.rglob("*"))}


def load_action(path: Path = ACTION_DIR / "action.yml") -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


class Harness:
    def __init__(self, workdir: Path, base_env: Mapping[str, str], action: Optional[dict] = None) -> None:
        self.workdir = workdir
        self.base_env = dict(base_env)
        self.action = action or load_action()
        self.runner_temp = workdir / "runner-temp"
        self.runner_temp.mkdir(parents=True, exist_ok=True)

    def _evaluate(self, template: str, inputs: Mapping[str, str], steps: Mapping[str, StepRun]) -> str:
        def value(match: re.Match) -> str:
            expr = match.group(1)
            if expr == "github.action_path":
                return str(ACTION_DIR)
            found = re.fullmatch(r"inputs\.([\w-]+)", expr)
            if found:
                name = found.group(1)
                spec = self.action.get("inputs", {}).get(name)
                if spec is None:
                    raise UnsupportedExpression(f"undeclared input {name}")
                return str(inputs.get(name, spec.get("default", "")))
            found = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
            if found:
                step = steps.get(found.group(1))
                return step.outputs.get(found.group(2), "") if step else ""
            raise UnsupportedExpression(expr)

        return _EXPR.sub(value, str(template))

    def run(self, inputs: Mapping[str, str]) -> ActionRun:
        unknown = set(inputs) - set(self.action.get("inputs", {}))
        assert not unknown, f"unknown inputs {unknown}"
        steps: dict[str, StepRun] = {}
        masks: list[str] = []
        carried_env: dict[str, str] = {}
        extra_path: list[str] = []
        failed = False
        for index, step in enumerate(self.action["runs"]["steps"]):
            step_id = step.get("id", f"step{index}")
            condition = str(step.get("if", "success()")).strip()
            if condition not in ("always()", "success()"):
                raise UnsupportedExpression(f"if: {condition}")
            if failed and condition != "always()":
                steps[step_id] = StepRun(step_id, ran=False)
                continue
            assert step.get("shell") == "bash", f"step {step_id}: only shell: bash is modelled"
            files = {name: self.workdir / f"{step_id}.{name.lower()}" for name in
                     ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH")}
            for path in files.values():
                path.write_text("")
            env = {**self.base_env, **carried_env, **{k: str(v) for k, v in files.items()},
                   "RUNNER_TEMP": str(self.runner_temp), "GITHUB_ACTIONS": "true",
                   "GITHUB_ACTION_PATH": str(ACTION_DIR), "GITHUB_WORKSPACE": str(self.workdir)}
            if extra_path:
                env["PATH"] = os.pathsep.join(extra_path + [env.get("PATH", "")])
            for name, template in (step.get("env") or {}).items():
                env[name] = self._evaluate(template, inputs, steps)
            script = self.workdir / f"{step_id}.sh"
            script.write_text(step["run"])
            proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                                  env=env, cwd=self.workdir, capture_output=True, text=True)
            masks += [line[len("::add-mask::"):] for line in proc.stdout.splitlines() if line.startswith("::add-mask::")]
            steps[step_id] = StepRun(step_id, True, proc.returncode, proc.stdout, proc.stderr,
                                     parse_github_output(files["GITHUB_OUTPUT"].read_text()),
                                     files["GITHUB_STEP_SUMMARY"].read_text(), tree_modes(self.runner_temp))
            carried_env.update(parse_github_output(files["GITHUB_ENV"].read_text()))
            extra_path = [p for p in files["GITHUB_PATH"].read_text().splitlines() if p] + extra_path
            failed = failed or proc.returncode != 0
        outputs = {name: self._evaluate(spec["value"], inputs, steps)
                   for name, spec in (self.action.get("outputs") or {}).items()}
        return ActionRun(steps, outputs, masks, failed)

"""Gate policy: the model, its defaults, and loading from TOML and flags.

Precedence, highest first: flags (`overrides`) > `--policy FILE` (top-level
keys) > `[tool.timesys-ci]` in pyproject.toml > defaults. A key given at a
higher level replaces the lower one whole (a policy file's `[[waivers]]`
replace pyproject's). Keys are kebab-case in TOML (`fail-on-cvss`); flags
may use either spelling. Unknown keys are errors: a typo such as
`fail_on_kve = true` must not silently weaken a gate.
"""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any, Dict, Iterable, List, Literal, Mapping, Optional, Tuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from timesys import ConfigurationError
from timesys_ci.report import AFFECTED_CATEGORIES, AffectedCategory, Severity
from timesys_ci.scope import SCOPES, Scope

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib


# Every affected category is gated by default. A CVE with a known fix is still in the
# build: the local service calls it upgradable/unapplied as soon as a source names the fix,
# the real service says "Unfixed, Patch Available"; gating only "unfixed" would pass
# the same build locally and fail it (or the reverse) depending on what the data knows.
DEFAULT_CATEGORIES: Tuple[AffectedCategory, ...] = AFFECTED_CATEGORIES

# The one default for `fail-on`. grype and trivy fail nothing unless asked;
# the recipe their users paste into CI is `grype --fail-on high` /
# `trivy --severity HIGH,CRITICAL --exit-code 1`, so "high" is what people
# expect from a gate. Embedded images usually carry a tail of medium CVEs in
# base packages; failing on them by default would make the first run red for
# reasons nobody will act on. Tighten with `fail-on = "medium"`.
DEFAULT_FAIL_ON: Severity = "high"

PYPROJECT_TABLE = ("tool", "timesys-ci")


class PolicyError(ConfigurationError, ValueError):
    """Bad policy input; the message is one line naming the file and key."""


class Waiver(BaseModel):
    """Accept one CVE (optionally only for a package/version) until `expires` (inclusive)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    package: Optional[str] = None
    version: Optional[str] = None
    reason: str = Field(min_length=1)
    expires: date

    @field_validator("id")
    @classmethod
    def _normalise_id(cls, value: str) -> str:
        return value.strip().upper()

    def matches(self, package: str, version: str, cve_id: str) -> bool:
        return (
            self.id == cve_id.upper()
            and (self.package is None or self.package == package)
            and (self.version is None or self.version == version)
        )

    def expired(self, today: date) -> bool:
        """A waiver is valid through its `expires` day and stops applying the day after."""
        return today > self.expires

    def describe(self) -> str:
        target = self.id
        if self.package:
            target += f" in {self.package}" + (f" {self.version}" if self.version else "")
        return f"{target} (expires {self.expires.isoformat()}): {self.reason}"


class GatePolicy(BaseModel):
    """What fails the build.

    * `fail_on`: severity band at or above which an affected finding fails;
      "none" turns the severity rule off (the CVSS/KEV/EPSS rules still apply).
      Default `DEFAULT_FAIL_ON` ("high"), see there for why. Findings with no
      score at all ("unknown") never meet a severity band, as in grype.
    * `cvss_version`: which score sets the band. "3" (default) uses the v3
      score, falling back to v4 when there is none, which matches the
      report's own `severity`; "4" prefers v4, falling back to v3; "any" takes
      the higher of the two.
    * `fail_on_cvss`: fail when that score is >= this value.
    * `fail_on_kev`: fail when the CVE is in CISA's KEV catalog.
    * `fail_on_epss`: fail when the EPSS probability is >= this value.
    * `categories`: which affected categories are gated (default all three:
      unfixed, unapplied, upgradable; see `DEFAULT_CATEGORIES`).
    * `scope`: which package scopes are gated (default all).
    * `new_only`: only findings new since `baseline` can fail.
    * `waivers`: accepted risks, each with a reason and an expiry date.
    """

    model_config = ConfigDict(extra="forbid")

    fail_on: Severity = DEFAULT_FAIL_ON
    cvss_version: Literal["3", "4", "any"] = "3"
    fail_on_cvss: Optional[float] = Field(default=None, ge=0.0, le=10.0)
    fail_on_kev: bool = False
    fail_on_epss: Optional[float] = Field(default=None, ge=0.0, le=1.0)
    categories: Tuple[AffectedCategory, ...] = DEFAULT_CATEGORIES
    scope: Tuple[Scope, ...] = SCOPES
    new_only: bool = False
    baseline: Optional[str] = None
    waivers: Tuple[Waiver, ...] = ()

    @field_validator("cvss_version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        # TOML users write `cvss-version = 4` as often as `"4"`.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("categories", "scope", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("categories", "scope")
    @classmethod
    def _not_empty_unique(cls, value: Tuple[str, ...]) -> Tuple[str, ...]:
        if not value:
            raise ValueError("must name at least one value")
        return tuple(dict.fromkeys(value))


FIELD_NAMES = frozenset(GatePolicy.model_fields)


def load_policy(
    policy_file: Optional[Path] = None,
    pyproject: Optional[Path] = None,
    overrides: Optional[Mapping[str, Any]] = None,
    *,
    other_pyproject_keys: Iterable[str] = (),
) -> GatePolicy:
    """Build the policy from defaults < pyproject < policy file < overrides.

    `overrides` are flag values (snake_case or kebab-case keys); a `None`
    value means "flag not given". `other_pyproject_keys` are keys of
    `[tool.timesys-ci]` owned by other settings (not gate keys), skipped
    instead of rejected. A missing pyproject.toml or one without the table is
    fine; a missing `--policy` file is an error.
    """
    layers: List[Tuple[str, Dict[str, Any]]] = []
    if pyproject is not None and Path(pyproject).is_file():
        table = _read_toml(Path(pyproject))
        for part in PYPROJECT_TABLE:
            table = table.get(part, {}) if isinstance(table, dict) else {}
        if not isinstance(table, dict):
            raise PolicyError(f"{Path(pyproject).name}: tool.timesys-ci: must be a table")
        skip = {_snake(key) for key in other_pyproject_keys}
        table = {key: value for key, value in table.items() if _snake(key) not in skip}
        layers.append((f"{Path(pyproject).name} [tool.timesys-ci]", _normalise_keys(table, Path(pyproject).name)))
    if policy_file is not None:
        path = Path(policy_file)
        if not path.is_file():
            raise PolicyError(f"{path}: policy file not found")
        layers.append((path.name, _normalise_keys(_read_toml(path), path.name)))
    if overrides:
        given = {key: value for key, value in overrides.items() if value is not None}
        layers.append(("command line", _normalise_keys(given, "command line")))

    merged: Dict[str, Any] = {}
    origin: Dict[str, str] = {}
    for source, values in layers:
        for key, value in values.items():
            merged[key] = value
            origin[key] = source
    try:
        return GatePolicy(**merged)
    except ValidationError as exc:
        raise PolicyError(_first_error(exc, origin)) from None


def _read_toml(path: Path) -> Dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise PolicyError(f"{path.name}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path.name}: invalid TOML: {exc}") from None


def _snake(key: str) -> str:
    return key.strip().replace("-", "_")


def _kebab(key: str) -> str:
    return key.replace("_", "-")


def _normalise_keys(values: Mapping[str, Any], source: str) -> Dict[str, Any]:
    result: Dict[str, Any] = {}
    for key, value in values.items():
        name = _snake(key)
        if name not in FIELD_NAMES:
            known = ", ".join(sorted(_kebab(field) for field in FIELD_NAMES))
            raise PolicyError(f"{source}: {key}: unknown key (known keys: {known})")
        if name == "waivers" and isinstance(value, list):
            value = [_normalise_waiver(item) for item in value]
        result[name] = value
    return result


def _normalise_waiver(item: Any) -> Any:
    return {_snake(key): value for key, value in item.items()} if isinstance(item, dict) else item


_SHORT_MESSAGES = {
    "missing": "required",
    "extra_forbidden": "unknown key",
    "date_type": "invalid date",
    "date_parsing": "invalid date",
    "date_from_datetime_parsing": "invalid date",
    "date_from_datetime_inexact": "invalid date",
}


def _first_error(exc: ValidationError, origin: Mapping[str, str]) -> str:
    error = exc.errors()[0]
    loc = error["loc"]
    top = str(loc[0]) if loc else ""
    source = origin.get(top, "policy")
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + _kebab(str(part))
    message = _SHORT_MESSAGES.get(error["type"]) or str(error["msg"])
    if error["type"] not in _SHORT_MESSAGES and "input" in error and not isinstance(error["input"], (dict, list)):
        message += f" (got {error['input']!r})"
    return f"{source}: {path}: {message}"

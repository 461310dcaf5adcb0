"""Upload, wait for the report, enrich it, compare with a baseline, evaluate the gate.

No argument parsing and no output here: `timesys_ci.job.cli` turns flags into
`UploadOptions`, `timesys_ci.job.publish` writes what `evaluate_report` returns.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Optional

import timesys
from timesys import NotFoundError, ParameterError, TransportError
from timesys.core import endpoints
from timesys.vigiles import cves, manifests, reports
from timesys_ci.clock import SYSTEM_CLOCK, Clock
from timesys_ci.gate.evaluate import FindingKey, baseline_new_ids, evaluate
from timesys_ci.vulndb.sources.epss import load_epss
from timesys_ci.vulndb.sources.kev import load_kev
from timesys_ci.gate.policy import GatePolicy
from timesys_ci.job.manifest_check import CheckedManifest
from timesys_ci.outputs.outcome import Baseline, GateOutcome, Scanned
from timesys_ci.report import AFFECTED_CATEGORIES, Finding, Report, load_report

logger = logging.getLogger(__name__)
POLL_INTERVAL = 5.0  # seconds between report polls
MAX_ONLINE_LOOKUPS = 300  # CVE lookups for KEV/EPSS enrichment in one run


class ReportTimeoutError(TransportError):
    """No report arrived within --wait-timeout (a service error: exit status 3)."""


class BaselineError(ParameterError):
    """--baseline names no report, or a report of another product (exit status 2)."""


@dataclass
class UploadOptions:
    """How to upload: keyword arguments of `upload_manifest` (all but the text), and how long to wait."""

    upload_kwargs: dict[str, Any] = field(default_factory=dict)
    wait_timeout: Optional[float] = None  # None: the default wait (or none with upload_only)

    @property
    def upload_only(self) -> bool:
        return bool(self.upload_kwargs.get("upload_only"))

    @property
    def filter_results(self) -> bool:
        return bool(self.upload_kwargs.get("filter_results"))

    @property
    def extra_fields(self) -> Optional[list[str]]:
        return self.upload_kwargs.get("extra_fields")


@dataclass
class GateInputs:
    policy: GatePolicy
    today: date = field(default_factory=date.today)
    kev_catalog: Optional[Path] = None
    epss_scores: Optional[Path] = None
    online: bool = True  # KEV/EPSS lookups and baseline comparison through the API


DEFAULT_WAIT = 300.0


def upload(manifest: CheckedManifest, options: UploadOptions) -> dict[str, Any]:
    """POST the manifest with the reference options; the server's answer."""
    return manifests.upload_manifest(manifest.text, **options.upload_kwargs)


def wait_for_report(manifest_token: str, timeout: float, *, filter_results: bool = False,
                    extra_fields: Optional[list[str]] = None, clock: Clock = SYSTEM_CLOCK) -> dict[str, Any]:
    """Poll the latest report of an SBOM until there is one, or `timeout` seconds (of `clock`) pass."""
    deadline = clock.monotonic() + timeout
    while True:
        try:
            return manifests.get_latest_report(manifest_token, filter_results=filter_results,
                                               extra_fields=extra_fields)
        except NotFoundError:
            remaining = deadline - clock.monotonic()
            if remaining <= 0:
                raise ReportTimeoutError(f"no report for SBOM {manifest_token} after {timeout:g} s "
                                         f"(raise --wait-timeout?)") from None
            logger.info("report of %s not ready; checking again in %.0f s", manifest_token, min(POLL_INTERVAL, remaining))
            clock.sleep(min(POLL_INTERVAL, remaining))


def fetch_report(result: dict[str, Any], options: UploadOptions, clock: Clock = SYSTEM_CLOCK) -> Optional[dict[str, Any]]:
    """The report for an upload: in the answer itself, or waited for. None: upload-only, no wait asked."""
    if isinstance(result.get("cves"), dict):
        return result
    if options.upload_only and options.wait_timeout is None:
        return None
    token = result.get("manifest_token")
    if not token:
        raise timesys.InvalidResponseError("the upload answer has neither a report nor a manifest_token")
    timeout = options.wait_timeout if options.wait_timeout is not None else DEFAULT_WAIT
    return wait_for_report(token, timeout, filter_results=options.filter_results, extra_fields=options.extra_fields,
                           clock=clock)


@dataclass
class Enrichment:
    """KEV ids and EPSS scores from files or the API, and which CVEs the API answered about KEV."""

    kev: set[str] = field(default_factory=set)
    epss: dict[str, float] = field(default_factory=dict)
    kev_answered: set[str] = field(default_factory=set)
    kev_catalog: bool = False  # a catalog file says, for every CVE, whether it is in KEV


def _enrichment(findings: Sequence[Finding], inputs: GateInputs) -> Enrichment:
    """KEV ids and EPSS scores the policy needs but the report lacks: local files first, then the API."""
    policy = inputs.policy
    found = Enrichment()
    if policy.fail_on_kev and inputs.kev_catalog:
        found.kev |= load_kev(inputs.kev_catalog)
        found.kev_catalog = True
    if policy.fail_on_epss is not None and inputs.epss_scores:
        found.epss.update(load_epss(inputs.epss_scores))
    wants_kev = policy.fail_on_kev and not inputs.kev_catalog
    wants_epss = policy.fail_on_epss is not None and not inputs.epss_scores
    if not inputs.online or not (wants_kev or wants_epss):
        return found
    missing = sorted({f.cve_id for f in findings if f.category in AFFECTED_CATEGORIES
                      and ((wants_kev and not f.kev) or (wants_epss and f.epss is None))})
    if len(missing) > MAX_ONLINE_LOOKUPS:
        logger.warning("%d CVEs lack KEV/EPSS data; looking up the first %d (use --kev-catalog/--epss-scores)",
                       len(missing), MAX_ONLINE_LOOKUPS)
    for cve_id in missing[:MAX_ONLINE_LOOKUPS]:
        try:
            info = cves.get_cve_info(cve_id, fields=["cisa", "epss"])
        except NotFoundError:
            continue
        cisa, score = (info or {}).get("cisa"), (info or {}).get("epss")
        if cisa is not None:
            found.kev_answered.add(cve_id)
        if isinstance(cisa, dict) and (cisa.get("known_exploited") or cisa.get("dateAdded") or cisa.get("date_added")):
            found.kev.add(cve_id)
        value = score.get("score", score.get("epss")) if isinstance(score, dict) else score
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            found.epss[cve_id] = float(value)
        elif isinstance(value, str):
            try:
                found.epss[cve_id] = float(value)
            except ValueError:
                logger.warning("%s: EPSS value %r from the service is not a number; ignored", cve_id, value)
    return found


def _gated(findings: Sequence[Finding], policy: GatePolicy) -> list[Finding]:
    return [f for f in findings if f.category in AFFECTED_CATEGORIES and f.category in policy.categories
            and f.scope in policy.scope]


def data_warnings(findings: Sequence[Finding], policy: GatePolicy, found: Enrichment) -> list[str]:
    """A KEV or EPSS rule with no data for any gated finding cannot fail anything: say so."""
    gated = _gated(findings, policy)
    if not gated:
        return []
    warnings = []
    if policy.fail_on_epss is not None and all(f.epss is None and f.cve_id not in found.epss for f in gated):
        warnings.append(f"fail-on-epss {policy.fail_on_epss:g} could not apply: none of the {len(gated)} gated "
                        f"finding(s) has an EPSS score (give --epss-scores FILE with FIRST's EPSS CSV)")
    if policy.fail_on_kev and not found.kev_catalog and \
            all(not f.kev_known and f.cve_id not in found.kev_answered for f in gated):
        warnings.append(f"fail-on-kev could not apply: there is no KEV data for any of the {len(gated)} gated "
                        f"finding(s) (give --kev-catalog FILE with CISA's KEV catalog)")
    return warnings


def looks_like_file(baseline: str) -> bool:
    """A --baseline naming a file (a path, or a .json name) rather than a report token."""
    return Path(baseline).exists() or "/" in baseline or "\\" in baseline or baseline.lower().endswith(".json")


def check_baseline(policy: GatePolicy, manifest_name: Optional[str], *, online: bool, dry_run: bool = False) -> None:
    """Before anything is sent: the baseline must exist and be a report of the same product.

    `dry_run`: a report token is not looked up (nothing may be sent)."""
    baseline = policy.baseline
    if baseline is None:
        return
    if not policy.new_only:
        raise BaselineError(f"baseline {baseline!r} is set but new-only is not: add --new-only, or drop the baseline")
    if looks_like_file(baseline):
        if not Path(baseline).is_file():
            raise BaselineError(f"{baseline}: baseline report file not found")
        _same_product(load_report(baseline).summary.manifest_name, manifest_name, f"{baseline}")
        return
    if dry_run:
        return
    if not online:
        raise BaselineError(f"baseline {baseline!r}: offline, the baseline must be a saved report file")
    try:
        reports.compare_reports(baseline, baseline)  # read-only; 404 when there is no such report
    except NotFoundError:
        raise BaselineError(f"baseline {baseline!r}: no such report (nothing was uploaded)") from None


def _same_product(baseline_name: Optional[str], name: Optional[str], what: str) -> None:
    if baseline_name and name and baseline_name != name:
        raise BaselineError(f"{what} is a report of {baseline_name!r}, not of {name!r}: new-only only compares "
                            f"reports of the same SBOM name")


def _same_scope_manifests(report: Report) -> list[Mapping[str, Any]]:
    """The SBOMs stored under the same name in the same group/folder as `report` (its own included)."""
    summary = report.summary
    folder = summary.folder_token or None
    listed = endpoints.MANIFESTS_LIST.call(folder_token=folder, group_token=None if folder else summary.group_token)
    return [m for m in listed if isinstance(m, Mapping) and m.get("manifest_name") == summary.manifest_name
            and (m.get("folder_token") or None) == folder
            and (summary.group_token is None or m.get("group_token") in (None, summary.group_token))]


def _report_descriptors(manifest_token: str) -> list[Mapping[str, Any]]:
    """An SBOM's report descriptors `{created_date, report_token, ...}` (whatever the list's key: the reference
    does not document it), in the service's order."""
    answer = manifests.get_report_tokens(manifest_token)
    lists = [value for value in answer.values() if isinstance(value, list)] if isinstance(answer, Mapping) else [answer]
    return [item for items in lists if isinstance(items, list) for item in items
            if isinstance(item, Mapping) and item.get("report_token")]


def _report_tokens(manifest_token: str) -> set[str]:
    return {str(item["report_token"]) for item in _report_descriptors(manifest_token)}


def _previous_upload(report: Report) -> Baseline:
    """The newest report of another upload of the same SBOM name in the same group/folder (the default baseline).

    Read from the SBOM's report list (`get_report_tokens`), not by downloading an old report: only its token
    is needed, and an old report that no longer parses must not fail today's run.
    """
    name, token = report.summary.manifest_name, report.summary.manifest_token
    if not name:
        return Baseline("none")
    earlier = [m for m in _same_scope_manifests(report) if m.get("manifest_token") != token]
    for candidate in sorted(earlier, key=lambda m: str(m.get("upload_date") or ""), reverse=True):
        try:
            listed = _report_descriptors(str(candidate["manifest_token"]))
        except NotFoundError:
            continue
        if not listed:
            continue
        # Newest by creation date; with equal or missing dates the later entry of the list.
        newest = max(enumerate(listed), key=lambda item: (str(item[1].get("created_date") or ""), item[0]))[1]
        logger.info("new-only: comparing with report %s of the upload of %s", newest["report_token"],
                    candidate.get("upload_date"))
        return Baseline("previous upload", report_token=str(newest["report_token"]),
                        manifest_token=str(candidate["manifest_token"]), manifest_name=name,
                        date=newest.get("created_date") or candidate.get("upload_date"))
    return Baseline("none", manifest_name=name)


def _given_report(report: Report, token: str) -> Baseline:
    """A --baseline report token, which must belong to an SBOM of the same name in the same group/folder."""
    for candidate in _same_scope_manifests(report):
        if token in _report_tokens(str(candidate["manifest_token"])):
            return Baseline("report", report_token=token, manifest_token=str(candidate["manifest_token"]),
                            manifest_name=report.summary.manifest_name)
    raise BaselineError(f"baseline {token!r} is not a report of {report.summary.manifest_name!r} in this "
                        f"group/folder: new-only only compares reports of the same SBOM name")


def new_finding_ids(report: Report, inputs: GateInputs) -> tuple[Optional[set[FindingKey]], Optional[Baseline]]:
    """For new-only: the findings not in the baseline (a report file, a report token, or the previous upload)."""
    policy = inputs.policy
    if not policy.new_only:
        return None, None
    affected = {f.key for f in report.findings if f.category in AFFECTED_CATEGORIES}
    baseline = policy.baseline
    if baseline and looks_like_file(baseline):
        if not Path(baseline).is_file():
            raise BaselineError(f"{baseline}: baseline report file not found")
        loaded = load_report(baseline)
        _same_product(loaded.summary.manifest_name, report.summary.manifest_name, baseline)
        return baseline_new_ids(report.findings, loaded.findings), Baseline(
            "file", report_token=loaded.summary.report_token, path=baseline,
            manifest_token=loaded.summary.manifest_token, manifest_name=loaded.summary.manifest_name,
            date=loaded.summary.date)
    if not inputs.online:
        raise BaselineError(f"baseline {baseline!r}: offline, the baseline must be a saved report file"
                            if baseline else "new-only needs a baseline report file offline (--baseline)")
    used = _given_report(report, baseline) if baseline else _previous_upload(report)
    if used.kind == "none":
        return affected, used
    if not report.summary.report_token:
        raise timesys.InvalidResponseError("the report has no report token to compare with the baseline")
    comparison = reports.compare_reports(used.report_token, report.summary.report_token)
    detailed = comparison.get("new_findings")
    if isinstance(detailed, list):  # the local service names the package too
        return {(item["package"], item["cve_id"]) for item in detailed if isinstance(item, Mapping)} & affected, used
    new_cves = {str(cve).upper() for cve in comparison.get("new", [])}
    return {key for key in affected if key[1] in new_cves}, used


def evaluate_report(report: Report, inputs: GateInputs, *, manifest_path: Optional[str] = None,
                    scanned: Scanned = Scanned(), notes: Sequence[str] = (),
                    warnings: Sequence[str] = ()) -> GateOutcome:
    """The gate's verdict on `report`, with what every output says besides: what was scanned, the baseline,
    `warnings` (what may make the verdict less than it seems; callers add theirs, e.g. stale data) and `notes`."""
    found = _enrichment(report.findings, inputs)
    new_ids, baseline = new_finding_ids(report, inputs)
    result = evaluate(report.findings, inputs.policy, today=inputs.today, new_ids=new_ids, kev=found.kev,
                      epss=found.epss)
    warnings = [*warnings, *data_warnings(report.findings, inputs.policy, found)]
    if baseline is not None and baseline.kind == "none":
        warnings.append(f"new-only found no baseline: {baseline.describe().split(': ', 1)[1]}")
    return GateOutcome(summary=report.summary, result=result, policy=inputs.policy, manifest_path=manifest_path,
                       scanned=scanned, baseline=baseline, warnings=tuple(warnings), notes=tuple(notes))

"""Upload, wait for the report, enrich it, compare with a baseline, evaluate the gate.

No argument parsing and no output here: `timesys_ci.job.cli` turns flags into
`UploadOptions`, `timesys_ci.job.publish` writes what `evaluate_report` returns.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Optional

import timesys
from timesys import NotFoundError, TransportError
from timesys.vigiles import cves, manifests, reports
from timesys_ci.gate.evaluate import FindingKey, baseline_new_ids, evaluate
from timesys_ci.vulndb.sources.epss import load_epss
from timesys_ci.vulndb.sources.kev import load_kev
from timesys_ci.gate.policy import GatePolicy
from timesys_ci.job.manifest_check import CheckedManifest
from timesys_ci.outputs.outcome import GateOutcome
from timesys_ci.report import AFFECTED_CATEGORIES, Finding, Report, load_report, parse_report

logger = logging.getLogger(__name__)
POLL_INTERVAL = 5.0  # seconds between report polls
MAX_ONLINE_LOOKUPS = 300  # CVE lookups for KEV/EPSS enrichment in one run


class ReportTimeoutError(TransportError):
    """No report arrived within --wait-timeout (a service error: exit status 3)."""


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
                    extra_fields: Optional[list[str]] = None, sleep: Callable[[float], None] = time.sleep,
                    clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """Poll the latest report of an SBOM until there is one, or `timeout` seconds pass."""
    deadline = clock() + timeout
    while True:
        try:
            return manifests.get_latest_report(manifest_token, filter_results=filter_results,
                                               extra_fields=extra_fields)
        except NotFoundError:
            remaining = deadline - clock()
            if remaining <= 0:
                raise ReportTimeoutError(f"no report for SBOM {manifest_token} after {timeout:g} s "
                                         f"(raise --wait-timeout?)") from None
            logger.info("report of %s not ready; checking again in %.0f s", manifest_token, min(POLL_INTERVAL, remaining))
            sleep(min(POLL_INTERVAL, remaining))


def fetch_report(result: dict[str, Any], options: UploadOptions) -> Optional[dict[str, Any]]:
    """The report for an upload: in the answer itself, or waited for. None: upload-only, no wait asked."""
    if isinstance(result.get("cves"), dict):
        return result
    if options.upload_only and options.wait_timeout is None:
        return None
    token = result.get("manifest_token")
    if not token:
        raise timesys.InvalidResponseError("the upload answer has neither a report nor a manifest_token")
    timeout = options.wait_timeout if options.wait_timeout is not None else DEFAULT_WAIT
    return wait_for_report(token, timeout, filter_results=options.filter_results, extra_fields=options.extra_fields)


def _enrichment(findings: Sequence[Finding], inputs: GateInputs) -> tuple[set[str], dict[str, float]]:
    """KEV ids and EPSS scores the policy needs but the report lacks: local files first, then the API."""
    policy = inputs.policy
    kev: set[str] = set()
    epss: dict[str, float] = {}
    if policy.fail_on_kev and inputs.kev_catalog:
        kev |= load_kev(inputs.kev_catalog)
    if policy.fail_on_epss is not None and inputs.epss_scores:
        epss.update(load_epss(inputs.epss_scores))
    wants_kev = policy.fail_on_kev and not inputs.kev_catalog
    wants_epss = policy.fail_on_epss is not None and not inputs.epss_scores
    if not inputs.online or not (wants_kev or wants_epss):
        return kev, epss
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
        if isinstance(cisa, dict) and (cisa.get("known_exploited") or cisa.get("dateAdded") or cisa.get("date_added")):
            kev.add(cve_id)
        value = score.get("score", score.get("epss")) if isinstance(score, dict) else score
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            epss[cve_id] = float(value)
        elif isinstance(value, str):
            try:
                epss[cve_id] = float(value)
            except ValueError:
                logger.warning("%s: EPSS value %r from the service is not a number; ignored", cve_id, value)
    return kev, epss


def _previous_report_token(report: Report) -> Optional[str]:
    """The latest report of another SBOM with the same name in the same scope (the default baseline)."""
    name, token = report.summary.manifest_name, report.summary.manifest_token
    if not name:
        return None
    same_name = [m for m in manifests.get_manifests() if m.get("manifest_name") == name and m.get("manifest_token") != token]
    for candidate in sorted(same_name, key=lambda m: str(m.get("upload_date") or ""), reverse=True):
        try:
            latest = manifests.get_latest_report(candidate["manifest_token"])
        except NotFoundError:
            continue
        return parse_report(latest, source=f"report of {candidate['manifest_token']}").summary.report_token

    return None


def new_finding_ids(report: Report, inputs: GateInputs) -> Optional[set[FindingKey]]:
    """For new-only: the findings not in the baseline (a report file, a report token, or the previous upload)."""
    policy = inputs.policy
    if not policy.new_only:
        return None
    baseline = policy.baseline
    if baseline and Path(baseline).is_file():
        return baseline_new_ids(report.findings, load_report(baseline).findings)
    if not inputs.online:
        raise timesys.ParameterError(f"baseline {baseline!r}: offline, the baseline must be a saved report file"
                                     if baseline else "new-only needs a baseline report file offline (--baseline)")
    baseline_token = baseline or _previous_report_token(report)
    affected = {f.key for f in report.findings if f.category in AFFECTED_CATEGORIES}
    if baseline_token is None:
        logger.warning("new-only: no earlier report of %r to compare with; every finding is new",
                       report.summary.manifest_name)
        return affected
    if not report.summary.report_token:
        raise timesys.InvalidResponseError("the report has no report token to compare with the baseline")
    comparison = reports.compare_reports(baseline_token, report.summary.report_token)
    detailed = comparison.get("new_findings")
    if isinstance(detailed, list):  # the local service names the package too
        return {(item["package"], item["cve_id"]) for item in detailed if isinstance(item, Mapping)} & affected
    new_cves = {str(cve).upper() for cve in comparison.get("new", [])}
    return {key for key in affected if key[1] in new_cves}


def evaluate_report(report: Report, inputs: GateInputs, *, manifest_path: Optional[str] = None) -> GateOutcome:
    kev, epss = _enrichment(report.findings, inputs)
    result = evaluate(report.findings, inputs.policy, today=inputs.today, new_ids=new_finding_ids(report, inputs),
                      kev=kev, epss=epss)
    return GateOutcome(summary=report.summary, result=result, policy=inputs.policy, manifest_path=manifest_path)


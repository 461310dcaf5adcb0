"""Kernel triage in `upload`: one step between fetching the report and evaluating it.

`prepare_kernel_triage` reads the evidence of what was compiled before anything is
sent (bad evidence: exit 2). `triage_fetched_report` sets aside the report's kernel
CVEs none of whose files was compiled (`timesys_ci.kernel.triage`) with the Linux
kernel CNA's `programFiles` from the local vulnerability database, says how many
and why, and with `--apply-triage` writes those statuses to the service
(`cves set-status`, scope manifest) so the dashboard and the next rescan agree.

Kept light at import: the CLI imports this module at start-up; the kernel package
and the store are imported when a triage runs.
"""
from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional

if TYPE_CHECKING:
    from timesys_ci.kernel.discover import KernelInputs, LoadedEvidence
    from timesys_ci.kernel.records import FileData
    from timesys_ci.kernel.triage import TriageResult
    from timesys_ci.outputs.outcome import KernelTriage

logger = logging.getLogger(__name__)
DATA_FLAG = "--kernel-data"
FILTER_FLAGS = {"kernel_config": "--kernel-config", "uboot_config": "--uboot-config",
                "filter_results": "--filter-results"}


@dataclass(frozen=True)
class KernelTriageOptions:
    inputs: "KernelInputs"  # the evidence: build dir, source dir, .config, SPDX
    data_dir: Path  # whose vulnerability database holds the kernel CNA's programFiles
    data_dir_given: bool = False  # named by the user: a missing database is an error, not a warning
    cve_records: tuple[Path, ...] = ()  # CVE JSON 5 records instead of the database
    apply: bool = False  # --apply-triage: write the statuses to the service
    uploaded_config: Optional[Path] = None  # the --kernel-config sent with the upload
    optional: bool = False  # evidence that cannot be read only warns (directories found, not named, by an entry)


@dataclass(frozen=True)
class PreparedKernelTriage:
    options: KernelTriageOptions
    loaded: Optional["LoadedEvidence"]  # None: optional evidence that could not be read (see warnings)
    records: Optional["FileData"]  # --kernel-cve-records, indexed before the upload
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class TriagedReport:
    report: Any  # the report with the set-aside findings marked not_affected (or as fetched, without triage)
    summary: Optional["KernelTriage"] = None  # for GateOutcome.kernel_triage
    warnings: tuple[str, ...] = ()


def prepare_kernel_triage(options: KernelTriageOptions) -> PreparedKernelTriage:
    """Read the evidence and check the file data source: everything that can fail on our input, before upload."""
    from timesys_ci.kernel.discover import load_evidence
    from timesys_ci.kernel.evidence import EvidenceError
    from timesys_ci.kernel.records import STORE_FILE, record_file_data

    try:
        loaded = load_evidence(options.inputs)
    except EvidenceError as exc:
        if not options.optional:
            raise
        # Triage only ever removes findings: skipping it leaves the gate stricter, never more lenient.
        return PreparedKernelTriage(options, None, None, (f"kernel triage not run: {exc}",))
    records = record_file_data(options.cve_records) if options.cve_records else None
    if records is None and options.data_dir_given and not (options.data_dir / STORE_FILE).is_file():
        raise EvidenceError(f"{DATA_FLAG} {options.data_dir}: no vulnerability database ({STORE_FILE}); "
                            f"run `timesys-ci db update --data {options.data_dir}`")
    return PreparedKernelTriage(options, loaded, records, tuple(_config_warnings(options)))


def _config_warnings(options: KernelTriageOptions) -> list[str]:
    """The uploaded --kernel-config should be the configuration the evidence was built with."""
    from timesys_ci.kernel.kconfig import read_kernel_config

    uploaded, build = options.uploaded_config, options.inputs.build_dir
    built = Path(build) / ".config" if build is not None else None
    if uploaded is None or built is None or not built.is_file() or Path(uploaded).resolve() == built.resolve():
        return []
    ours, theirs = read_kernel_config(Path(uploaded)).values, read_kernel_config(built).values
    differing = {name for name in ours.keys() | theirs.keys() if ours.get(name) != theirs.get(name)}
    if not differing:
        return []
    return [f"kernel triage: the uploaded --kernel-config {uploaded} is not the kernel build's {built} "
            f"({len(differing)} option(s) differ, e.g. {min(differing)}): the evidence is for another configuration"]


def triage_fetched_report(report: Any, prepared: Optional[PreparedKernelTriage], *, source: str,
                          manifest_token: Optional[str] = None) -> TriagedReport:
    """The step between fetching and evaluating: the report as the gate should see it."""
    if prepared is None:
        return TriagedReport(report)
    if prepared.loaded is None:
        return TriagedReport(report, warnings=prepared.warnings)
    from timesys_ci.kernel.records import store_file_data
    from timesys_ci.kernel.triage import triage_report

    options = prepared.options
    with ExitStack() as stack:
        data = prepared.records or stack.enter_context(
            store_file_data(options.data_dir, required=options.data_dir_given, flag=DATA_FLAG))
        result = triage_report(report, prepared.loaded.evidence, data.program_files, source=source)
    warnings = list(prepared.warnings)
    counts = result.counts()
    if data.missing:
        warnings.append(f"kernel triage: {data.missing}; no kernel CVE was set aside")
    elif counts["triaged"] and counts["no_file_data"] == counts["triaged"]:
        warnings.append(f"kernel triage: no kernel CNA file data in {data.origin} for any of the "
                        f"{counts['triaged']} open kernel CVE(s); run `timesys-ci db update`, nothing was set aside")
    applied = apply_statuses(result, manifest_token) if options.apply else None
    return TriagedReport(result.report, result.summary(data.origin, applied=applied), tuple(warnings))


def apply_statuses(result: "TriageResult", manifest_token: Optional[str]) -> int:
    """`cves set-status` for every set-aside CVE, on this SBOM only: `not_affected` / `code_not_present`, the
    evidence as the detail. Returns how many were written; the first service error stops (exit 3)."""
    import timesys
    from timesys.vigiles import cves
    from timesys_ci.kernel.triage import JUSTIFICATION, STATUS

    set_aside = result.set_aside
    if not set_aside:
        return 0
    if not manifest_token:
        raise timesys.InvalidResponseError("--apply-triage: the report names no manifest token to set statuses on")
    written = 0
    for decision in set_aside:
        try:
            cves.set_status("manifest", decision.cve_id, decision.package, STATUS, justification=JUSTIFICATION,
                            justification_detail=decision.note(), package_version=decision.version or None,
                            manifest_tokens=[manifest_token])
        except timesys.VigilesError:
            logger.warning("--apply-triage: %d of %d status(es) written before the error", written, len(set_aside))
            raise
        written += 1
    logger.info("--apply-triage: %d status(es) written to SBOM %s", written, manifest_token)
    return written


def saved_triage(report: Any) -> Optional["KernelTriage"]:
    """The kernel triage a saved report carries (`upload --save-report`, `kernel-triage -o`), for `gate`."""
    from timesys_ci.outputs.outcome import KernelTriage, SetAsideCve

    triage = report.get("kernel_triage") if isinstance(report, Mapping) else None
    if not isinstance(triage, Mapping) or not isinstance(triage.get("counts"), Mapping):
        return None
    evidence = tuple(f"{info.get('kind')} ({info.get('strength')}) from {info.get('origin')}"
                     for info in triage.get("evidence") or () if isinstance(info, Mapping))
    set_aside = tuple(SetAsideCve(str(package), str(entry.get("version") or ""), str(entry.get("cve_id")),
                                  str(entry["kernel_triage"].get("reason") or ""))
                      for package, entries in (report.get("cves") or {}).items() if isinstance(entries, list)
                      for entry in entries if isinstance(entry, Mapping)
                      and isinstance(entry.get("kernel_triage"), Mapping)
                      and entry["kernel_triage"].get("outcome") == "set_aside")
    counts = {str(name): int(value) for name, value in triage["counts"].items() if isinstance(value, int)}
    return KernelTriage(counts, evidence, "as the saved report records it", set_aside)


def filter_statements(report: Any, kernel: Optional["KernelTriage"] = None) -> list[str]:
    """What the service's `filters` object says it did with kernel/U-Boot configs and filter_results (the local
    service states it; the real service does not), one note each for what was asked and not applied."""
    filters = report.get("filters") if isinstance(report, Mapping) else None
    notes: list[str] = []
    for name, statement in (filters.items() if isinstance(filters, Mapping) else ()):
        if not isinstance(statement, Mapping) or not statement.get("requested") or statement.get("applied"):
            continue
        flag = FILTER_FLAGS.get(name, name)
        note = f"the service applied no {flag} filter: {statement.get('reason') or 'no reason given'}"
        if name == "kernel_config" and kernel is not None:
            note += f" (kernel triage here set aside {kernel.counts.get('set_aside', 0)})"
        notes.append(note)
    return notes

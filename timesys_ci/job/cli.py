"""`timesys-ci upload` (upload, get the report, gate, write outputs) and `timesys-ci gate` (a saved report)."""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import sys
from pathlib import Path
from typing import Any, Iterator, Optional

import timesys
from timesys_ci import exits
from timesys_ci.cli.commands import find_command
from timesys_ci.cli.dispatch import library_kwargs, progress_message
from timesys_ci.cli.parser import add_args
from timesys_ci.cli.progress import Progress
from timesys_ci.cli.render import to_json
from timesys_ci.cli.runtime import command_line_of, compact, configured_client, emit, quiet
from timesys_ci.cli.state import current_run
from timesys_ci.errors import UsageError, exit_code_for
from timesys_ci.gate.policy import GatePolicy, load_policy
from timesys_ci.job.kernel_triage import (KernelTriageOptions, PreparedKernelTriage, filter_statements,
                                          prepare_kernel_triage, saved_triage, triage_fetched_report)
from timesys_ci.job.local import local_service
from timesys_ci.job.manifest_check import CheckedManifest, check_manifest
from timesys_ci.job.publish import STDOUT, OutputOptions, write_outputs
from timesys_ci.job.upload import GateInputs, UploadOptions, check_baseline, evaluate_report, fetch_report, upload
from timesys_ci.kernel.options import add_evidence_arguments, kernel_inputs
from timesys_ci.outputs import github
from timesys_ci.outputs.outcome import Scanned
from timesys_ci.report import load_report, parse_report
from timesys_ci.service import require_service_extra
from timesys_ci.settings import CommandLine, Settings, local_data_dir
from timesys_ci.vulndb.state import DEFAULT_MAX_AGE, parse_max_age, require_fresh

FAIL_ON_CHOICES = ("none", "low", "medium", "high", "critical")
UPLOAD_HELP = "Upload a manifest/SBOM, wait for the report and gate the build on it"
MANIFEST_UPLOAD = find_command(("manifest", "upload"))
GATE_HELP = "Apply the gate to a saved report (offline)"


def _add_gate_options(parser: argparse.ArgumentParser) -> None:
    gate = parser.add_argument_group("gate policy (flags override --policy, which overrides [tool.timesys-ci])")
    gate.add_argument("--fail-on", choices=FAIL_ON_CHOICES, help="fail on affected findings of this severity or worse")
    gate.add_argument("--fail-on-cvss", type=float, metavar="SCORE", help="also fail at or above this CVSS score")
    gate.add_argument("--fail-on-kev", action=argparse.BooleanOptionalAction, default=None,
                      help="also fail on CVEs in CISA KEV (--no-fail-on-kev: not even if the policy says so)")
    gate.add_argument("--fail-on-epss", type=float, metavar="P", help="also fail at or above this EPSS probability")
    gate.add_argument("--cvss-version", choices=("3", "4", "any"), help="which CVSS score sets the severity band")
    gate.add_argument("--categories", metavar="LIST", help="gated categories (default all): unfixed,unapplied,upgradable")
    gate.add_argument("--scope", metavar="LIST", help="gated scopes: kernel,toolchain,userspace")
    gate.add_argument("--new-only", action=argparse.BooleanOptionalAction, default=None,
                      help="only findings new since the baseline fail (--no-new-only: all, whatever the policy says)")
    gate.add_argument("--baseline", metavar="REPORT_TOKEN|FILE",
                      help="the report to compare with for --new-only (default: the latest report of the previous "
                           "upload of the same SBOM name in the same group/folder); checked before uploading")
    gate.add_argument("--policy", type=Path, metavar="FILE", help="a TOML gate policy (top-level keys)")
    gate.add_argument("--pyproject", type=Path, default=Path("pyproject.toml"), metavar="FILE",
                      help="read [tool.timesys-ci] from this file if it exists (default: %(default)s)")
    gate.add_argument("--kev-catalog", type=Path, metavar="FILE", help="CISA KEV catalog (JSON or CSV) for --fail-on-kev")
    gate.add_argument("--epss-scores", type=Path, metavar="FILE", help="FIRST EPSS CSV for --fail-on-epss")
    out = parser.add_argument_group("outputs (written atomically)")
    out.add_argument("--json", dest="json_file", nargs="?", const=STDOUT, metavar="FILE",
                     help="the gate result as JSON (schema timesys-ci/gate-result v1); no FILE: on stdout")
    out.add_argument("--sarif", metavar="FILE", help="SARIF 2.1.0 for code scanning")
    out.add_argument("--junit", metavar="FILE", help="JUnit XML, a test case per finding")
    out.add_argument("--markdown", metavar="FILE", help="a Markdown summary")
    out.add_argument("--repo-root", metavar="DIR", help="SARIF locations are relative to this (default: cwd)")
    out.add_argument("--no-summary", dest="step_summary", action="store_false",
                     help="under GitHub Actions, do not write the step summary")
    out.add_argument("--no-annotations", dest="annotations", action="store_false",
                     help="under GitHub Actions, do not print error annotations")


def _add_kernel_triage_options(parser: argparse.ArgumentParser) -> None:
    triage = add_evidence_arguments(
        parser, config=False, spdx_flags=("--kernel-spdx",),
        title="kernel triage: set aside kernel CVEs none of whose files was compiled (the --kernel-config above is "
              "the .config evaluated against the Kbuild Makefiles when the build directory is gone)")
    triage.add_argument("--kernel-data", type=Path, metavar="DIR",
                        help="data dir whose vulnerability database has the Linux kernel CNA's programFiles "
                             "(default: the embedded service's, --local-data with --local; `db update` fills it)")
    triage.add_argument("--kernel-cve-records", type=Path, action="append", metavar="PATH",
                        help="CVE JSON 5 records instead: a vulns.git or cvelistV5 checkout, a directory or a file "
                             "(repeatable)")
    triage.add_argument("--kernel-evidence-optional", action="store_true",
                        help="evidence that cannot be read only warns and the gate runs untriaged (the Yocto and "
                             "Buildroot entries pass it with the kernel directories they found)")
    triage.add_argument("--apply-triage", action="store_true",
                        help="write the set-aside CVEs' status to the service for this SBOM (not_affected, "
                             "code_not_present, the evidence as the detail), so the dashboard agrees")


def register(subparsers: argparse._SubParsersAction) -> None:
    upload_parser = subparsers.add_parser("upload", help=UPLOAD_HELP, description=UPLOAD_HELP + ".")
    # The upload options are those of `manifest upload`, from the command table: described once.
    add_args(upload_parser.add_argument_group("upload (as `manifest upload` of the reference CLI)"),
             MANIFEST_UPLOAD.args)
    run = upload_parser.add_argument_group("run")
    run.add_argument("--wait-timeout", type=float, metavar="SECONDS",
                     help="how long to wait for the report when the upload does not return it (default 300); "
                          "with --upload-only, wait for a report produced later and gate it")
    run.add_argument("--on-service-error", choices=("fail", "warn"), default="fail",
                     help="warn: a service/network error only warns and exits 0 (default: fail, exit 3)")
    run.add_argument("--local", action="store_true",
                     help="run against the embedded local service (offline; data in the user's cache)")
    run.add_argument("--local-data", type=Path, metavar="DIR", help="data dir of the embedded service (with --local)")
    run.add_argument("--max-db-age", type=parse_max_age, metavar="AGE",
                     help="with --local: warn when the vulnerability data is older (days, or 36h/7d/2w; default 7)")
    run.add_argument("--require-fresh-db", action="store_true",
                     help="with --local: exit 2 instead of warning when the vulnerability data is only the bundled "
                          "sample or older than --max-db-age (nothing is uploaded)")
    run.add_argument("--save-report", metavar="FILE",
                     help="save the report JSON (for `timesys-ci gate`), as kernel triage left it")
    _add_kernel_triage_options(upload_parser)
    _add_gate_options(upload_parser)
    upload_parser.set_defaults(func=run_upload_command)

    gate_parser = subparsers.add_parser("gate", help=GATE_HELP, description=GATE_HELP + ".")
    gate_parser.add_argument("report", type=Path, help="a report JSON saved by `upload --save-report` (or the API)")
    gate_parser.add_argument("--manifest-path", metavar="PATH", help="the manifest the report is for (SARIF location)")
    gate_parser.add_argument("--base-url", metavar="URL", help="resolve the report_path against this URL")
    _add_gate_options(gate_parser)
    gate_parser.set_defaults(func=run_gate_command)


def _policy(args: argparse.Namespace) -> GatePolicy:
    overrides = {"fail_on": args.fail_on, "fail_on_cvss": args.fail_on_cvss, "fail_on_kev": args.fail_on_kev,
                 "fail_on_epss": args.fail_on_epss, "cvss_version": args.cvss_version, "categories": args.categories,
                 "scope": args.scope, "new_only": args.new_only, "baseline": args.baseline}
    return load_policy(args.policy, args.pyproject, overrides)


def _outputs(args: argparse.Namespace) -> OutputOptions:
    json_file = args.json_file or (STDOUT if getattr(args, "json", False) else None)
    return OutputOptions(json_file=json_file, sarif_file=args.sarif, junit_file=args.junit,
                         markdown_file=args.markdown, report_file=getattr(args, "save_report", None),
                         step_summary=args.step_summary, annotations=args.annotations, repo_root=args.repo_root,
                         compact=compact(args), quiet=quiet(args))


def _options(args: argparse.Namespace) -> tuple[str, UploadOptions]:
    """The manifest and the upload options, built exactly as `manifest upload` builds its library call."""
    kwargs = library_kwargs(MANIFEST_UPLOAD, args)
    return kwargs.pop("manifest"), UploadOptions(upload_kwargs=kwargs, wait_timeout=args.wait_timeout)


#: Options that do nothing when no report is gated (`--upload-only` without `--wait-timeout`).
_GATE_ONLY = ("fail_on", "fail_on_cvss", "fail_on_kev", "fail_on_epss", "cvss_version", "categories", "scope",
              "new_only", "baseline", "policy", "kev_catalog", "epss_scores", "sarif", "junit", "markdown",
              "save_report", "kernel_build_dir", "kernel_source_dir", "kernel_spdx", "kernel_data", "kernel_cve_records",
              "apply_triage", "kernel_evidence_optional")


def check_combinations(args: argparse.Namespace, options: UploadOptions) -> None:
    """Options that would do nothing together are refused before anything is sent."""
    if options.upload_only and options.wait_timeout is None:
        given = [name for name in _GATE_ONLY if getattr(args, name, None) not in (None, False)]
        if args.json_file not in (None, STDOUT):
            given.append("json")
        if given:
            raise UsageError(f"--{given[0].replace('_', '-')} does nothing with --upload-only (no report is gated); "
                             f"add --wait-timeout SECONDS to wait for the report and gate it")
    for flag, value in (("--local-data", args.local_data is not None), ("--max-db-age", args.max_db_age is not None),
                        ("--require-fresh-db", args.require_fresh_db)):
        if value and not args.local:
            raise UsageError(f"{flag} applies only with --local")
    if args.local:
        given = [flag for flag, value in (("--url", args.url), ("--key-file", args.key_file),
                                          ("--dash-config", args.dash_config)) if value]
        if given:
            raise UsageError(f"{given[0]} does not apply with --local (the embedded service has its own key, URL "
                             f"and group)")
    if args.wait_timeout is not None and args.wait_timeout <= 0:
        raise UsageError(f"--wait-timeout {args.wait_timeout:g}: must be a positive number of seconds")


def check_enrichment_files(policy: GatePolicy, args: argparse.Namespace) -> None:
    if args.kev_catalog is not None and not policy.fail_on_kev:
        raise UsageError("--kev-catalog is used only by fail-on-kev: add --fail-on-kev, or drop it")
    if args.epss_scores is not None and policy.fail_on_epss is None:
        raise UsageError("--epss-scores is used only by fail-on-epss: add --fail-on-epss P, or drop it")
    for option, path in (("--kev-catalog", args.kev_catalog), ("--epss-scores", args.epss_scores)):
        if path is not None and not path.is_file():
            raise UsageError(f"{path}: {option} file not found")


def _name_unnamed(manifest: CheckedManifest, options: UploadOptions) -> None:
    """An SBOM without a name of its own is stored under one made from the file name, never as "manifest"."""
    if not options.upload_kwargs.get("manifest_name") and manifest.document_name is None:
        options.upload_kwargs["manifest_name"] = manifest.name
        logging.getLogger(__name__).info("%s has no name of its own; uploading it as %r", manifest.path,
                                         manifest.name)


@contextlib.contextmanager
def _client(args: argparse.Namespace) -> Iterator[timesys.LLAPI]:
    """The run's configured client: from the user's settings, or for the embedded service with --local."""
    if not args.local:
        yield configured_client(args)
        return
    require_service_extra("--local")
    from timesys_ci.vulndb.dbfile import freshness, vulndb_path  # the store needs the service extra

    # Checked before the service starts: with --require-fresh-db, stale data stops the job here.
    check = freshness(vulndb_path(args.local_data or local_data_dir()), args.max_db_age or DEFAULT_MAX_AGE)
    args.db_warnings = require_fresh(check, args.require_fresh_db)
    with local_service(args.local_data) as local:
        flags = command_line_of(args)
        # The user's own key, URL and dashboard settings do not apply to the embedded service.
        settings = Settings.resolve(CommandLine(key_file=str(local.key_file), url=local.url,
                                                dash_config=str(local.dashboard_config), timeout=flags.timeout,
                                                group_token=flags.group_token, folder_token=flags.folder_token),
                                    environ={})
        client = configured_client(args, settings)
        args.local_service = local
        yield client


def _kernel_triage(args: argparse.Namespace, options: UploadOptions) -> Optional[PreparedKernelTriage]:
    """Kernel triage when kernel evidence is named (flags or TIMESYS_CI_KERNEL_*), read before the upload."""
    uploaded = Path(args.arg_kernel_config) if args.arg_kernel_config else None
    inputs = kernel_inputs(args, config=uploaded)
    if not (inputs.build_dir or inputs.source_dir or inputs.spdx) or (options.upload_only and
                                                                    options.wait_timeout is None):
        given = [flag for flag, value in (("--apply-triage", args.apply_triage), ("--kernel-data", args.kernel_data),
                                          ("--kernel-cve-records", args.kernel_cve_records),
                                          ("--kernel-evidence-optional", args.kernel_evidence_optional)) if value]
        if given:
            raise UsageError(f"{given[0]} needs kernel evidence: --kernel-build-dir, --kernel-source-dir with "
                             f"--kernel-config, or --kernel-spdx")
        return None
    if args.kernel_data is not None and args.kernel_cve_records:
        raise UsageError("--kernel-data and --kernel-cve-records: give one source of kernel file data")
    data_dir = args.kernel_data or (args.local_data if args.local else None) or local_data_dir()
    return prepare_kernel_triage(KernelTriageOptions(
        inputs, Path(data_dir), data_dir_given=args.kernel_data is not None,
        cve_records=tuple(args.kernel_cve_records or ()), apply=args.apply_triage, uploaded_config=uploaded,
        optional=args.kernel_evidence_optional))


def run_upload_command(args: argparse.Namespace) -> int:
    policy = _policy(args)  # a bad policy fails before anything is sent
    text, options = _options(args)
    check_combinations(args, options)
    check_enrichment_files(policy, args)
    path = Path(args.arg_manifest)  # the table's dest for `manifest` (see Arg.dest)
    manifest = check_manifest(path, text)
    kernel = _kernel_triage(args, options)
    _name_unnamed(manifest, options)
    outputs = _outputs(args)
    try:
        with _client(args) as client:
            check_baseline(policy, options.upload_kwargs.get("manifest_name") or manifest.name, online=True,
                           dry_run=client.dry_run)
            if client.dry_run:
                emit(args, upload(manifest, options))
                return exits.OK
            with Progress(progress_message(MANIFEST_UPLOAD, args, {"manifest": text}), enabled=not quiet(args)):
                result = upload(manifest, options)
            report = fetch_report(result, options, current_run().clock)
            if report is None:  # --upload-only: nothing to gate
                stored = {key: result.get(key) for key in ("manifest_token", "manifest_name", "group_token",
                                                          "folder_token", "date") if key in result}
                if outputs.json_file == STDOUT:
                    sys.stdout.write(to_json(stored, compact=compact(args)) + "\n")
                else:
                    emit(args, stored)
                return exits.OK
            local = getattr(args, "local_service", None)
            triaged = triage_fetched_report(report, kernel, source=f"report of {path}",
                                            manifest_token=result.get("manifest_token") or report.get("manifest_token"))
            report = triaged.report
            parsed = parse_report(report, source=f"report of {path}",
                                  base_url=local.public_url if local else client.url)
            outcome = evaluate_report(parsed, GateInputs(policy, kev_catalog=args.kev_catalog,
                                                         epss_scores=args.epss_scores),
                                      manifest_path=str(path), scanned=_scanned(manifest),
                                      notes=(*filter_statements(report, triaged.summary),
                                             *((local.browse_note(),) if local else ())),
                                      warnings=(*getattr(args, "db_warnings", ()), *triaged.warnings))
            outcome = dataclasses.replace(outcome, kernel_triage=triaged.summary)
    except timesys.VigilesError as exc:
        # Only what exits 3 (service, network) may be softened, never our own input errors (2).
        if args.on_service_error == "warn" and exit_code_for(exc) == exits.SERVICE:
            return _warn_service_error(exc)
        raise
    write_outputs(outcome, report, outputs)
    return exits.OK if outcome.passed else exits.GATE_FAILED


def _scanned(manifest: CheckedManifest) -> Scanned:
    return Scanned(path=str(manifest.path), format=manifest.format, coverage=manifest.coverage,
                   unknown_because=f"timesys-ci does not read {manifest.format} documents; the service does")


def _warn_service_error(exc: BaseException) -> int:
    message = " ".join(current_run().redactor.clean(str(exc)).split())
    sys.stderr.write(f"timesys-ci: warning: service error, gate not evaluated (--on-service-error warn): {message}\n")
    if github.running_on_github():
        sys.stdout.write(f"::warning title=Vigiles::{github.escape_data('service error, gate not evaluated: ' + message)}\n")
    return exits.OK


def run_gate_command(args: argparse.Namespace) -> int:
    policy = _policy(args)
    check_enrichment_files(policy, args)
    check_baseline(policy, None, online=False)
    report = load_report(args.report, base_url=args.base_url)
    raw = json.loads(Path(args.report).read_text(encoding="utf-8"))  # load_report read it: it is valid JSON
    triage = saved_triage(raw)
    scanned = Scanned(unknown_because="the report does not say; give --manifest-path to count them")
    if args.manifest_path:
        from timesys_ci.cli.runtime import read_input_text

        path = Path(args.manifest_path)
        scanned = _scanned(check_manifest(path, read_input_text(str(path), "manifest file")))
    outcome = evaluate_report(report, GateInputs(policy, kev_catalog=args.kev_catalog, epss_scores=args.epss_scores,
                                                 online=False), manifest_path=args.manifest_path, scanned=scanned,
                              notes=filter_statements(raw, triage))
    outcome = dataclasses.replace(outcome, kernel_triage=triage)
    write_outputs(outcome, None, _outputs(args))
    return exits.OK if outcome.passed else exits.GATE_FAILED

"""`timesys-ci upload` (upload, get the report, gate, write outputs) and `timesys-ci gate` (a saved report)."""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
from pathlib import Path
from typing import Any, Iterator

import timesys
from timesys_ci.cli import exit_codes
from timesys_ci.cli.commands import find_command
from timesys_ci.cli.dispatch import library_kwargs, progress_message
from timesys_ci.cli.errors import UsageError, exit_code_for
from timesys_ci.cli.parser import add_args
from timesys_ci.cli.progress import Progress
from timesys_ci.cli.render import to_json
from timesys_ci.cli.runtime import REDACTOR, command_line_of, configured_client, emit
from timesys_ci.gate.policy import GatePolicy, load_policy
from timesys_ci.job.local import local_service
from timesys_ci.service import require_service_extra
from timesys_ci.job.manifest_check import check_manifest
from timesys_ci.job.publish import STDOUT, OutputOptions, write_outputs
from timesys_ci.job.upload import GateInputs, UploadOptions, evaluate_report, fetch_report, upload
from timesys_ci.outputs import github
from timesys_ci.report import load_report, parse_report
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
    gate.add_argument("--fail-on-kev", action="store_true", default=None, help="also fail on CVEs in CISA KEV")
    gate.add_argument("--fail-on-epss", type=float, metavar="P", help="also fail at or above this EPSS probability")
    gate.add_argument("--cvss-version", choices=("3", "4", "any"), help="which CVSS score sets the severity band")
    gate.add_argument("--categories", metavar="LIST", help="gated categories (default all): unfixed,unapplied,upgradable")
    gate.add_argument("--scope", metavar="LIST", help="gated scopes: kernel,toolchain,userspace")
    gate.add_argument("--new-only", action="store_true", default=None, help="only findings new since the baseline fail")
    gate.add_argument("--baseline", metavar="REPORT_TOKEN|FILE", help="the report to compare with for --new-only")
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
    run.add_argument("--local-data", type=Path, metavar="DIR", help="data dir of the embedded service")
    run.add_argument("--max-db-age", type=parse_max_age, metavar="AGE",
                     help="with --local: warn when the vulnerability data is older (days, or 36h/7d/2w; default 7)")
    run.add_argument("--require-fresh-db", action="store_true",
                     help="with --local: exit 2 instead of warning when the vulnerability data is only the bundled "
                          "sample or older than --max-db-age (nothing is uploaded)")
    run.add_argument("--save-report", metavar="FILE", help="save the raw report JSON (for `timesys-ci gate`)")
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
                         step_summary=args.step_summary, annotations=args.annotations, repo_root=args.repo_root)


def _options(args: argparse.Namespace) -> tuple[dict[str, Any], UploadOptions]:
    """The manifest and the upload options, built exactly as `manifest upload` builds its library call."""
    kwargs = library_kwargs(MANIFEST_UPLOAD, args)
    return kwargs.pop("manifest"), UploadOptions(upload_kwargs=kwargs, wait_timeout=args.wait_timeout)


@contextlib.contextmanager
def _client(args: argparse.Namespace) -> Iterator[timesys.LLAPI]:
    """The configured shared client: from the user's settings, or for the embedded service with --local."""
    if not args.local:
        if args.require_fresh_db or args.max_db_age is not None:
            raise UsageError("--require-fresh-db and --max-db-age check the local vulnerability database: "
                             "use them with --local")
        yield configured_client(args)
        return
    require_service_extra("--local")
    from timesys_ci.vulndb.dbfile import freshness, vulndb_path  # the store needs the service extra

    data_dir = args.local_data or local_data_dir()
    # Checked before the service starts: with --require-fresh-db, stale data stops the job here.
    args.db_warnings = require_fresh(freshness(vulndb_path(data_dir), args.max_db_age or DEFAULT_MAX_AGE),
                                     args.require_fresh_db)
    with local_service(data_dir) as local:
        flags = command_line_of(args)
        # The user's own key, URL and dashboard settings do not apply to the embedded service.
        settings = Settings.resolve(CommandLine(key_file=str(local.key_file), url=local.url,
                                                dash_config=str(local.dashboard_config), timeout=flags.timeout,
                                                group_token=flags.group_token, folder_token=flags.folder_token),
                                    environ={})
        REDACTOR.add(settings.key.key.get_secret_value() if settings.key else None)
        settings.apply(timesys.llapi)
        args.local_note = (f"timesys-ci: the local service has stopped; its data is in {local.data_dir} "
                           f"(browse it with: python -m timesys_ci service start --data {local.data_dir})")
        yield timesys.llapi


def run_upload_command(args: argparse.Namespace) -> int:
    policy = _policy(args)  # a bad policy fails before anything is sent
    text, options = _options(args)
    path = Path(args.arg_manifest)  # the table's dest for `manifest` (see Arg.dest)
    manifest = check_manifest(path, text)
    outputs = _outputs(args)
    try:
        with _client(args) as client:
            if client.dry_run:
                result = upload(manifest, options)
            else:
                with Progress(progress_message(MANIFEST_UPLOAD, args, {"manifest": text})):
                    result = upload(manifest, options)
            if client.dry_run:
                emit(args, result)
                return exit_codes.OK
            report = fetch_report(result, options)
            if report is None:  # --upload-only: nothing to gate
                stored = {key: result.get(key) for key in ("manifest_token", "manifest_name", "group_token",
                                                          "folder_token", "date") if key in result}
                if outputs.json_file == STDOUT:
                    sys.stdout.write(to_json(stored) + "\n")
                else:
                    emit(args, stored)
                return exit_codes.OK
            parsed = parse_report(report, source=f"report of {path}", base_url=client.url)
            outcome = evaluate_report(parsed, GateInputs(policy, kev_catalog=args.kev_catalog,
                                                         epss_scores=args.epss_scores),
                                      manifest_path=str(path))
    except timesys.VigilesError as exc:
        # Only what exits 3 (service, network) may be softened, never our own input errors (2).
        if args.on_service_error == "warn" and exit_code_for(exc) == exit_codes.SERVICE:
            return _warn_service_error(exc)
        raise
    outcome = dataclasses.replace(outcome, warnings=tuple(getattr(args, "db_warnings", ())))
    write_outputs(outcome, report, outputs)
    if getattr(args, "local_note", None):
        sys.stderr.write(args.local_note + "\n")
    return exit_codes.OK if outcome.passed else exit_codes.GATE_FAILED


def _warn_service_error(exc: BaseException) -> int:
    message = " ".join(REDACTOR.clean(str(exc)).split())
    sys.stderr.write(f"timesys-ci: warning: service error, gate not evaluated (--on-service-error warn): {message}\n")
    if github.running_on_github():
        sys.stdout.write(f"::warning title=Vigiles::{github.escape_data('service error, gate not evaluated: ' + message)}\n")
    return exit_codes.OK


def run_gate_command(args: argparse.Namespace) -> int:
    policy = _policy(args)
    report = load_report(args.report, base_url=args.base_url)
    outcome = evaluate_report(report, GateInputs(policy, kev_catalog=args.kev_catalog, epss_scores=args.epss_scores,
                                                 online=False), manifest_path=args.manifest_path)
    write_outputs(outcome, None, _outputs(args))
    return exit_codes.OK if outcome.passed else exit_codes.GATE_FAILED

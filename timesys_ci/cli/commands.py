"""The command table: every command of the reference `vigiles` CLI (vigiles-api.md section 8.4).

One entry per command. Option spellings are the reference's (underscore and
hyphen forms are both accepted automatically); `param` is the keyword of the
`timesys` library function called. Binary commands get `-o/--outfile/--output`
and `--stdout` from the parser builder.
"""
from __future__ import annotations

import json
import os
from typing import Any, Optional, Sequence

from timesys.core import choices
from timesys.utilities import get_app_db_version, heartbeat
from timesys.vigiles import cves, folders, groups, manifests, products, reports
from timesys_ci.cli.errors import UsageError
from timesys_ci.cli.table import Arg, Command, Group, OneOf

A = Arg


#: Member roles a group member can have (the local service's; `-r/--role`, `-r/--new-role`).
MEMBER_ROLES = ("admin", "editor", "viewer")


def _in(allowed: Sequence[str], what: str) -> Any:
    """A check that each value of a comma-separated option is one of `allowed` (before anything is sent)."""
    def check(option: str, values: list[str]) -> list[str]:
        bad = [value for value in values if value not in allowed]
        if bad:
            shown = ", ".join(allowed[:12]) + (f", ... ({len(allowed)} in all)" if len(allowed) > 12 else "")
            raise UsageError(f"argument {option}: {bad[0]!r} is not a {what} (choose from {shown})")
        return values
    return check


def _score(option: str, value: str) -> str:
    try:
        score = float(value)
    except ValueError:
        score = -1.0
    if not 0.0 <= score <= 10.0:
        raise UsageError(f"argument {option}: {value!r} is not a score from 0 to 10")
    return value


def _ecosystems(option: str, value: str) -> str:
    if value.strip().lower() == "all":
        return value
    _in(manifests.ALL_ECOSYSTEMS, "known ecosystem")(option, [item.strip() for item in value.split(",")])
    return value


def _not_a_key_file(path: str, text: str) -> str:
    """A kernel/U-Boot config is Kconfig text; a JSON document (a key file, above all) is refused, never sent."""
    try:
        document = json.loads(text)
    except ValueError:
        return text
    if isinstance(document, dict) and document.keys() & {"key", "organization_key"}:
        raise UsageError(f"{path}: this is a key file, not a kernel or U-Boot config; it was not sent. After the "
                         f"command, -k and -u mean --kernel-config and --uboot-config: give the key file before "
                         f"the command (timesys-ci -k {path} ...) or as --key-file")
    raise UsageError(f"{path}: a JSON document, not a kernel or U-Boot .config (CONFIG_...=y lines)")


def _sbom_conversion() -> tuple[Arg, ...]:
    return (A(("-f", "--sbom-format"), "sbom_format", "convert to this SBOM format", choices=choices.SBOM_FORMATS),
            A(("-i", "--file-format"), "file_format", "output file type of the converted SBOM"),
            A(("-v", "--sbom-version"), "sbom_version", "specification version of the converted SBOM"))


def _token(name: str = "manifest-token", param: str = "manifest_token", what: str = "SBOM token") -> Arg:
    return A((name,), param, what)


def _tokens(name: str, what: str, param: str = "tokens") -> Arg:
    return A((name,), param, what, nargs="+")


_EXTRA_FIELDS = A(("-e", "--extra-fields"), "extra_fields",
                  f"comma-separated extra CVE fields ({', '.join(choices.EXTRA_FIELDS)})", kind="csv",
                  check=_in(choices.EXTRA_FIELDS, "CVE field"))
_FILTER = A(("-f", "--filter-results"), "filter_results", "hide CVEs filtered by the group's settings", kind="flag")
# No argparse defaults: giving them with a format that is not CycloneDX is refused (they would do nothing).
_CYCLONEDX_DEFAULTS = {"cyclonedx_format": choices.DEFAULT_CYCLONEDX_FORMAT,
                       "cyclonedx_version": choices.DEFAULT_CYCLONEDX_REPORT_VERSION}
_CYCLONEDX = (A(("--cyclonedx-format",), "cyclonedx_format",
                f"CycloneDX file format (default: {choices.DEFAULT_CYCLONEDX_FORMAT})",
                choices=choices.CYCLONEDX_FORMATS),
              A(("--cyclonedx-version",), "cyclonedx_version",
                f"CycloneDX specification version (default: {choices.DEFAULT_CYCLONEDX_REPORT_VERSION})",
                choices=choices.CYCLONEDX_VERSIONS))


def _cyclonedx_options(kwargs: dict[str, Any], format_value: Optional[str], format_option: str) -> dict[str, Any]:
    if format_value and format_value.startswith("cyclonedx"):
        for name, default in _CYCLONEDX_DEFAULTS.items():
            kwargs[name] = kwargs.get(name) or default
        return kwargs
    given = [name for name in _CYCLONEDX_DEFAULTS if kwargs.get(name) is not None]
    if given:
        raise UsageError(f"--{given[0].replace('_', '-')} applies only with a CycloneDX {format_option} "
                         f"(cyclonedx-vex or cyclonedx-sbom-vex)")
    kwargs.update(dict.fromkeys(_CYCLONEDX_DEFAULTS))
    return kwargs


def prepare_upload(kwargs: dict[str, Any], args: Any) -> dict[str, Any]:
    """The reference's rules: export options go together, and are forwarded only with --export-format."""
    export_format, export_path = kwargs.get("export_format"), kwargs.get("export_path")
    if bool(export_format) != bool(export_path):
        raise UsageError("manifest upload: --export-format and --export-path must be given together")
    if export_path and os.path.isdir(export_path):
        raise UsageError(f"manifest upload: --export-path {export_path} is a directory")
    return _cyclonedx_options(kwargs, export_format, "--export-format")


def prepare_download(kwargs: dict[str, Any], args: Any) -> dict[str, Any]:
    kwargs = _cyclonedx_options(kwargs, kwargs.get("format"), "file-type")
    if not (kwargs["format"] or "").startswith("cyclonedx"):
        del kwargs["cyclonedx_format"], kwargs["cyclonedx_version"]  # the library's defaults, unused
    return kwargs


def prepare_conversion(kwargs: dict[str, Any], args: Any) -> dict[str, Any]:
    """-i/--file-format and -v/--sbom-version describe a conversion: without -f/--sbom-format they would do nothing."""
    if not kwargs.get("sbom_format"):
        given = next((flag for flag, name in (("-i/--file-format", "file_format"), ("-v/--sbom-version", "sbom_version"))
                      if kwargs.get(name)), None)
        if given:
            raise UsageError(f"{given} needs -f/--sbom-format (the format to convert to)")
    return kwargs


def prepare_delete(kwargs: dict[str, Any], args: Any) -> dict[str, Any]:
    if not kwargs.get("confirmed"):
        raise UsageError(f"manifest delete: deleting SBOM {kwargs.get('manifest_token')} cannot be undone; "
                         f"add -c/--confirm to delete it (nothing was sent)")
    return kwargs


_MOVE_ARGS = (A(("manifest-tokens",), "sbom_tokens", "SBOM tokens", nargs="+"),
              OneOf((A(("-g", "--group-token"), "target_group_token", "target group"),
                     A(("-f", "--folder-token"), "target_folder_token", "target folder")), required=True),
              A(("-i", "--include-history"), "include_history", "include the SBOMs' report history", kind="flag"))

GROUPS: tuple[Group, ...] = (
    Group(("manifest",), "SBOMs (called manifests by the API): list, upload, download, rescan, move"),
    Group(("manifest", "custom-score"), "custom CVE scores in an SBOM"),
    Group(("report",), "vulnerability reports: download, compare"),
    Group(("folder",), "folders inside groups"),
    Group(("group",), "groups: members, settings, activity log"),
    Group(("group", "settings"), "a group's vulnerability-matching settings"),
    Group(("group", "members"), "a group's members"),
    Group(("cves",), "CVE lookups and triage statuses"),
    Group(("product",), "products (LinuxLink API flavour)"),
)

COMMANDS: tuple[Command, ...] = (
    Command(("heartbeat",), heartbeat, aliases=("test",)),
    Command(("about",), get_app_db_version),
    # -- manifest ----------------------------------------------------------------------------
    Command(("manifest", "list"), manifests.get_manifests,
            help="List SBOMs (of the configured folder or group)"),
    Command(("manifest", "info"), manifests.get_manifest_info, (_token(), *_sbom_conversion()),
            prepare=prepare_conversion),
    Command(("manifest", "download"), manifests.get_manifest_file, (_token(), *_sbom_conversion()), output="bytes",
            progress="downloading", prepare=prepare_conversion),
    Command(("manifest", "upload"), manifests.upload_manifest, (
        A(("manifest",), "manifest", "SBOM file to upload", kind="file_text"),
        A(("-k", "--kernel-config", "--kconfig"), "kernel_config",
          "kernel .config file (after the command -k is this, not the key file)", kind="file_text",
          check=_not_a_key_file),
        A(("-n", "--manifest-name"), "manifest_name", "name of the SBOM"),
        A(("-u", "--uboot-config"), "uboot_config", "U-Boot config file (after the command -u is this, not the URL)",
          kind="file_text", check=_not_a_key_file),
        A(("-s", "--subfolder-name"), "subfolder_name", "create/use this subfolder"),
        A(("-o", "--upload-only"), "upload_only", "upload without scanning", kind="flag"),
        _FILTER, _EXTRA_FIELDS,
        A(("-E", "--ecosystems"), "ecosystems", "comma-separated ecosystems, or 'all'", check=_ecosystems),
        A(("-S", "--subscribe"), "subscribe", "notification frequency", choices=choices.SUBSCRIBE_FREQUENCIES),
        A(("--export-format",), "export_format", "also export the report in this format",
          choices=choices.EXPORT_FORMATS),
        A(("--export-path",), "export_path", "where to save the exported report (extension replaced)"),
        *_CYCLONEDX), prepare=prepare_upload, progress="uploading"),
    Command(("manifest", "delete"), manifests.delete_manifest,
            (_token(), A(("-c", "--confirm"), "confirmed", "really delete (required)", kind="flag")),
            prepare=prepare_delete),
    Command(("manifest", "rescan"), manifests.rescan_manifest,
            (_token(), _EXTRA_FIELDS, _FILTER,
             A(("-o", "--rescan-only"), "rescan_only", "rescan without returning the report", kind="flag"))),
    Command(("manifest", "latest-report"), manifests.get_latest_report, (_token(), _EXTRA_FIELDS, _FILTER)),
    Command(("manifest", "move"), manifests.bulk_move_manifests, _MOVE_ARGS, help="Move SBOMs to a group or folder"),
    Command(("manifest", "copy"), manifests.bulk_copy_manifests, _MOVE_ARGS,
            help="Copy SBOMs to a group or folder"),
    Command(("manifest", "custom-score", "set"), manifests.set_custom_score, (
        A(("manifest-token",), "manifest_token", "SBOM token", strip=True),
        A(("-p", "--product"), "product_name", "package name", required=True, strip=True),
        A(("--cve-id",), "cve_id", "CVE id", required=True, strip=True),
        A(("-s", "--score"), "custom_score", "the custom score (0 to 10)", required=True, strip=True, check=_score),
        A(("-v", "--verison", "--version"), "product_version", "package version", default="", strip=True))),
    Command(("manifest", "reports"), manifests.get_report_tokens, (_token(),)),
    # -- report ------------------------------------------------------------------------------
    Command(("report", "download"), reports.download_report, (
        A(("file-type",), "format", "report format", choices=choices.REPORT_FORMATS),
        _token("report-token", "report_token", "report token"),
        _FILTER, *_CYCLONEDX), output="bytes", progress="downloading", prepare=prepare_download),
    Command(("report", "compare"), reports.compare_reports, (
        A(("token_one",), "token_one", "first report token"), A(("token_two",), "token_two", "second report token"),
        A(("-r", "--remove_whitelist"), "remove_whitelist", "deprecated: same as --remove_not_affected", kind="flag"),
        A(("-f", "--filter_results"), "filter_results", "hide CVEs filtered by the group's settings", kind="flag"),
        A(("-n", "--remove_not_affected"), "remove_not_affected", "leave out CVEs marked not affected",
          kind="flag"))),
    # -- folder ------------------------------------------------------------------------------
    Command(("folder", "list"), folders.get_folders, (
        OneOf((A(("-g", "--group_token"), "group_token", "group (default: the configured one)"),
               A(("-f", "--folder_token"), "folder_token", "parent folder (default: the configured one)"))),
        A(("-a", "--archived_only"), "archived_only", "list archived folders only", kind="flag"))),
    Command(("folder", "create"), folders.create_folder, (
        A(("folder-name",), "folder_name", "name of the new folder"),
        A(("-d", "--description"), "description", "description"),
        OneOf((A(("-g", "--group-token"), "group_token", "group"),
               A(("-f", "--folder-token"), "folder_token", "parent folder"))))),
    Command(("folder", "archive"), folders.archive_folders, (_tokens("folder-tokens", "folder tokens"),)),
    Command(("folder", "unarchive"), folders.unarchive_folders, (_tokens("folder-tokens", "folder tokens"),)),
    # -- group -------------------------------------------------------------------------------
    Command(("group", "list_active"), groups.get_groups, (
        A(("-p", "--include-private-workspaces"), "include_private_workspaces",
          "include other users' private workspaces (admins)", kind="flag"),)),
    Command(("group", "list_archived"), groups.get_archived_groups),
    Command(("group", "create"), groups.create_group, (
        A(("group-name",), "group_name", "name of the new group"),
        A(("-d", "--description"), "group_description", "description"),
        A(("-g", "--group-token"), "group_token", "parent group (makes a subgroup)"))),
    Command(("group", "delete"), groups.delete_group, (_token("group_token", "group_token", "group token"),)),
    Command(("group", "info"), groups.get_group_info, (
        A(("-g", "--group-token"), "group_token", "group (default: the configured one)"),
        A(("-s", "--subgroups"), "subgroups", "include subgroups", kind="flag"))),
    Command(("group", "archive"), groups.bulk_archive_groups, (_tokens("group-tokens", "group tokens"),)),
    Command(("group", "unarchive"), groups.bulk_unarchive_groups, (_tokens("group-tokens", "group tokens"),)),
    Command(("group", "settings", "info"), groups.get_group_settings, (
        A(("-g", "--group-token"), "group_token", "group (default: the configured one)"),)),
    Command(("group", "settings", "update"), groups.update_group_settings, (
        A(("-g", "--group-token"), "group_token", "group (default: the configured one)"),
        A(("-i", "--vuln-identifiers"), "vuln_identifiers", "identifiers used to match vulnerabilities",
          choices=groups.VULN_IDENTIFIERS, nargs="+"),
        A(("-s", "--vuln-strict-match"), "vuln_strict_match", "strict matching", choices=groups.ON_OFF),
        A(("-d", "--report-dep-vulns"), "report_dep_vulns", "report dependencies' vulnerabilities",
          choices=groups.ON_OFF),
        A(("-j", "--auto-close-jira-issues"), "auto_close_jira_issues", "close Jira issues automatically",
          choices=groups.ON_OFF))),
    Command(("group", "members", "list"), groups.get_group_members,
            (_token("group_token", "group_token", "group token"),)),
    Command(("group", "members", "add"), groups.add_group_member, (
        _token("group_token", "group_token", "group token"),
        A(("-e", "--member-email"), "member_email", "the member's email", required=True),
        A(("-r", "--role"), "role", "the member's role", required=True, choices=MEMBER_ROLES),
        A(("-a", "--access-subgroups"), "access_subgroups", "also give access to subgroups", kind="flag"))),
    Command(("group", "members", "update"), groups.update_group_member, (
        _token("group_token", "group_token", "group token"),
        A(("-e", "--member-email"), "member_email", "the member's email", required=True),
        A(("-r", "--new-role"), "new_role", "the new role", required=True, choices=MEMBER_ROLES))),
    Command(("group", "members", "remove"), groups.remove_group_member, (
        _token("group_token", "group_token", "group token"),
        A(("-e", "--member-email"), "member_email", "the member's email", required=True))),
    Command(("group", "activity_log"), groups.search_activity_log, (
        _token("group_token", "group_token", "group token"),
        A(("-f", "--folder-token"), "folder_token", "folder (default: the configured one)"),
        A(("-s", "--manifest-token"), "manifest_token", "SBOM"),
        A(("-r", "--report-token"), "report_token", "report"),
        A(("-u", "--user-email"), "user_email", "user"),
        A(("-p", "--package-name"), "package_name", "package name"),
        A(("-v", "--package-version"), "package_version", "package version"),
        A(("-i", "--vuln-id"), "vuln_id", "vulnerability id"),
        A(("-t", "--log-type"), "log_type", "entry type", choices=groups.LOG_TYPES),
        A(("-m", "--log-method"), "log_method", "where the change was made", choices=groups.LOG_METHODS))),
    # -- cves --------------------------------------------------------------------------------
    Command(("cves", "search"), cves.search_cves_by_product, (
        A(("product",), "cpe_product", "CPE product name"),
        A(("-v", "--version"), "version", "product version", default=""),
        A(("-i", "--ids_only"), "ids_only", "list CVE ids only", kind="flag"))),
    Command(("cves", "info"), cves.get_cve_info, (
        A(("cve_id",), "cve_id", "CVE id"),
        A(("-f", "--fields"), "fields", f"comma-separated fields ({', '.join(cves.CVE_FIELDS)})", kind="csv",
          check=_in(cves.CVE_FIELDS, "CVE field")))),
    Command(("cves", "set_status"), cves.set_status, (
        A(("scope",), "scope", "where the status applies", choices=cves.SCOPES),
        A(("cve_id",), "cve_id", "CVE id"),
        A(("package",), "package_name", "package name"),
        A(("status",), "status", "triage status", choices=cves.STATUSES),
        A(("-j", "--justification"), "justification", "why (for not_affected)", choices=cves.JUSTIFICATIONS),
        A(("-d", "--detail"), "justification_detail", "free-text detail", default=""),
        A(("-v", "--version"), "package_version", "package version", default=""),
        A(("-g", "--groups"), "group_tokens", "group tokens (scope group)", nargs="*"),
        A(("-m", "--manifests"), "manifest_tokens", "SBOM tokens (scope manifest)", nargs="*"))),
    Command(("cves", "status"), cves.get_vuln_status, (
        A(("cve-id",), "cve_id", "CVE id"), A(("package-name",), "package_name", "package name"),
        A(("package-version",), "package_version", "package version"), _token())),
    # -- products (LinuxLink flavour) ------------------------------------------------------------
    Command(("product", "list"), products.get_products),
    Command(("product", "create"), products.create_product, (
        A(("product-name",), "product_name", "name of the new product"),
        A(("-d", "--description"), "product_description", "description"))),
    Command(("product", "info"), products.get_product_info, (
        A(("-p", "--product-token"), "product_token", "product (default: the configured one)"),)),
)


def find_command(words: tuple[str, ...]) -> Command:
    """The table entry of a command (other commands reuse its arguments, e.g. `upload` those of `manifest upload`)."""
    return next(command for command in COMMANDS if command.words == words)

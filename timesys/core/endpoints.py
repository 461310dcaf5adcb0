"""The API, described once: every endpoint's method, path and parameters.

Each public function in `timesys.utilities` and `timesys.vigiles.*` is a thin,
documented wrapper that resolves its defaults and calls its `Endpoint`. The same
table drives the local service's routes (`timesys_ci.service`), so a parameter
name cannot drift between the client and its test peer. Paths that do not start
with `/api/` are relative to `/api/v1/vigiles` (vigiles-api.md section 5).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Mapping, Optional

from timesys.exceptions import ParameterError

if TYPE_CHECKING:
    from timesys.core.llapi import LLAPI

API_PREFIX = "/api/v1/vigiles"

#: When a parameter goes on the wire.
#: always   -- every call (None is still never sent)
#: truthy   -- only if the value is truthy
#: not_none -- only if the value is not None (empty strings and lists are sent)
#: true     -- only if true, sent as True
SendRule = Literal["always", "truthy", "not_none", "true"]
_PATH_FIELD = re.compile(r"{(\w+)}")
# Path segments go on the wire unescaped (and are signed so); these would change the URL's meaning.
_UNSAFE_SEGMENT = re.compile(r"[/?#\s]")


@dataclass(frozen=True)
class Param:
    """One wire parameter. `arg` is the Python argument it comes from (default: the wire name)."""

    wire: str
    send: SendRule = "always"
    arg: Optional[str] = None
    products_wire: Optional[str] = None  # its name in the products (LinuxLink) flavour

    @property
    def source(self) -> str:
        return self.arg or self.wire

    def wire_name(self, flavour: str) -> str:
        return self.products_wire if flavour == "products" and self.products_wire else self.wire

    def included(self, value: Any) -> bool:
        if value is None:
            return False
        if self.send == "truthy":
            return bool(value)
        if self.send == "true":
            return value is True or (bool(value) and not isinstance(value, str))
        return True


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    params: tuple[Param, ...] = ()
    required: tuple[str, ...] = ()
    required_message: Optional[str] = None  # one combined message instead of "<arg> is required"
    raw: bool = False  # the response is file bytes, not JSON
    products_path: Optional[str] = None  # a different path in the products flavour
    summary: str = ""
    path_fields: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "path_fields", tuple(_PATH_FIELD.findall(self.path)))

    def resource_template(self, flavour: str = "groups") -> str:
        path = self.products_path if flavour == "products" and self.products_path else self.path
        return path if path.startswith("/api/") else API_PREFIX + path

    def check_required(self, args: Mapping[str, Any]) -> None:
        missing = [name for name in self.required if not args.get(name)]
        if missing:
            raise ParameterError(self.required_message or f"{missing[0]} is required")

    def resource(self, flavour: str, args: Mapping[str, Any]) -> str:
        values = {}
        for name in self.path_fields:
            text = str(args[name])
            if _UNSAFE_SEGMENT.search(text) or text in (".", ".."):
                raise ParameterError(f"{name} {text!r} must not contain '/', '?', '#' or white space, nor be . or ..")
            values[name] = text
        return self.resource_template(flavour).format(**values)

    def wire_params(self, flavour: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """The params mapping in the order the reference builds it (POST bodies keep it)."""
        params: dict[str, Any] = {}
        for param in self.params:
            value = args.get(param.source)
            if param.included(value):
                params[param.wire_name(flavour)] = True if param.send == "true" else value
        return params

    def call(self, client: Optional[LLAPI] = None, **args: Any) -> Any:
        """Validate, build and send (or describe, in dry-run) this request."""
        if client is None:
            from timesys.core.llapi import active_client

            client = active_client()
        self.check_required(args)
        flavour = client.api
        return client.request(self.method, self.resource(flavour, args), self.wire_params(flavour, args),
                              json=not self.raw)


def _ep(*args: Any, **kwargs: Any) -> Endpoint:
    endpoint = Endpoint(*args, **kwargs)
    ENDPOINTS[endpoint.name] = endpoint
    return endpoint


ENDPOINTS: dict[str, Endpoint] = {}
P = Param

# -- utilities ---------------------------------------------------------------------------
HEARTBEAT = _ep("heartbeat", "POST", "/heartbeat", products_path="/api/v1/heartbeat",
                summary="Check authentication and server availability")
ABOUT = _ep("get_app_db_version", "GET", "/about", summary="Application and database versions")

# -- cves --------------------------------------------------------------------------------
CVE_INFO = _ep("get_cve_info", "GET", "/cves/{cve_id}", (P("fields", "not_none"),),
               required=("cve_id",), summary="Information about one CVE")
CVE_SEARCH = _ep("search_cves_by_product", "GET", "/cves",
                 (P("product", arg="cpe_product"), P("version"), P("ids_only")),
                 required=("cpe_product",), summary="CVEs affecting a product (and version)")
CVE_SET_STATUS = _ep("set_status", "POST", "/cves/{cve_id}/vuln-status",
                     (P("scope"), P("package", arg="package_name"), P("status"), P("justification", "truthy"),
                      P("package_version", "truthy"), P("justification_detail", "truthy"),
                      P("manifest_tokens", "truthy"), P("group_tokens", "truthy")),
                     required=("cve_id", "package_name", "status"), summary="Set the triage status of a CVE")
CVE_GET_STATUS = _ep("get_vuln_status", "GET", "/cves/{cve_id}/vuln-status",
                     (P("manifest_token"), P("package_name"), P("package_version")),
                     required=("cve_id", "package_name", "package_version", "manifest_token"),
                     summary="Triage status of a CVE in an SBOM")

# -- folders -----------------------------------------------------------------------------
FOLDERS_LIST = _ep("get_folders", "GET", "/folders",
                   (P("group_token", "truthy", products_wire="product_token"), P("folder_token", "truthy"),
                    P("archived_only", "true")), summary="List folders")
FOLDER_CREATE = _ep("create_folder", "POST", "/folders",
                    (P("folder_name"), P("description", "truthy"),
                     P("group_token", "truthy", products_wire="product_token"), P("folder_token", "truthy")),
                    summary="Create a folder")
FOLDERS_ARCHIVE = _ep("archive_folders", "PATCH", "/folders/archive", (P("tokens"),),
                      summary="Archive folders")
FOLDERS_UNARCHIVE = _ep("unarchive_folders", "PATCH", "/folders/unarchive", (P("tokens"),),
                        summary="Unarchive folders")

# -- groups ------------------------------------------------------------------------------
GROUPS_LIST = _ep("get_groups", "GET", "/groups", (P("include_private_workspaces"),), summary="List active groups")
GROUPS_ARCHIVED = _ep("get_archived_groups", "GET", "/groups/archived", summary="List archived groups")
GROUP_CREATE = _ep("create_group", "POST", "/groups",
                   (P("group_name"), P("description", "truthy", arg="group_description"), P("group_token", "truthy")),
                   required=("group_name",), summary="Create a group or subgroup")
GROUP_INFO = _ep("get_group_info", "GET", "/groups/{group_token}", (P("subgroups"),), required=("group_token",),
                 summary="Information about a group")
GROUPS_ARCHIVE = _ep("bulk_archive_groups", "PATCH", "/groups/archive", (P("tokens"),),
                     summary="Archive groups")
GROUPS_UNARCHIVE = _ep("bulk_unarchive_groups", "PATCH", "/groups/unarchive", (P("tokens"),),
                       summary="Unarchive groups")
GROUP_DELETE = _ep("delete_group", "DELETE", "/groups/{group_token}", required=("group_token",),
                   summary="Delete a group")
GROUP_MEMBERS = _ep("get_group_members", "GET", "/groups/{group_token}/members", required=("group_token",),
                    summary="List a group's members")
GROUP_MEMBER_ADD = _ep("add_group_member", "POST", "/groups/{group_token}/members",
                       (P("member_email"), P("role"), P("allow_access_to_subgroups", arg="access_subgroups")),
                       required=("group_token", "member_email", "role"), summary="Add a member to a group")
GROUP_MEMBER_UPDATE = _ep("update_group_member", "PUT", "/groups/{group_token}/members/{member_email}",
                          (P("new_role"),), required=("group_token", "member_email", "new_role"),
                          summary="Change a member's role")
GROUP_MEMBER_REMOVE = _ep("remove_group_member", "DELETE", "/groups/{group_token}/members/{member_email}",
                          required=("group_token", "member_email"), summary="Remove a member from a group")
GROUP_SETTINGS = _ep("get_group_settings", "GET", "/groups/{group_token}/settings", required=("group_token",),
                     summary="A group's vulnerability-matching settings")
GROUP_SETTINGS_UPDATE = _ep("update_group_settings", "PATCH", "/groups/{group_token}/settings",
                            (P("vuln_identifiers", "not_none"), P("vuln_strict_match", "not_none"),
                             P("report_dep_vulns", "not_none"), P("auto_close_jira_issues", "not_none")),
                            required=("group_token",), summary="Change a group's settings")
GROUP_ACTIVITY = _ep("search_activity_log", "GET", "/groups/{group_token}/activity_log",
                     (P("group_token"), P("log_type", "truthy"), P("log_method", "truthy"), P("folder_token", "truthy"),
                      P("manifest_token", "truthy"), P("report_token", "truthy"), P("user_email", "truthy"),
                      P("package_name", "truthy"), P("package_version", "truthy"), P("vuln_id", "truthy")),
                     required=("group_token",), summary="Search a group's activity log")

# -- manifests (SBOMs) -----------------------------------------------------------------------
MANIFESTS_LIST = _ep("get_manifests", "GET", "/manifests",
                     (P("folder_token", "not_none"), P("group_token", "not_none", products_wire="product_token")),
                     summary="List SBOMs")
MANIFEST_INFO = _ep("get_manifest_info", "GET", "/manifests/{manifest_token}",
                    (P("sbom_format", "truthy"), P("file_format", "truthy"), P("sbom_version", "truthy")),
                    required=("manifest_token",), summary="An SBOM and its metadata")
MANIFEST_FILE = _ep("get_manifest_file", "GET", "/manifests/{manifest_token}",
                    (P("send_file"), P("sbom_format", "truthy"), P("file_format", "truthy"),
                     P("sbom_version", "truthy")),
                    required=("manifest_token",), raw=True, summary="Download an SBOM file")
MANIFEST_UPLOAD = _ep("upload_manifest", "POST", "/manifests",
                      (P("manifest"), P("filter_results"), P("upload_only"), P("kernel_config", "not_none"),
                       P("manifest_name", "not_none"), P("uboot_config", "not_none"), P("subfolder_name", "not_none"),
                       P("with_field", "not_none", arg="extra_fields"), P("ecosystems", "not_none"),
                       P("subscribe", "not_none"), P("folder_token", "truthy"),
                       P("group_token", "truthy", products_wire="product_token"), P("export_format", "truthy"),
                       P("cyclonedx_format", "truthy"), P("cyclonedx_version", "truthy")),
                      required=("manifest",), summary="Upload an SBOM and scan it")
MANIFEST_RESCAN = _ep("rescan_manifest", "POST", "/manifests/{manifest_token}/reports",
                      (P("manifest", arg="manifest_token"), P("rescan_only"), P("filtered", arg="filter_results"),
                       P("with_field", "not_none", arg="extra_fields")),
                      required=("manifest_token",), summary="Rescan an SBOM, making a new report")
MANIFEST_DELETE = _ep("delete_manifest", "DELETE", "/manifests/{manifest_token}", (P("confirmed"),),
                      required=("manifest_token",), summary="Delete an SBOM")
MANIFEST_REPORTS = _ep("get_report_tokens", "GET", "/manifests/{manifest_token}/reports",
                       required=("manifest_token",), summary="List an SBOM's reports")
MANIFEST_LATEST_REPORT = _ep("get_latest_report", "GET", "/manifests/{manifest_token}/reports/latest",
                             (P("filtered", arg="filter_results"),
                              P("with_field", "not_none", arg="extra_fields")),
                             required=("manifest_token",), summary="The latest report of an SBOM")
MANIFEST_CUSTOM_SCORE = _ep("set_custom_score", "POST", "/manifests/{manifest_token}/custom_scores",
                            (P("package_name", arg="product_name"), P("cve_id"), P("custom_score"),
                             P("package_version", "not_none", arg="product_version")),
                            required=("product_name", "cve_id", "custom_score", "manifest_token"),
                            required_message="product_name, cve_id, custom_score and manifest_token are required",
                            summary="Set a custom score for a CVE in an SBOM")
MANIFESTS_MOVE = _ep("bulk_move_manifests", "POST", "/manifests/bulk-options/move",
                     (P("sbom_tokens"), P("copy"), P("include_history"),
                      P("target_folder_token", "truthy"), P("target_group_token", "truthy")),
                     summary="Move or copy SBOMs to a group or folder")

# -- reports -----------------------------------------------------------------------------
REPORT_DOWNLOAD = _ep("download_report", "GET", "/reports/{report_token}",
                      (P("filtered", arg="filter_results"), P("format"), P("sbom_format", "truthy"),
                       P("sbom_version", "truthy")),
                      required=("report_token",), raw=True, summary="Download a report file")
REPORTS_COMPARE = _ep("compare_reports", "GET", "/reports/compare",
                      (P("token_one"), P("token_two"), P("remove_whitelist"), P("remove_not_affected"),
                       P("filtered", arg="filter_results")),
                      required=("token_one", "token_two"), required_message="token_one and token_two are required",
                      summary="CVEs new and resolved between two reports")

# -- products (LinuxLink era) --------------------------------------------------------------
PRODUCTS_LIST = _ep("get_products", "GET", "/products", summary="List products")
PRODUCT_CREATE = _ep("create_product", "POST", "/products", (P("name", arg="product_name"),
                                                              P("desc", "truthy", arg="product_description")),
                     required=("product_name",), summary="Create a product")
PRODUCT_INFO = _ep("get_product_info", "GET", "/products/{product_token}", required=("product_token",),
                   summary="Information about a product")

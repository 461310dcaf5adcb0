"""CVE lookups and triage statuses."""
from __future__ import annotations

from typing import Any, Optional, Sequence

from timesys.core import endpoints
from timesys.vigiles._defaults import cfg_group_if_none

SCOPES = ("manifest", "group", "all")
STATUSES = ("resolved", "resolved_with_pedigree", "exploitable", "in_triage", "false_positive", "not_affected")
JUSTIFICATIONS = (
    "code_not_present", "code_not_reachable", "requires_configuration", "requires_dependency",
    "requires_environment", "protected_by_compiler", "protected_at_runtime", "protected_at_perimeter",
    "protected_by_mitigating_control",
)
CVE_FIELDS = (
    "affected_configurations", "assigner", "description", "identifier", "impact", "modified", "problem_types",
    "published", "references", "nvd_status", "cisa", "epss",
)


def get_cve_info(cve_id: str, fields: Optional[Sequence[str]] = None) -> Any:
    """Information about `cve_id`, limited to `fields` (see CVE_FIELDS) when given."""
    return endpoints.CVE_INFO.call(cve_id=cve_id, fields=list(fields) if fields is not None else None)


def search_cves_by_product(cpe_product: str, version: str = "", ids_only: bool = False) -> Any:
    """CVEs for a CPE product (and version): a list of ids, or `{cve_id: description}`."""
    return endpoints.CVE_SEARCH.call(cpe_product=cpe_product, version=version, ids_only=ids_only)


def set_status(scope: str, cve_id: str, package_name: str, status: str, justification: Optional[str] = None,
               justification_detail: Optional[str] = None, package_version: Optional[str] = None,
               manifest_tokens: Optional[Sequence[str]] = None, group_tokens: Optional[Sequence[str]] = None) -> Any:
    """Set the triage status of `cve_id` for a package, in SBOMs, groups or everywhere (`scope`)."""
    if scope == "group" and not group_tokens:
        configured = cfg_group_if_none(None)
        group_tokens = [configured] if configured else group_tokens
    return endpoints.CVE_SET_STATUS.call(
        scope=scope, cve_id=cve_id, package_name=package_name, status=status, justification=justification,
        justification_detail=justification_detail, package_version=package_version,
        manifest_tokens=list(manifest_tokens) if manifest_tokens else None,
        group_tokens=list(group_tokens) if group_tokens else None)


def get_vuln_status(cve_id: str, package_name: str, package_version: str, manifest_token: str) -> Any:
    """The triage status of `cve_id` for a package in one SBOM."""
    return endpoints.CVE_GET_STATUS.call(cve_id=cve_id, package_name=package_name, package_version=package_version,
                                         manifest_token=manifest_token)

"""Groups, subgroups, members, settings and the activity log."""
from __future__ import annotations

from typing import Any, Optional, Sequence

from timesys.core import endpoints
from timesys.vigiles._defaults import cfg_folder_if_falsy, cfg_group_if_falsy, cfg_group_if_none

VULN_IDENTIFIERS = ("PURL", "CPE", "CVE Product", "Package Name")
ON_OFF = ("on", "off")
LOG_TYPES = (
    "create_note", "delete_note", "import_note", "update_vuln_status", "import_vuln_status", "update_custom_score",
    "import_custom_score", "create_jira_issue", "delete_jira_issue",
)
LOG_METHODS = ("api", "ui")


def get_groups(include_private_workspaces: bool = False) -> Any:
    return endpoints.GROUPS_LIST.call(include_private_workspaces=include_private_workspaces)


def get_archived_groups() -> Any:
    return endpoints.GROUPS_ARCHIVED.call()


def create_group(group_name: str, group_description: Optional[str] = None, group_token: Optional[str] = None) -> Any:
    """Create a group; with `group_token` (or a dashboard config's group) a subgroup of it."""
    return endpoints.GROUP_CREATE.call(group_name=group_name, group_description=group_description,
                                       group_token=cfg_group_if_none(group_token))


def get_group_info(group_token: Optional[str] = None, subgroups: bool = False) -> Any:
    return endpoints.GROUP_INFO.call(group_token=cfg_group_if_none(group_token), subgroups=subgroups)


def bulk_archive_groups(tokens: Sequence[str]) -> Any:
    return endpoints.GROUPS_ARCHIVE.call(tokens=list(tokens))


def bulk_unarchive_groups(tokens: Sequence[str]) -> Any:
    return endpoints.GROUPS_UNARCHIVE.call(tokens=list(tokens))


def delete_group(group_token: str) -> Any:
    return endpoints.GROUP_DELETE.call(group_token=group_token)


def get_group_members(group_token: str) -> Any:
    return endpoints.GROUP_MEMBERS.call(group_token=group_token)


def add_group_member(group_token: str, member_email: str, role: str, access_subgroups: bool = False) -> Any:
    return endpoints.GROUP_MEMBER_ADD.call(group_token=group_token, member_email=member_email, role=role,
                                           access_subgroups=access_subgroups)


def update_group_member(group_token: str, member_email: str, new_role: str) -> Any:
    return endpoints.GROUP_MEMBER_UPDATE.call(group_token=group_token, member_email=member_email, new_role=new_role)


def remove_group_member(group_token: str, member_email: str) -> Any:
    return endpoints.GROUP_MEMBER_REMOVE.call(group_token=group_token, member_email=member_email)


def get_group_settings(group_token: Optional[str] = None) -> Any:
    return endpoints.GROUP_SETTINGS.call(group_token=cfg_group_if_none(group_token))


def update_group_settings(group_token: Optional[str] = None, vuln_identifiers: Optional[Sequence[str]] = None,
                          vuln_strict_match: Optional[str] = None, report_dep_vulns: Optional[str] = None,
                          auto_close_jira_issues: Optional[str] = None) -> Any:
    """Change the settings given (None leaves a setting unchanged)."""
    return endpoints.GROUP_SETTINGS_UPDATE.call(
        group_token=cfg_group_if_none(group_token),
        vuln_identifiers=list(vuln_identifiers) if vuln_identifiers is not None else None,
        vuln_strict_match=vuln_strict_match, report_dep_vulns=report_dep_vulns,
        auto_close_jira_issues=auto_close_jira_issues)


def search_activity_log(group_token: Optional[str] = None, folder_token: Optional[str] = None,
                        manifest_token: Optional[str] = None, report_token: Optional[str] = None,
                        user_email: Optional[str] = None, package_name: Optional[str] = None,
                        package_version: Optional[str] = None, vuln_id: Optional[str] = None,
                        log_type: Optional[str] = None, log_method: Optional[str] = None) -> Any:
    """Entries of a group's activity log matching every filter given."""
    return endpoints.GROUP_ACTIVITY.call(
        group_token=cfg_group_if_falsy(group_token), folder_token=cfg_folder_if_falsy(folder_token),
        manifest_token=manifest_token, report_token=report_token, user_email=user_email,
        package_name=package_name, package_version=package_version, vuln_id=vuln_id, log_type=log_type,
        log_method=log_method)

"""Folders inside groups."""
from __future__ import annotations

from typing import Any, Optional, Sequence

from timesys.core import endpoints
from timesys.core.llapi import active_client
from timesys.vigiles._defaults import cfg_folder_if_falsy, cfg_group_if_falsy


def _scope(group_token: Optional[str], folder_token: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    """(group, folder) to send: a folder identifies its group, so the group token is only sent without one."""
    folder = cfg_folder_if_falsy(folder_token)
    return (None if folder else cfg_group_if_falsy(group_token)), folder


def get_folders(group_token: Optional[str] = None, folder_token: Optional[str] = None,
                archived_only: bool = False) -> Any:
    """Folders of a group (or below a folder); archived ones only with `archived_only`.

    Products flavour (LinuxLink, era P): the reference sent the configured product token, never the dashboard
    config's folder (vigiles-api.md 4.3.3 "History", 7.2); a folder is sent only when given here.
    """
    if active_client().api == "products":
        folder = folder_token or None
        group = None if folder else cfg_group_if_falsy(group_token)
    else:
        group, folder = _scope(group_token, folder_token)
    return endpoints.FOLDERS_LIST.call(group_token=group, folder_token=folder, archived_only=archived_only)


def create_folder(folder_name: str, description: Optional[str] = None, group_token: Optional[str] = None,
                  folder_token: Optional[str] = None) -> Any:
    """Create a folder in a group, or a subfolder of `folder_token`."""
    group, folder = _scope(group_token, folder_token)
    return endpoints.FOLDER_CREATE.call(folder_name=folder_name, description=description, group_token=group,
                                        folder_token=folder)


def archive_folders(tokens: Sequence[str]) -> Any:
    return endpoints.FOLDERS_ARCHIVE.call(tokens=list(tokens))


def unarchive_folders(tokens: Sequence[str]) -> Any:
    return endpoints.FOLDERS_UNARCHIVE.call(tokens=list(tokens))

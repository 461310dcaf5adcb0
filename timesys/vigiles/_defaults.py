"""Fallbacks to the tokens of the dashboard config, in the two flavours the reference uses."""
from __future__ import annotations

from typing import Optional

import timesys
from timesys.core.llapi import active_client


def cfg_group_if_none(token: Optional[str]) -> Optional[str]:
    return active_client().group_token if token is None else token


def cfg_group_if_falsy(token: Optional[str]) -> Optional[str]:
    return token or active_client().group_token


def cfg_folder_if_falsy(token: Optional[str]) -> Optional[str]:
    return token or active_client().folder_token


def check_string_list(value: object, name: str) -> None:
    """The reference's check for `extra_fields`-style arguments."""
    if value is not None and (not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value)):
        raise timesys.ParameterError(f"parameter '{name}' must be a list of strings")

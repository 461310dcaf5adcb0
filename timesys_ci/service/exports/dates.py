"""Timestamps in the one form every export writes: ISO-8601 UTC with a `Z`."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional


def parse_timestamp(value: object) -> Optional[datetime]:
    """Read an ISO-8601 date or date-time (naive values count as UTC); None if unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).replace(microsecond=0)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def timestamp_or_now(value: object) -> str:
    """`value` normalised to ISO-8601 UTC, or the current time when it is missing or unreadable."""
    parsed = parse_timestamp(value)
    return iso_utc(parsed if parsed is not None else datetime.now(timezone.utc).replace(microsecond=0))

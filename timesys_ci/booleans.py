"""Booleans written as text (environment variables, form fields, Kconfig, exported reports), read one way."""
from __future__ import annotations

from typing import Iterable, Optional

TRUE_WORDS = frozenset({"1", "true", "yes", "on", "y"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", "n"})


def parse_bool(text: str, *, also_false: Iterable[str] = ()) -> Optional[bool]:
    """True/False for a recognised word (any case, surrounding blanks and quotes ignored), else None.

    `also_false` adds words that mean false in one context (e.g. "" or "none" for a Kconfig value).
    """
    word = text.strip().strip('"').lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS or word in also_false:
        return False
    return None

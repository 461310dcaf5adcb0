"""Errors raised by the vulnerability-data layer."""
from __future__ import annotations


class VulnDataError(ValueError):
    """Vulnerability data (a feed file, a record, a CPE) is malformed.

    The message is one line and names the file and record when known.
    """

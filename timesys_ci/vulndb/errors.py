"""Errors raised by the vulnerability-data layer."""
from __future__ import annotations

from timesys import ParameterError


class VulnDataError(ValueError):
    """Vulnerability data (a feed file, a record, a CPE, an archive) is malformed or refused.

    The message is one line and names the file and record when known.
    """


class EnrichmentError(VulnDataError, ParameterError):
    """A KEV or EPSS file that cannot be read; one line naming file and field (exit status 2 from the CLI)."""

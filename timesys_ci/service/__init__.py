"""A local Vigiles-compatible service: real storage, signature checks, every endpoint, CVE matching.

It is the embedded default behind `upload --local`, a debugging peer for client
authors (`--explain-signatures`), and the peer of every end-to-end test. Its web
stack (werkzeug, waitress), the libraries its exports and matcher use for licences
and purls (license-expression, packageurl-python) and cryptography (API keys sealed
at rest) are the optional `service` extra: import the serving modules only after
`require_service_extra()`.
"""
from __future__ import annotations

import importlib.util

from timesys import ConfigurationError

SERVICE_EXTRA_MODULES = ("werkzeug", "waitress", "license_expression", "packageurl", "cryptography")


def require_service_extra(what: str = "the local service") -> None:
    """A configuration error (exit 2) naming the missing package when the `service` extra is not installed."""
    for name in SERVICE_EXTRA_MODULES:
        if importlib.util.find_spec(name) is None:
            raise ConfigurationError(f"{what} needs the service extra ({name} is missing): "
                                     "pip install 'timesys-ci[service]'")

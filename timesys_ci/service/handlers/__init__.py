"""Request handlers, one module per API resource; `HANDLERS` maps endpoint names to them."""
from __future__ import annotations

from typing import Any, Callable

from timesys_ci.service.context import Context
from timesys_ci.service.handlers import cves, folders, groups, manifests, products, reports, utilities

Handler = Callable[[Context], Any]

HANDLERS: dict[str, Handler] = {}
for _module in (utilities, cves, folders, groups, manifests, reports, products):
    HANDLERS.update(_module.HANDLERS)

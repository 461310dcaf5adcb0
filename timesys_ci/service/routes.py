"""URL routing built from the client's endpoint table, so client and service cannot drift apart.

Literal segments (`/groups/archived`, `/reports/compare`, `/manifests/bulk-options/move`)
win over token placeholders: werkzeug orders static parts before converters.
"""
from __future__ import annotations

import re

from werkzeug.routing import Map, Rule

from timesys.core.endpoints import ENDPOINTS

#: Routes that are not API calls: the report page a `report_path` points at.
REPORT_PAGE = "report_page"
INDEX_PAGE = "index_page"


def _rule_path(template: str) -> str:
    return re.sub(r"{(\w+)}", r"<\1>", template)


def build_url_map() -> Map:
    rules: dict[tuple[str, str], Rule] = {}
    for endpoint in ENDPOINTS.values():
        for flavour in ("groups", "products"):
            path = _rule_path(endpoint.resource_template(flavour))
            # get_manifest_info and get_manifest_file share one URL; the first handler serves both.
            rules.setdefault((endpoint.method, path), Rule(path, endpoint=endpoint.name, methods=[endpoint.method]))
    extra = [Rule("/cves/reports/<report_token>", endpoint=REPORT_PAGE, methods=["GET"]),
             Rule("/", endpoint=INDEX_PAGE, methods=["GET"])]
    return Map(list(rules.values()) + extra, strict_slashes=False, merge_slashes=False)

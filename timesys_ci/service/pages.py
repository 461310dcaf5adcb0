"""Human pages: the report page a `report_path` resolves to, and an index.

Report tokens are unguessable, so the page works like a capability URL; the
service listens on loopback unless told otherwise.
"""
from __future__ import annotations

import html
import json

from werkzeug.wrappers import Response

from timesys_ci.report import CATEGORIES
from timesys_ci.service.errors import not_found
from timesys_ci.service.storage import Storage


def report_page(storage: Storage, token: str) -> Response:
    row = storage.report(token)
    if row is None:
        raise not_found("report", token)
    body = json.loads(row["body"])
    counts = body.get("counts", {})
    rows = []
    for package, entries in sorted(body.get("cves", {}).items()):
        for entry in entries:
            rows.append("<tr>" + "".join(f"<td>{html.escape(str(value))}</td>" for value in (
                package, entry.get("version"), entry.get("cve_id"), entry.get("status"), entry.get("severity") or "",
                entry.get("cvss") if entry.get("cvss") is not None else "", entry.get("fixed_version") or "")) + "</tr>")
    summary = ", ".join(f"{key}: {counts.get(key, 0)}" for key in CATEGORIES)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Vigiles report {html.escape(token)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px}}</style>
</head><body><h1>{html.escape(str(body.get('manifest_name', '')))}</h1>
<p>Report {html.escape(token)} of {html.escape(str(body.get('date', '')))}. {html.escape(summary)}</p>
<table><tr><th>Package</th><th>Version</th><th>CVE</th><th>Status</th><th>Severity</th><th>CVSS</th><th>Fixed in</th></tr>
{''.join(rows)}</table></body></html>"""
    return Response(page, mimetype="text/html")


def index_page(storage: Storage) -> Response:
    return Response(json.dumps({"service": "timesys-ci local Vigiles service", "api": "/api/v1/vigiles",
                                "vulnerability_records": storage.vulns.data_summary()["records"]}), mimetype="application/json")

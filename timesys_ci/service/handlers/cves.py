"""CVE lookups and triage statuses."""
from __future__ import annotations

from typing import Any, Optional

from timesys.vigiles.cves import CVE_FIELDS, JUSTIFICATIONS, SCOPES, STATUSES
from timesys_ci.sbom import Package
from timesys_ci.service import access
from timesys_ci.service.context import Context
from timesys_ci.service.errors import bad_request, not_found
from timesys_ci.vulndb.merge import display_record
from timesys_ci.vulndb.record import VulnRecord
from timesys_ci.vulndb.scan import extra_field, package_findings


def _records(ctx: Context, cve_id: str) -> list[VulnRecord]:
    records = ctx.storage.vulns.records_about([cve_id.upper()]).get(cve_id.upper())
    if not records:
        raise not_found("CVE", cve_id)
    return records


def _configurations(records: list[VulnRecord]) -> list[Any]:
    """NVD's configurations, else a CVE JSON 5 record's cpeApplicability."""
    for record in sorted(records, key=lambda item: item.source != "nvd"):
        if record.configurations:
            return list(record.to_json()["configurations"])
    return []


def _field(ctx: Context, record: VulnRecord, records: list[VulnRecord], name: str) -> Any:
    if name == "identifier":
        return record.id
    if name == "nvd_status":
        return next((item.vuln_status for item in records if item.source == "nvd"), None)
    if name == "affected_configurations":
        return _configurations(records)
    if name == "cisa":
        return {"known_exploited": record.kev or bool(ctx.storage.vulns.kev([record.id]))}
    if name == "epss":
        score = ctx.storage.vulns.epss([record.id]).get(record.id)
        return None if score is None else {"score": score}
    return extra_field(record, name)


def get_cve_info(ctx: Context) -> Any:
    cve_id = ctx.arg("cve_id").upper()
    records = _records(ctx, cve_id)
    record = display_record(cve_id, records)
    assert record is not None
    fields = ctx.many("fields") or list(CVE_FIELDS)
    unknown = [name for name in fields if name not in CVE_FIELDS]
    if unknown:
        raise bad_request(f"parameter 'fields' value {unknown[0]!r} is not one of {', '.join(CVE_FIELDS)}")
    return {name: _field(ctx, record, records, name) for name in fields}


def search_cves_by_product(ctx: Context) -> Any:
    product = ctx.required("product")
    version = ctx.one("version", "") or ""
    ids_only = ctx.flag("ids_only")
    vendor, _, name = product.rpartition(":")
    candidates = ctx.storage.vulns.records_for([name.lower()])
    if version:
        package = Package(name=name, version=version, cve_product=[product])
        ids = sorted(package_findings(package, lambda _: candidates, ("CVE Product",), strict=bool(vendor)))
    else:
        ids = sorted({cve_id for record in candidates for cve_id in record.cve_ids})
    if ids_only:
        return ids
    about = ctx.storage.vulns.records_about(ids)
    return {cve_id: getattr(display_record(cve_id, about.get(cve_id, [])), "description", "") for cve_id in ids}


def set_status(ctx: Context) -> Any:
    cve_id = ctx.arg("cve_id").upper()
    scope = ctx.choice("scope", SCOPES)
    status = ctx.choice("status", STATUSES)
    package = ctx.required("package")
    if scope is None or status is None:
        raise bad_request("parameters 'scope' and 'status' are required")
    justification = ctx.choice("justification", JUSTIFICATIONS) or ""
    detail = ctx.one("justification_detail", "") or ""
    version = ctx.one("package_version", "") or ""
    if scope == "manifest":
        targets = ctx.many("manifest_tokens")
        if not targets:
            raise bad_request("scope 'manifest' needs manifest_tokens")
        groups = [access.manifest_for(ctx, token, "write")["group_token"] for token in targets]
    elif scope == "group":
        targets = ctx.many("group_tokens")
        if not targets:
            raise bad_request("scope 'group' needs group_tokens")
        groups = [access.group_for(ctx, token, "write")["token"] for token in targets]
    else:
        targets, groups = [""], [access.workspace_of(ctx)["token"]]
    for target in targets:
        ctx.storage.put_status(cve_id=cve_id, package=package, package_version=version, scope=scope,
                               target_token=target, owner=ctx.email, status=status, justification=justification,
                               detail=detail)
    for group_token, target in zip(groups, targets if scope != "all" else [""]):
        ctx.storage.log_activity(group_token=group_token, log_type="update_vuln_status", user_email=ctx.email,
                                 description=f"{cve_id} in {package} {version}".strip() + f" set to {status}",
                                 manifest_token=target if scope == "manifest" else None, vuln_id=cve_id,
                                 package=package, package_version=version or None)
    return {"success": True, "message": f"status of {cve_id} for {package} set to {status} ({scope})"}


def get_vuln_status(ctx: Context) -> Any:
    cve_id = ctx.arg("cve_id").upper()
    manifest = access.manifest_for(ctx, ctx.required("manifest_token"))
    package, version = ctx.required("package_name"), ctx.required("package_version")
    group_chain = [row["token"] for row in ctx.storage.ancestors(manifest["group_token"])]
    applicable: Optional[Any] = None
    for row in ctx.storage.statuses_for(manifest["token"], group_chain, manifest["owner_email"]):
        if row["cve_id"] == cve_id and row["package"] == package and row["package_version"] in ("", version):
            applicable = row  # most specific last
    if applicable is None:
        return {"cve_id": cve_id, "package_name": package, "package_version": version,
                "manifest_token": manifest["token"], "status": None, "justification": None, "detail": None}
    return {"cve_id": cve_id, "package_name": package, "package_version": version, "manifest_token": manifest["token"],
            "status": applicable["status"], "justification": applicable["justification"] or None,
            "detail": applicable["detail"] or None, "scope": applicable["scope"], "updated": applicable["updated"],
            "user": applicable["owner_email"]}


HANDLERS = {"get_cve_info": get_cve_info, "search_cves_by_product": search_cves_by_product,
            "set_status": set_status, "get_vuln_status": get_vuln_status}

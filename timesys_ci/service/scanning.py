"""Turn a stored SBOM into a stored report: the service's side of upload and rescan."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Optional

from timesys_ci.sbom import Sbom, SbomError, load_sbom
from timesys_ci.service.errors import ServiceError
from timesys_ci.service.storage import Storage, new_token, now
from timesys_ci.vulndb.matcher import record_products
from timesys_ci.vulndb.record import VulnRecord
from timesys_ci.vulndb.scan import EXTRA_FIELDS, extra_field, scan


class _KevLookup:
    """`cve in kev` answered from storage, so the whole catalog is never loaded per scan."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def __contains__(self, cve_id: object) -> bool:
        return isinstance(cve_id, str) and bool(self._storage.kev([cve_id]))


class _EpssLookup(Mapping[str, float]):
    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def __getitem__(self, cve_id: str) -> float:
        return self._storage.epss([cve_id])[cve_id]

    def get(self, cve_id: str, default: Any = None) -> Any:  # type: ignore[override]
        return self._storage.epss([cve_id]).get(cve_id, default)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def parse_manifest(content: str, source: str = "manifest") -> Any:
    """The SBOM, or a 412 naming what is wrong with it (the real service's code for malformed manifests)."""
    try:
        return load_sbom(content, source)
    except SbomError as exc:
        raise ServiceError(412, f"manifest malformed or missing fields: {exc}") from None


def manifest_document(manifest: Optional[Mapping[str, Any]]) -> dict[str, Any]:
    """The stored Vigiles manifest as a JSON object (exports and conversions read it); {} for other formats,
    whose JSON (an SPDX `packages` list, say) the exports cannot read."""
    if manifest is None or manifest["sbom_format"] != "vigiles":
        return {}
    try:
        document = json.loads(manifest["content"])
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


class _RecordCache:
    """Decoded records for one scan: each product and CVE is read from SQLite and parsed once."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._by_product: dict[str, list[VulnRecord]] = {}
        self._by_id: dict[str, VulnRecord] = {}

    def _decode(self, rows: Iterable[str]) -> list[VulnRecord]:
        records = []
        for row in rows:
            record = VulnRecord.from_json(json.loads(row))
            records.append(self._by_id.setdefault(record.id, record))
        return records

    def for_products(self, keys: Iterable[tuple[Optional[str], str]]) -> list[VulnRecord]:
        products = {product for _, product in keys}
        missing = [product for product in products if product not in self._by_product]
        if missing:
            for product in missing:
                self._by_product[product] = []
            for record in self._decode(self._storage.vulns_for_products(missing)):
                for product in {p for _, p in record_products(record)} & set(missing):
                    self._by_product[product].append(record)
        seen: dict[str, VulnRecord] = {}
        for product in sorted(products):
            for record in self._by_product[product]:
                seen.setdefault(record.id, record)
        return list(seen.values())

    def by_id(self, cve_ids: Iterable[str]) -> list[VulnRecord]:
        wanted = set(cve_ids)
        missing = wanted - set(self._by_id)
        if missing:
            self._decode(self._storage.vulns_by_id(missing))
        return [self._by_id[cve] for cve in sorted(wanted) if cve in self._by_id]


def report_body(storage: Storage, manifest: Mapping[str, Any], group: sqlite3.Row, *, report_token: str, seq: int,
                created: str, filtered: bool, sbom: Optional[Sbom] = None) -> dict[str, Any]:
    """Scan `manifest` (`sbom`: its content, if already read) with its group's settings and triage, in the report
    contract's shape."""
    sbom = sbom or parse_manifest(manifest["content"], manifest["name"])
    identifiers = json.loads(group["vuln_identifiers"])
    strict = group["vuln_strict_match"] == "on"
    group_chain = [row["token"] for row in storage.ancestors(group["token"])]
    versions = {package.name: package.version for package in sbom.packages}
    statuses: dict[tuple[str, str], dict[str, Any]] = {}
    for row in storage.statuses_for(manifest["token"], group_chain, manifest["owner_email"]):
        if row["package_version"] in ("", versions.get(row["package"])):
            statuses[(row["cve_id"], row["package"])] = {"status": row["status"],
                                                         "justification": row["justification"] or None}
    custom_scores = {(row["cve_id"], row["package"]): float(row["score"]) for row in storage.custom_scores(manifest["token"])}
    records = _RecordCache(storage)
    result = scan(
        sbom, records.for_products,
        identifiers=identifiers, strict=strict, statuses=statuses, custom_scores=custom_scores,
        kev=_KevLookup(storage),  # type: ignore[arg-type]
        epss=_EpssLookup(storage),
        records_by_id=records.by_id,
    )
    return {
        "manifest_token": manifest["token"],
        "manifest_name": manifest["name"],
        "group_token": group["token"],
        "product_token": group["token"],
        "folder_token": manifest["folder_token"],
        "report_token": report_token,
        "manifest_version": seq,
        "date": created,
        "report_path": f"/cves/reports/{report_token}",
        "group_path": f"/groups/{group['token']}",
        "product_path": f"/groups/{group['token']}",
        "filtered": filtered,
        "counts": result["counts"],
        "cves": result["cves"],
    }


def scan_and_store(storage: Storage, manifest: sqlite3.Row, group: sqlite3.Row, *, filtered: bool) -> dict[str, Any]:
    """A new report of a stored SBOM (rescan). The scan runs outside the write transaction."""
    token, created = new_token("R"), now()
    body = report_body(storage, manifest, group, report_token=token, seq=0, created=created, filtered=filtered)

    def numbered(seq: int) -> dict[str, Any]:
        body["manifest_version"] = seq
        return body

    return storage.add_report(manifest["token"], token, created, numbered)


def with_extra_fields(storage: Storage, body: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """Add the requested CVE fields (`with_field`) to each entry of a stored report."""
    unknown = [name for name in fields if name not in EXTRA_FIELDS]
    if unknown:
        raise ServiceError(400, f"parameter 'with_field' value {unknown[0]!r} is not one of {', '.join(EXTRA_FIELDS)}")
    if not fields:
        return body
    cache: dict[str, Optional[VulnRecord]] = {}
    for entries in body.get("cves", {}).values():
        for entry in entries:
            cve_id = entry["cve_id"]
            if cve_id not in cache:
                raw = storage.vuln(cve_id)
                cache[cve_id] = VulnRecord.from_json(json.loads(raw)) if raw else None
            record = cache[cve_id]
            for name in fields:
                entry[name] = extra_field(record, name) if record else None
    return body

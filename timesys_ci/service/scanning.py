"""Turn a stored SBOM into a stored report: the service's side of upload and rescan."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Optional

from timesys_ci.sbom import Sbom, SbomError, load_sbom
from timesys_ci.service.errors import ServiceError
from timesys_ci.service.filters import filters_statement
from timesys_ci.service.storage import Storage, new_token, now
from timesys_ci.vulndb.match import record_products
from timesys_ci.vulndb.merge import display_record
from timesys_ci.vulndb.record import VulnRecord
from timesys_ci.vulndb.scan import EXTRA_FIELDS, extra_field, scan
from timesys_ci.vulndb.store import VulnStore


class _KevLookup:
    """`cve in kev` answered from the vuln store, so the whole catalog is never loaded per scan."""

    def __init__(self, store: VulnStore) -> None:
        self._store = store

    def __contains__(self, cve_id: object) -> bool:
        return isinstance(cve_id, str) and bool(self._store.kev([cve_id]))


class _EpssLookup(Mapping[str, float]):
    def __init__(self, store: VulnStore) -> None:
        self._store = store

    def __getitem__(self, cve_id: str) -> float:
        return self._store.epss([cve_id])[cve_id]

    def get(self, cve_id: str, default: Any = None) -> Any:  # type: ignore[override]
        return self._store.epss([cve_id]).get(cve_id, default)

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
    """Records for one scan: each product's candidates and each CVE's records are read and decoded once."""

    def __init__(self, store: VulnStore) -> None:
        self._store = store
        self._by_product: dict[str, list[VulnRecord]] = {}
        self._about: dict[str, list[VulnRecord]] = {}

    def for_products(self, products: Iterable[str]) -> list[VulnRecord]:
        wanted = set(products)
        missing = sorted(wanted - set(self._by_product))
        if missing:
            for product in missing:
                self._by_product[product] = []
            for record in self._store.records_for(missing):
                for _, product in record_products(record):
                    if product in self._by_product and product in missing:
                        self._by_product[product].append(record)
        seen: dict[tuple[str, str], VulnRecord] = {}
        for product in sorted(wanted):
            for record in self._by_product[product]:
                seen.setdefault(record.key, record)
        return [seen[key] for key in sorted(seen)]

    def about(self, cve_ids: Iterable[str]) -> dict[str, list[VulnRecord]]:
        wanted = set(cve_ids)
        missing = wanted - set(self._about)
        if missing:
            found = self._store.records_about(missing)
            for cve_id in missing:
                self._about[cve_id] = found.get(cve_id, [])
        return {cve_id: self._about[cve_id] for cve_id in sorted(wanted) if self._about[cve_id]}


def vuln_data(store: VulnStore) -> dict[str, Any]:
    """The `vuln_data` object of a report: which data it was scanned against and when that was updated."""
    return store.data_summary()


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
    store = storage.vulns
    with store.reading():  # one consistent view, even if `db update` swaps the file mid-scan
        records = _RecordCache(store)
        result = scan(
            sbom, records.for_products, records_about=records.about,
            identifiers=identifiers, strict=strict, statuses=statuses, custom_scores=custom_scores,
            kev=_KevLookup(store),  # type: ignore[arg-type]
            epss=_EpssLookup(store),
        )
        data = vuln_data(store)
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
        "filters": filters_statement(manifest, filtered=filtered),  # what was done with the filter inputs
        "counts": result["counts"],
        "cves": result["cves"],
        "vuln_data": data,
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
    cve_ids = {entry["cve_id"] for entries in body.get("cves", {}).values() for entry in entries}
    about = storage.vulns.records_about(cve_ids)
    shown = {cve_id: display_record(cve_id, records) for cve_id, records in about.items()}
    for entries in body.get("cves", {}).values():
        for entry in entries:
            record = shown.get(entry["cve_id"])
            for name in fields:
                entry[name] = extra_field(record, name) if record else None
    return body

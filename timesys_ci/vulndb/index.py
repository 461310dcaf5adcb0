"""In-memory product index over vulnerability records.

Matching a package only needs the records that name one of its products,
so records are bucketed by CPE product once and looked up per package.
The SQLite storage layer implements the same ``records_for`` contract.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Set, Tuple

from timesys_ci.vulndb.matcher import ProductKey, record_products
from timesys_ci.vulndb.record import VulnRecord


class RecordIndex:
    """Records keyed by product (and by id) for :func:`timesys_ci.vulndb.scan.scan`."""

    def __init__(self, records: Iterable[VulnRecord] = ()) -> None:
        self._by_id: Dict[str, VulnRecord] = {}
        self._by_product: Dict[str, List[Tuple[Set[Optional[str]], VulnRecord]]] = {}
        for record in records:
            self.add(record)

    def add(self, record: VulnRecord) -> None:
        """Insert or replace a record (a newer copy of the same id wins)."""
        if record.id in self._by_id:
            self._remove(record.id)
        self._by_id[record.id] = record
        vendors_by_product: Dict[str, Set[Optional[str]]] = {}
        for vendor, product in record_products(record):
            vendors_by_product.setdefault(product, set()).add(vendor)
        for product, vendors in vendors_by_product.items():
            self._by_product.setdefault(product, []).append((vendors, record))

    def _remove(self, record_id: str) -> None:
        for product, bucket in list(self._by_product.items()):
            kept = [entry for entry in bucket if entry[1].id != record_id]
            if kept:
                self._by_product[product] = kept
            else:
                del self._by_product[product]
        del self._by_id[record_id]

    def __len__(self) -> int:
        return len(self._by_id)

    def records_for(self, products: Iterable[ProductKey]) -> List[VulnRecord]:
        """Records naming any (vendor, product); vendor None matches any vendor, and a
        record whose CPE leaves the vendor open matches any requested vendor."""
        found: Dict[str, VulnRecord] = {}
        for vendor, product in products:
            for vendors, record in self._by_product.get(product, ()):
                if vendor is None or vendor in vendors or None in vendors:
                    found.setdefault(record.id, record)
        return [found[key] for key in sorted(found)]

    def records_by_id(self, ids: Iterable[str]) -> List[VulnRecord]:
        return [self._by_id[key] for key in sorted(set(ids)) if key in self._by_id]

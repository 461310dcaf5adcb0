"""In-memory candidate lookup over vulnerability records (tests, benchmarks, one-off scans).

Matching a package only needs the records that name one of its products, so records
are bucketed by product once. :class:`~timesys_ci.vulndb.store.VulnStore` implements
the same two lookups over SQLite; both feed :func:`timesys_ci.vulndb.scan.scan`.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Set, Tuple

from timesys_ci.vulndb.match import record_products
from timesys_ci.vulndb.record import VulnRecord


class RecordIndex:
    """Records keyed by product and by CVE id; a newer copy of the same (source, id) replaces the older."""

    def __init__(self, records: Iterable[VulnRecord] = ()) -> None:
        self._records: Dict[Tuple[str, str], VulnRecord] = {}
        self._by_product: Dict[str, Set[Tuple[str, str]]] = {}
        self._by_cve: Dict[str, Set[Tuple[str, str]]] = {}
        for record in records:
            self.add(record)

    def add(self, record: VulnRecord) -> None:
        self.remove(record.key)
        self._records[record.key] = record
        for _, product in record_products(record):
            self._by_product.setdefault(product, set()).add(record.key)
        for cve_id in {record.id, *record.cve_ids}:
            self._by_cve.setdefault(cve_id, set()).add(record.key)

    def remove(self, key: Tuple[str, str]) -> None:
        if self._records.pop(key, None) is None:
            return
        for buckets in (self._by_product, self._by_cve):
            for name in [name for name, keys in buckets.items() if key in keys]:
                buckets[name].discard(key)
                if not buckets[name]:
                    del buckets[name]

    def __len__(self) -> int:
        return len(self._records)

    def records_for(self, products: Iterable[str]) -> List[VulnRecord]:
        """Records indexed under any of the product names, ordered by (source, id)."""
        keys = {key for product in products for key in self._by_product.get(product, ())}
        return [self._records[key] for key in sorted(keys)]

    def records_about(self, cve_ids: Iterable[str]) -> Dict[str, List[VulnRecord]]:
        """CVE id -> every record about it (NVD, CVE JSON 5, OSV advisories naming it)."""
        found = {}
        for cve_id in sorted(set(cve_ids)):
            keys = sorted(self._by_cve.get(cve_id, ()))
            if keys:
                found[cve_id] = [self._records[key] for key in keys]
        return found

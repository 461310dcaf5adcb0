"""The store's matcher: the reference verdicts, built from prepared rows in a few bulk queries.

It answers what :class:`timesys_ci.vulndb.scan.Matcher` answers — each package's findings,
what is shown for each CVE — for a whole SBOM at once (design: :mod:`timesys_ci.vulndb.store`):

1. every (product, version) a package is matched under becomes a *slot*; the version's key in
   each space is joined with the span index, giving the spans that hold it;
2. records with a span that may say "affected" name the CVEs worth deciding; for those, every
   record about the CVE that is a candidate for the package is read as its plan;
3. each such record's verdicts are rebuilt from its plan and the spans (the same rules as
   :func:`~timesys_ci.vulndb.match.record_verdicts`, which decides instead when the store
   says so: fallback records, versions with no key in a space, odd package names);
4. :func:`~timesys_ci.vulndb.merge.merge` — the reference one — makes the findings.

Verdicts here carry a small :class:`RecordRef` (what merge reads: key, last modified) instead
of the record, and no matching criterion text.
"""
from __future__ import annotations

import marshal
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from timesys_ci.sbom.model import Package
from timesys_ci.vulndb.cpe import value_matches
from timesys_ci.vulndb.keys import nvd_key, version_key
from timesys_ci.vulndb.match import Probe, Verdict, package_probes, record_verdicts
from timesys_ci.vulndb.merge import MergedFinding, display_record, merge
from timesys_ci.vulndb.prepare import (
    ALWAYS,
    CVE5_KNOWN,
    CVE5_SPACES,
    CVE5_UNKNOWN,
    LISTED,
    NVD,
    ORDERS_BY_NAME,
    OSV_KNOWN,
    OSV_SPACES,
    PLAN_COMMITS,
    PLAN_CONFIG,
    PLAN_CVE5,
    PLAN_CVES,
    ORDER_LIST,
    PLAN_FULL,
    PLAN_INDEX,
    PLAN_OSV,
    _literal,
)
from timesys_ci.vulndb.scan import Shown, package_findings
from timesys_ci.vulndb.store import VulnStore
from timesys_ci.vulndb.versions import GENERIC, KERNEL, ecosystem_order, is_unknown_version

_ANY_KEY = b"\x00"  # any key inside [LOWEST, HIGHEST): for the spaces that hold every version
_CONFIG_SPACES = frozenset({NVD, ALWAYS})
_CVE5_SPACES = frozenset({*CVE5_SPACES.values(), CVE5_KNOWN, CVE5_UNKNOWN})
_OSV_SPACES = frozenset({*OSV_SPACES.values(), OSV_KNOWN})


class RecordRef:
    """What :func:`~timesys_ci.vulndb.merge.merge` reads of a record."""

    __slots__ = ("source", "id", "last_modified")

    def __init__(self, source: str, record_id: str, last_modified: Optional[str]) -> None:
        self.source, self.id, self.last_modified = source, record_id, last_modified

    @property
    def key(self) -> Tuple[str, str]:
        return (self.source, self.id)


@dataclass
class _Job:
    """One package of the scan."""

    package: Package
    identifiers: Sequence[str]
    probes: List[Probe]
    products: Set[str]
    slots: Dict[Tuple[str, str], int] = field(default_factory=dict)  # (product, version) -> slot
    osv_slots: Dict[str, int] = field(default_factory=dict)  # product -> slot of the package's own version
    keyless: Set[Tuple[str, int]] = field(default_factory=set)  # (product, space) the version has no key in
    bases: Set[str] = field(default_factory=set)  # OSV ecosystems of the package URL (lower case)
    full: Set[int] = field(default_factory=set)  # records the reference matcher decides
    reference_only: bool = False
    distinct: List[Probe] = field(default_factory=list)  # the probes that can decide differently


def _vendor_ok(vendor: Optional[str], probe: Probe, strict: bool) -> bool:
    return not (strict and probe.vendor and not value_matches(vendor or "*", probe.vendor))


def _purl_bases(package: Package) -> Set[str]:
    if not package.purl:
        return set()
    from timesys_ci.sbom.purl import parse_purl  # packageurl-python is in the service extra
    from timesys_ci.vulndb.products import purl_ecosystem

    purl = parse_purl(package.purl)  # None for a purl that does not parse
    ecosystem = purl_ecosystem(purl) if purl is not None else None
    return {ecosystem[0].lower()} if ecosystem else set()


class StoreMatcher:
    """:class:`timesys_ci.vulndb.scan.Matcher` over a :class:`VulnStore`'s prepared tables (use inside
    ``store.reading()``)."""

    shows_unmatched = True

    def __init__(self, store: VulnStore) -> None:
        self._store = store
        self._shown: Dict[str, Shown] = {}

    # -- findings ------------------------------------------------------------------------------------------

    def findings(self, packages: Sequence[Package], identifiers: Sequence[str],
                 strict: bool) -> List[Dict[str, MergedFinding]]:
        store = self._store
        jobs = [self._job(package, identifiers, strict) for package in packages]
        pids = store.product_ids({product for job in jobs for product in job.products})
        probes: List[Tuple[int, int, int, bytes]] = []
        slot_job: List[int] = []
        for index, job in enumerate(jobs):
            if not job.reference_only:
                self._probe_rows(index, job, pids, probes, slot_job)
        spans: Dict[int, Dict[int, List[Tuple[int, int, Any]]]] = {}  # rid -> slot -> [(space, part, value)]
        affected: Set[Tuple[int, int]] = set()  # (job, rid) whose spans may say affected
        for slot, rid, space, part, raw in store.spans_at(probes):
            value = marshal.loads(raw)
            spans.setdefault(rid, {}).setdefault(slot, []).append((space, part, value))
            job_index = slot_job[slot]
            if _may_affect(space, value, jobs[job_index].package.match_version):
                affected.add((job_index, rid))
        self._mark_full(jobs, pids)
        full_records = store.records_by_rid({rid for job in jobs for rid in job.full})
        verdicts_of: List[Dict[int, List[Verdict]]] = [{} for _ in jobs]
        hits: List[Tuple[int, str]] = []
        for index, job in enumerate(jobs):
            for rid in job.full:
                record = full_records[rid]
                verdicts = verdicts_of[index][rid] = record_verdicts(record, job.package, job.probes, strict)
                if any(verdict.affected for verdict in verdicts):
                    hits += [(index, cve_id) for cve_id in record.cve_ids]
        job_products = [(index, pids[product]) for index, job in enumerate(jobs) if not job.reference_only
                        for product in job.products if product in pids]
        deciding = store.deciding_records([pair for pair in affected if pair[1] not in jobs[pair[0]].full], hits,
                                          job_products)
        records = store.record_plans({rid for _, _, rid in deciding})
        by_job: Dict[int, Dict[str, List[int]]] = {}
        for index, cve_id, rid in deciding:
            by_job.setdefault(index, {}).setdefault(cve_id, []).append(rid)
        results: List[Dict[str, MergedFinding]] = []
        for index, job in enumerate(jobs):
            if job.reference_only:
                results.append(self._reference(job, strict))
                continue
            found: Dict[str, MergedFinding] = {}
            memo = verdicts_of[index]
            for cve_id, rids in by_job.get(index, {}).items():
                verdicts: List[Verdict] = []
                if len(rids) > 1:
                    rids.sort(key=lambda rid: records[rid][0])
                for rid in rids:
                    if rid not in memo:
                        memo[rid] = _verdicts(records[rid], job, spans.get(rid, {}), strict)
                    verdicts += memo[rid]
                merged = merge(cve_id, job.package.match_version, verdicts) if verdicts else None
                if merged is not None:
                    found[cve_id] = merged
            results.append(found)
        return results

    def _job(self, package: Package, identifiers: Sequence[str], strict: bool) -> _Job:
        probes = package_probes(package, identifiers, strict)
        job = _Job(package, identifiers, probes, {probe.product for probe in probes})
        job.reference_only = not all(_literal(product) for product in job.products)
        # Probes naming the same product and version decide alike (the first one's verdict stands), unless a
        # strict match tells their vendors apart.
        seen: Set[Tuple[Any, ...]] = set()
        for probe in probes:
            key = (probe.product, probe.version, probe.vendor if strict else None)
            if key not in seen:
                seen.add(key)
                job.distinct.append(probe)
        job.bases = _purl_bases(package)
        return job

    @staticmethod
    def _probe_rows(index: int, job: _Job, pids: Mapping[str, int], rows: List[Tuple[int, int, int, bytes]],
                    slot_job: List[int]) -> None:
        def slot() -> int:
            slot_job.append(index)
            return len(slot_job) - 1

        for probe in job.probes:
            if (probe.product, probe.version) in job.slots or probe.product not in pids:
                continue
            number = job.slots[(probe.product, probe.version)] = slot()
            pid, version = pids[probe.product], probe.version
            key = nvd_key(version)
            if key is not None:
                rows.append((number, pid, NVD, key))
            rows.append((number, pid, ALWAYS, _ANY_KEY))
            if is_unknown_version(version):
                rows.append((number, pid, CVE5_UNKNOWN, _ANY_KEY))
                continue
            rows.append((number, pid, CVE5_KNOWN, _ANY_KEY))
            for name, space in CVE5_SPACES.items():
                key = version_key(ORDERS_BY_NAME[name], version)
                if key is None:
                    job.keyless.add((probe.product, space))
                else:
                    rows.append((number, pid, space, key))
        version = job.package.match_version
        if is_unknown_version(version):
            return
        for product in sorted(job.products):
            if product not in pids:
                continue
            number = job.osv_slots[product] = slot()
            rows.append((number, pids[product], OSV_KNOWN, _ANY_KEY))
            for name, space in OSV_SPACES.items():
                key = version_key(ORDERS_BY_NAME[name], version)
                if key is None:
                    job.keyless.add((product, space))
                else:
                    rows.append((number, pids[product], space, key))

    def _mark_full(self, jobs: Sequence[_Job], pids: Mapping[str, int]) -> None:
        """The records the reference matcher decides, per package."""
        by_pid: Dict[int, List[Tuple[str, int]]] = {}
        for pid, tag, rid in self._store.fallback_for(pid for job in jobs for product in job.products
                                                     if (pid := pids.get(product)) is not None):
            by_pid.setdefault(pid, []).append((tag, rid))
        keyless = sorted({(pids[product], space) for job in jobs for product, space in job.keyless if product in pids})
        spanned: Dict[Tuple[int, int], List[int]] = {}
        for pid, space, rid in self._store.spanned(keyless) if keyless else ():
            spanned.setdefault((pid, space), []).append(rid)
        maybe: Dict[int, Set[int]] = {}
        for index, job in enumerate(jobs):
            for product in job.products:
                pid = pids.get(product)
                for tag, rid in by_pid.get(pid, ()) if pid is not None else ():
                    if not tag or tag in job.bases:
                        job.full.add(rid)
            for product, space in job.keyless:
                if product in pids:
                    maybe.setdefault(index, set()).update(spanned.get((pids[product], space), ()))
        records = self._store.record_plans({rid for rids in maybe.values() for rid in rids})
        for index, rids in maybe.items():  # OSV spans may sit under names a record is not a candidate under
            jobs[index].full.update(rid for rid in rids if _candidate(records[rid][2], jobs[index]))

    def _reference(self, job: _Job, strict: bool) -> Dict[str, MergedFinding]:
        return package_findings(job.package, self._store.records_for, job.identifiers, strict)

    # -- shown facts ------------------------------------------------------------------------------------

    def load_shown(self, cve_ids: Set[str], with_records: bool) -> None:
        about = self._store.records_about(cve_ids) if with_records else {}
        self._shown = {}
        for cve_id, (fields, record_kev, catalog_kev, score) in self._store.shown(cve_ids).items():
            record = display_record(cve_id, about.get(cve_id, ())) if with_records else None
            self._shown[cve_id] = Shown(tuple(fields), bool(record_kev) or catalog_kev, score, record)

    def shown(self, cve_id: str, finding: Optional[MergedFinding]) -> Optional[Shown]:
        return self._shown.get(cve_id)


# -- verdicts from a plan and the spans holding the package's versions -----------------------------------------

def _may_affect(space: int, value: Any, version: str) -> bool:
    if space in _CONFIG_SPACES:
        return True
    if space in _CVE5_SPACES:
        return value[0] == 1  # affected
    if value[0] == LISTED:
        return value[1] == version
    return bool(value[1])


def _candidate(plan: Sequence[Any], job: _Job) -> bool:
    """Whether the record is indexed under one of the package's products (OSV spans sit under more names)."""
    index = plan[PLAN_INDEX]
    return not index or not job.products.isdisjoint(index)


def _criterion(value: Any) -> Tuple[Optional[str], int, Any]:
    """(fix, number of the criterion's product/vendor in the plan, kernel branch) of an NVD span value."""
    return value if isinstance(value, tuple) else (value, 0, None)


def _verdicts(record: Tuple[Tuple[str, str], Optional[str], Sequence[Any]], job: _Job,
              spans: Mapping[int, List[Tuple[int, int, Any]]], strict: bool) -> List[Verdict]:
    (source, record_id), modified, plan = record
    if plan[PLAN_FULL]:
        raise AssertionError("a fallback record reached the prepared path")  # marked full before
    ref = RecordRef(source, record_id, modified)
    if source == "nvd":
        verdict = _config_verdict(ref, plan, job, spans, strict)
        return [verdict] if verdict else []
    if source == "cve5":
        return _cve5_verdicts(ref, plan, job, spans, strict)
    if source == "osv":
        verdict = _osv_verdict(ref, plan, job, spans)
        return [verdict] if verdict else []
    return []


def _config_verdict(ref: RecordRef, plan: Sequence[Any], job: _Job, spans: Mapping[int, List[Tuple[int, int, Any]]],
                    strict: bool) -> Optional[Verdict]:
    """:func:`~timesys_ci.vulndb.match._configurations_verdict` for plain OR configurations."""
    config = plan[PLAN_CONFIG]
    if config is None:
        return None
    source, kernel_cna, named, branches = config
    opinion: Optional[Probe] = None
    for probe in job.distinct:
        if not any(product == probe.product and _vendor_ok(vendor, probe, strict) for product, vendor in named):
            continue
        opinion = opinion or probe
        slot = job.slots.get((probe.product, probe.version))
        criteria = [(part, _criterion(value)) for space, part, value in spans.get(slot, ()) if space in _CONFIG_SPACES] \
            if slot is not None else []
        if kernel_cna and probe.product == "linux_kernel":
            branch = KERNEL.branch(probe.version)
            own = branch in branches
            hits = [] if branch is None else [item for item in criteria if
                                              (item[1][2] == branch if own else item[1][2] is None)]
        else:
            hits = [item for item in criteria if _vendor_ok(named[item[1][1]][1], probe, strict)]
        if hits:
            if len(hits) > 1:
                hits.sort(key=lambda item: item[0])
            fixes = tuple(dict.fromkeys(value[0] for _, value in hits if value[0]))
            return Verdict(ref, source, True, probe.identifier, fixed_versions=fixes,  # type: ignore[arg-type]
                           fix_commits=tuple(plan[PLAN_COMMITS]),
                           order=KERNEL if probe.product == "linux_kernel" else GENERIC)
    if opinion is None:
        return None
    return Verdict(ref, source, False, opinion.identifier)  # type: ignore[arg-type]


def _cve5_verdicts(ref: RecordRef, plan: Sequence[Any], job: _Job, spans: Mapping[int, List[Tuple[int, int, Any]]],
                   strict: bool) -> List[Verdict]:
    """:func:`~timesys_ci.vulndb.match.cve5_verdict` from the painted entries."""
    verdicts: Dict[str, Verdict] = {}
    for probe in job.distinct:
        slot = job.slots.get((probe.product, probe.version))
        answers = {part: value for space, part, value in spans.get(slot, ()) if space in _CVE5_SPACES} \
            if slot is not None else {}
        for index, (provider, names) in enumerate(plan[PLAN_CVE5]):
            answer = answers.get(index)
            if answer is None or not any(
                    product == probe.product and not (strict and probe.vendor and vendor and vendor != probe.vendor)
                    for vendor, product in names):
                continue
            status, fixes, order = answer
            source = f"cve5:{provider}"
            earlier = verdicts.get(source)
            if earlier is not None and (earlier.affected or not status):
                continue
            verdicts[source] = Verdict(ref, source, bool(status), probe.identifier,  # type: ignore[arg-type]
                                       fixed_versions=tuple(fixes) if status else (),
                                       fix_commits=tuple(plan[PLAN_COMMITS]) if status else (),
                                       order=ORDER_LIST[order])
    if plan[PLAN_CONFIG] is not None:
        source = plan[PLAN_CONFIG][0]
        applicability = _config_verdict(ref, plan, job, spans, strict)
        earlier = verdicts.get(source)
        if applicability is not None and (earlier is None or (applicability.affected and not earlier.affected)):
            verdicts[source] = applicability
    return [verdicts[key] for key in sorted(verdicts)] if len(verdicts) > 1 else list(verdicts.values())


def _osv_verdict(ref: RecordRef, plan: Sequence[Any], job: _Job,
                 spans: Mapping[int, List[Tuple[int, int, Any]]]) -> Optional[Verdict]:
    """:func:`~timesys_ci.vulndb.match.osv_verdict` for upstream entries (distribution ones went to the full
    matcher when the package URL is of their ecosystem, and never apply otherwise)."""
    opinion: Optional[Verdict] = None
    version = job.package.match_version
    if is_unknown_version(version):
        return None
    for index, (ecosystem, names) in enumerate(plan[PLAN_OSV]):
        if names is None or job.products.isdisjoint(names):
            continue
        said: Optional[bool] = None
        fixes: Tuple[str, ...] = ()
        listed = False
        slot = next((job.osv_slots[name] for name in names if name in job.osv_slots), None)
        for space, part, value in spans.get(slot, ()) if slot is not None else ():
            if part != index or space not in _OSV_SPACES:
                continue
            if value[0] == LISTED:
                listed = listed or value[1] == version
            else:
                said, fixes = value[1], tuple(value[2])
        if listed:
            said = True
        if said is None:
            continue
        verdict = Verdict(ref, f"osv:{ecosystem}" if ecosystem else "osv", said,  # type: ignore[arg-type]
                          job.probes[0].identifier if job.probes else "", fixed_versions=fixes if said else (),
                          fix_commits=tuple(plan[PLAN_COMMITS]) if said else (), order=ecosystem_order(ecosystem))
        if said:
            return verdict
        opinion = opinion or verdict
    return opinion

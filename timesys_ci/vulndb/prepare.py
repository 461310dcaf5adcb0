"""Records prepared for matching ahead of time: the rows the store's range index holds.

A scan must not decode every candidate record (a 5,000-package image has hundreds of
thousands), so at import each record is prepared once into:

* **spans** — ``(product, space, lo, hi, part, value)``: for package versions whose key
  (:mod:`timesys_ci.vulndb.keys`) in ``space`` lies in ``[lo, hi)``, part ``part`` of the
  record says ``value``. NVD criteria (and CVE JSON 5 ``cpeApplicability``) give one span
  per vulnerable criterion (its bounds; value: the fix it names, its vendor, its kernel
  branch). A CVE JSON 5 ``affected`` entry and an OSV entry are *painted*: the version axis
  is cut at every version the entry names, and :func:`~timesys_ci.vulndb.match.cve5_status`
  / :func:`~timesys_ci.vulndb.match.osv_entry_outcome` themselves are run once per piece
  with a comparison that answers for the whole piece (:class:`_PieceComparisons`); equal
  neighbours are joined. So the spans say what the reference rules say, by construction.
* **plan** — what the verdict needs besides the spans: source, id, last modified, fix
  commits, the CVEs it speaks for, the names each part applies to.
* **facts** — the fields a report shows for the record's CVEs (scores, severity text, KEV).
* **fallback** — products (with a tag) under which the record is matched by the full
  reference matcher instead: records the spans cannot describe (negated or AND
  configurations, wildcard product names, mixed version orders, versions with no key,
  CNA ``changes`` that cannot be placed) get tag ``""``; OSV entries of a distribution get
  the ecosystem, since they apply only to packages whose package URL is of it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from timesys_ci.vulndb.cpe import ANY, NA, CpeError
from timesys_ci.vulndb.keys import HIGHEST, LOWEST, above, has_keys, nvd_key, version_key, wildcard_limit
from timesys_ci.vulndb.match import (
    _DISTRO_COLLECTIONS,
    KERNEL_CNA,
    Comparisons,
    _affected_names,
    _cpe_version,
    _kernel_branch,
    _osv_entry_names,
    cve5_status,
    osv_entry_outcome,
    record_products,
    tag_version,
)
from timesys_ci.vulndb.products import UPSTREAM_ECOSYSTEMS
from timesys_ci.vulndb.record import Affected, Configuration, CvssScore, VulnRecord
from timesys_ci.vulndb.versions import (
    GENERIC,
    KERNEL,
    OPENSSL,
    SEMVER,
    Version,
    VersionOrder,
    at_most_wildcard,
    compare,
    ecosystem_order,
    is_unknown_version,
    is_wildcard,
    order_for,
)

# Spaces: which key of the package version a span is compared with.
NVD = 0  # criteria with bounds: the generic key without the epoch (NVD bounds carry none)
ALWAYS = 1  # criteria without bounds: every version, known or not
CVE5_SPACES = {GENERIC.name: 2, KERNEL.name: 3, SEMVER.name: 4, OPENSSL.name: 5}
CVE5_KNOWN = 6  # an entry whose answer needs no comparison: every version that is not "unknown"
CVE5_UNKNOWN = 7  # what an entry says about an unknown version ("custom", "unset")
OSV_SPACES = {GENERIC.name: 8, KERNEL.name: 9, SEMVER.name: 10, OPENSSL.name: 11}
OSV_KNOWN = 12
SPACE_ORDERS = {space: name for spaces in (CVE5_SPACES, OSV_SPACES) for name, space in spaces.items()}
ORDERS_BY_NAME = {order.name: order for order in (GENERIC, KERNEL, SEMVER, OPENSSL)}

PAINTED = 0  # span value kinds of OSV entries
LISTED = 1  # the entry's `versions` list names this exact text

Span = Tuple[str, int, bytes, bytes, int, Any]


class NotPrepared(Exception):
    """The record needs the full matcher."""


@dataclass
class Prepared:
    plan: Tuple[Any, ...]
    facts: Tuple[Any, ...]
    names: List[str]  # products the record is indexed under (what `records_for` looks up)
    spans: List[Span] = field(default_factory=list)
    fallback: List[Tuple[str, str]] = field(default_factory=list)  # (product, tag)


# -- the plan: a tuple, so it stores compactly (marshal) and reads fast -----------------------------------

PLAN_COMMITS, PLAN_CVES, PLAN_CONFIG, PLAN_CVE5, PLAN_OSV, PLAN_INDEX, PLAN_FULL = range(7)
#: CVE JSON 5 span values: (status, fixes, order) with the status and order as small numbers.
STATUSES = ("unaffected", "affected")
ORDER_LIST = (GENERIC, KERNEL, SEMVER, OPENSSL)
_ORDER_CODES = {order.name: code for code, order in enumerate(ORDER_LIST)}


def _cvss(score: Optional[CvssScore]) -> Optional[Tuple[str, float, str, Optional[str]]]:
    return (score.version, score.score, score.vector, score.severity) if score else None


def facts_of(record: VulnRecord) -> Tuple[Any, ...]:
    """What the report shows of a record: (cvss v2, v3, v4, severity text, kev)."""
    return (_cvss(record.cvss_v2), _cvss(record.cvss_v3), _cvss(record.cvss_v4), record.severity_text, record.kev)


def record_of_facts(source: str, record_id: str, facts: Sequence[Any]) -> VulnRecord:
    """A record holding only the shown fields (for :func:`~timesys_ci.vulndb.merge.display_record`)."""
    v2, v3, v4, severity_text, kev = facts
    return VulnRecord(id=record_id, source=source, cvss_v2=CvssScore(*v2) if v2 else None,
                      cvss_v3=CvssScore(*v3) if v3 else None, cvss_v4=CvssScore(*v4) if v4 else None,
                      severity_text=severity_text, kev=bool(kev))


def prepare(record: VulnRecord) -> Prepared:
    names = sorted({product for _, product in record_products(record)})
    cve_ids = tuple(record.cve_ids)
    base = (tuple(record.fix_commits), () if cve_ids == (record.id,) else cve_ids)
    prepared = Prepared(plan=(), facts=facts_of(record), names=names)
    try:
        config = _prepare_configurations(record, prepared.spans)
        cve5 = tuple(_prepare_cve5_entry(index, entry, prepared.spans) for index, entry in enumerate(record.affected)) \
            if record.source == "cve5" else ()
        osv: Tuple[Any, ...] = ()
        if record.source == "osv":
            osv = tuple(_prepare_osv_entry(index, entry, prepared) for index, entry in enumerate(record.affected))
    except NotPrepared:
        prepared.spans.clear()
        prepared.fallback = [(name, "") for name in names]
        prepared.plan = (*base, None, (), (), (), True)
        return prepared
    prepared.fallback = [(name, tag) for tag in sorted({tag for _, tag in prepared.fallback}) for name in names]
    index_names = tuple(names) if record.source == "osv" else ()
    prepared.plan = (*base, config, cve5, osv, index_names, False)
    return prepared


# -- NVD configurations (and CVE JSON 5 cpeApplicability) ---------------------------------------------------

def _configuration_source(record: VulnRecord) -> Tuple[str, bool]:
    if record.source == "nvd":
        return "nvd", False
    provider = record.provenance.get("configurations", record.assigner or "cna")
    return f"cve5:{provider}", provider.lower() == KERNEL_CNA


def _check_structure(configurations: Sequence[Configuration]) -> None:
    """Only plain OR logic is prepared: the hits are then every criterion that contains the version."""
    for config in configurations:
        relevant_nodes = 0
        if config.negate:
            raise NotPrepared
        for node in config.nodes:
            relevant = [match for match in node.matches if match.vulnerable and not match.is_platform]
            if node.negate:
                raise NotPrepared
            if not relevant:
                continue
            relevant_nodes += 1
            if node.operator == "AND" and len(relevant) > 1:
                raise NotPrepared
        if config.operator == "AND" and relevant_nodes > 1:
            raise NotPrepared


def _literal(name: str) -> bool:
    return bool(name) and name not in (ANY, NA) and not any(char in name for char in "*?\\")


def _criterion_span(exact: Optional[str], bounds: Sequence[Tuple[str, Optional[str]]]) -> Optional[Tuple[int, bytes, bytes]]:
    """The span of one criterion, as :func:`~timesys_ci.vulndb.versions.in_range` reads its bounds."""
    if all(is_unknown_version(bound) for bound in (exact, *(bound for _, bound in bounds))):
        return ALWAYS, LOWEST, HIGHEST
    lo, hi = LOWEST, HIGHEST
    for kind, bound in (("exact", exact), *bounds):
        if bound is None:
            continue
        parsed = Version(bound)
        if not parsed.known:
            continue  # an unknown bound does not constrain
        if parsed.epoch:
            raise NotPrepared  # the package's epoch would count: rare enough for the full matcher
        key = nvd_key(bound)
        if key is None:
            raise NotPrepared
        if kind in ("exact", "start_including"):
            lo = max(lo, key)
        if kind in ("exact", "end_including"):
            hi = min(hi, above(key))
        if kind == "start_excluding":
            lo = max(lo, above(key))
        if kind == "end_excluding":
            hi = min(hi, key)
    return (NVD, lo, hi) if lo < hi else None


def _prepare_configurations(record: VulnRecord, spans: List[Span]) -> Optional[Tuple[Any, ...]]:
    if not record.configurations:
        return None
    _check_structure(record.configurations)
    source, kernel_cna = _configuration_source(record)
    named: Dict[Tuple[str, str], int] = {}  # (product, vendor) -> its number, in order
    branches: Set[Tuple[int, ...]] = set()
    seq = -1
    for config in record.configurations:
        for node in config.nodes:
            for match in node.matches:
                seq += 1
                try:
                    cpe = match.cpe
                except CpeError:
                    raise NotPrepared from None
                if not match.vulnerable or cpe.part == "h":
                    continue
                if not _literal(cpe.product):
                    raise NotPrepared
                vendor = named.setdefault((cpe.product, cpe.vendor), len(named))
                branch = _kernel_branch(match) if kernel_cna and cpe.product == "linux_kernel" else None
                if branch is not None:
                    branches.add(branch)
                exact = None if cpe.version in (ANY, NA) else _cpe_version(cpe)
                span = _criterion_span(exact, (("start_including", match.version_start_including),
                                               ("start_excluding", match.version_start_excluding),
                                               ("end_including", match.version_end_including),
                                               ("end_excluding", match.version_end_excluding)))
                if span is not None:  # the value: the fix, or (fix, number of the product/vendor, kernel branch)
                    value = match.version_end_excluding if not vendor and branch is None \
                        else (match.version_end_excluding, vendor, branch)
                    spans.append((cpe.product, span[0], span[1], span[2], seq, value))
    return (source, kernel_cna, tuple(named), tuple(sorted(branches)))


# -- painting: the reference rules run once per piece of the version axis ----------------------------------

class _Probe(str):
    """The package's version while a record is prepared: it stands for every version of one piece."""


PROBE = _Probe("\x00version\x00")


class _PieceComparisons(Comparisons):
    """Comparisons with :data:`PROBE` answered for one piece of the axis cut at ``cuts`` (sorted keys).

    Piece ``2*j + 1`` is the single key ``cuts[j]``; piece ``2*j`` the keys strictly between
    ``cuts[j-1]`` and ``cuts[j]``. Any comparison the cuts cannot answer (another order, a version
    without a key, a bound that is not a cut) raises :class:`NotPrepared`.
    """

    def __init__(self, order: VersionOrder, ranks: Dict[str, int], wildcard_ranks: Dict[str, int]) -> None:
        self.order = order
        self.ranks, self.wildcard_ranks = ranks, wildcard_ranks  # text -> index of its key among the cuts
        self.piece = 0
        self.asked = False

    def _below(self, index: Optional[int]) -> int:
        """-1, 0 or 1 as the cut ``index`` is below, at or above the piece."""
        if index is None:
            raise NotPrepared
        self.asked = True
        at, point = divmod(self.piece, 2)
        if point:
            return (index > at) - (index < at)
        return -1 if index < at else 1

    def compare(self, order: VersionOrder, a: str, b: str) -> Optional[int]:
        if a is not PROBE and b is not PROBE:
            return compare(order, a, b)
        if order is not self.order:
            raise NotPrepared
        if a is PROBE and b is PROBE:
            return 0
        if a is PROBE:
            return -self._below(self.ranks.get(b))
        return self._below(self.ranks.get(a))

    def at_most_wildcard(self, order: VersionOrder, version: str, bound: str) -> Optional[bool]:
        if version is not PROBE:
            return at_most_wildcard(order, version, bound)
        if not bound.strip()[:-1].rstrip("."):
            return True  # "*": no upper bound
        if order is not self.order:
            raise NotPrepared
        return self._below(self.wildcard_ranks.get(bound)) > 0


def _paint(order: VersionOrder, cut_texts: Iterable[str], wildcards: Iterable[str], evaluate: Any) \
        -> Tuple[bool, List[Tuple[bytes, bytes, Any]]]:
    """(whether the answers depend on the version, [(lo, hi, answer)] with equal neighbours joined)."""
    if not has_keys(order):
        raise NotPrepared
    keyed = {text: key for text in cut_texts if (key := version_key(order, text)) is not None}
    limits = {bound: key for bound in wildcards if (key := wildcard_limit(order, bound)) is not None}
    ordered = sorted({*keyed.values(), *limits.values()})
    index = {key: position for position, key in enumerate(ordered)}
    comparisons = _PieceComparisons(order, {text: index[key] for text, key in keyed.items()},
                                    {bound: index[key] for bound, key in limits.items()})
    pieces: List[Tuple[bytes, bytes, Any]] = []
    for piece in range(2 * len(ordered) + 1):
        at, point = divmod(piece, 2)
        if point:
            lo, hi = ordered[at], above(ordered[at])
        else:
            lo = above(ordered[at - 1]) if at else LOWEST
            hi = ordered[at] if at < len(ordered) else HIGHEST
            if lo >= hi:
                continue  # no key lies strictly between two neighbouring cuts
        comparisons.piece = piece
        answer = evaluate(comparisons)
        if pieces and pieces[-1][1] == lo and pieces[-1][2] == answer:
            pieces[-1] = (pieces[-1][0], hi, answer)
        else:
            pieces.append((lo, hi, answer))
    return comparisons.asked, pieces


# -- CVE JSON 5 affected entries ----------------------------------------------------------------------------

def _entry_order(entry: Affected, product: str) -> VersionOrder:
    orders = {order_for(item.version_type, product=product) or GENERIC for item in entry.versions
              if order_for(item.version_type, product=product) is not None}
    if len(orders) > 1:
        raise NotPrepared
    return next(iter(orders)) if orders else GENERIC


def _product_class(product: str) -> str:
    """Products whose version order differs from what ``versionType`` says (order_for): the rest share one."""
    return product if order_for(None, product=product) is not GENERIC else ""


def _prepare_cve5_entry(index: int, entry: Affected, spans: List[Span]) -> Tuple[str, Tuple[Any, ...]]:
    if entry.collection_url and any(host in entry.collection_url for host in _DISTRO_COLLECTIONS):
        return entry.provider, ()  # a distribution's build: never applies (the reference says so too)
    names = tuple(sorted(_affected_names(entry), key=lambda name: (name[1], name[0] or "")))
    painted: Dict[str, List[Tuple[int, bytes, bytes, Any]]] = {}
    for product in sorted({product for _, product in names}):
        if not _literal(product):
            raise NotPrepared
        kind = _product_class(product)
        if kind not in painted:
            painted[kind] = _paint_cve5(entry, product)
        spans.extend((product, space, lo, hi, index, answer) for space, lo, hi, answer in painted[kind])
    return entry.provider, names


def _paint_cve5(entry: Affected, product: str) -> List[Tuple[int, bytes, bytes, Any]]:
    """What cve5_status says about ``product``'s versions, as (space, lo, hi, answer)."""
    found: List[Tuple[int, bytes, bytes, Any]] = []
    status, fixes, order = cve5_status(entry, "unknown", product)
    if status in STATUSES:
        found.append((CVE5_UNKNOWN, LOWEST, HIGHEST, (STATUSES.index(status), fixes, _ORDER_CODES[order.name])))
    painted_in = _entry_order(entry, product)
    numeric = [item for item in entry.versions if order_for(item.version_type, product=product) is not None]
    texts = [text for item in numeric for text in (item.version, item.less_than, item.less_than_or_equal,
                                                     *(at for at, _ in item.changes)) if text]

    def evaluate(comparisons: Comparisons) -> Any:
        status, fixes, order = cve5_status(entry, PROBE, product, comparisons)
        if status not in STATUSES:
            return None
        if order.name not in _ORDER_CODES:
            raise NotPrepared
        return (STATUSES.index(status), fixes, _ORDER_CODES[order.name])

    depends, pieces = _paint(painted_in, texts, [text for text in texts if is_wildcard(text)], evaluate)
    space = CVE5_SPACES[painted_in.name] if depends else CVE5_KNOWN
    found.extend((space, lo, hi, answer) for lo, hi, answer in pieces if answer is not None)
    return found


# -- OSV entries --------------------------------------------------------------------------------------------

def _prepare_osv_entry(index: int, entry: Affected, prepared: Prepared) -> Tuple[str, Optional[Tuple[str, ...]]]:
    base = (entry.ecosystem or "").partition(":")[0].lower()
    if base not in UPSTREAM_ECOSYSTEMS:
        prepared.fallback.append(("", base))  # the product names are filled in by `prepare`
        return entry.ecosystem or "", None
    ecosystem = ecosystem_order(entry.ecosystem)
    orders = {ecosystem if item.type == "ECOSYSTEM" else SEMVER for item in entry.ranges if item.type != "GIT"}
    if entry.enumerated:
        orders.add(ecosystem)
    if len(orders) > 1:
        raise NotPrepared
    order = next(iter(orders)) if orders else GENERIC
    texts = [value for item in entry.ranges if item.type != "GIT" for _, value in item.events if value != "0"]
    texts += [tag_version(tag) for tag in entry.enumerated]

    def evaluate(comparisons: Comparisons) -> Any:
        said, fixes = osv_entry_outcome(entry, PROBE, comparisons)
        return None if said is None else (PAINTED, said, fixes)

    depends, pieces = _paint(order, texts, (), evaluate)
    space = OSV_SPACES[order.name] if depends else OSV_KNOWN
    names = tuple(sorted(_osv_entry_names(entry)))
    for name in names:
        prepared.spans.extend((name, space, lo, hi, index, answer) for lo, hi, answer in pieces if answer is not None)
        if order.name in OSV_SPACES:  # `version in versions` holds for the exact text only: a key is its superset
            for text in entry.enumerated:
                key = version_key(order, text)
                if key is not None:
                    prepared.spans.append((name, OSV_SPACES[order.name], key, above(key), index, (LISTED, text, ())))
    return entry.ecosystem or "", names

"""Does a record affect a package? One decision per source, as pure functions over records.

This is the reference matcher: how candidate records are fetched (an in-memory
index, the SQLite store, a faster future one) is not its concern, and every
store must give the same findings as these functions.

**Probes.** A package is named in up to four ways (the group's ``vuln_identifiers``):
``CPE`` (vendor and product of each CPE), ``CVE Product`` (each ``vendor:product`` or
``product`` token), ``Package Name`` and ``PURL`` (namespace and name). With none of
the selected ones present, the package name is used. Without ``strict`` the product
alone decides, and the alias tables of :mod:`timesys_ci.vulndb.products` add names;
with ``strict`` the vendor must agree too whenever the package states one.

**NVD** (``configurations``, also a CVE JSON 5 ``cpeApplicability``): a record has an
opinion when one of its vulnerable software criteria names a probe's product; it
affects the package when a configuration matches: inside a node only vulnerable
software criteria count (platform children are assumed present), an OR node needs
one of them, an AND node all of them, negated nodes are ignored. The fix is the
matching criterion's ``versionEndExcluding``.

**CVE JSON 5** (``affected[]``): each entry that names the package (vendor/product
through :data:`~timesys_ci.vulndb.products.CNA_PRODUCTS`, packageName, cpes) gives a
status by the schema's algorithm — the first ``versions[]`` entry that contains the
version decides (``version: "0"`` has no lower bound, a ``*`` upper bound is
infinity, ``changes`` apply in order), else ``defaultStatus`` — in the order of the
entry's ``versionType`` (:func:`~timesys_ci.vulndb.versions.order_for`). ``git``
entries are never compared with version numbers: an entry with only git ranges says
nothing about versions. Entries of a distribution's package collection (Red Hat's)
do not apply to other builds. A version the build does not know (``custom``) gets
no opinion unless the entry covers every version. Fixes known: the ``lessThan`` of
the matching range, ``changes`` to unaffected above the version, and the start of
``unaffected`` entries above it. The container's ``cpeApplicability`` is read as NVD
configurations, except for the Linux kernel CNA, whose criteria are written per
stable branch (``5.15.168 ≤ v < 5.15.177``, or just ``< 6.6.79``): a criterion bounded
inside one stable branch applies only to that branch, the others only to branches
without their own criterion. The record is affected when either reading says so.

**OSV** (``affected[]``): a distribution's ecosystem (AlmaLinux, Debian, Alpine, …)
applies only to a package whose package URL is of that distribution (and release,
when both say) — its version ranges are about its own backported builds, and
applying them to a Yocto package gives false results. Upstream entries (no
ecosystem, ``OSS-Fuzz``, ``GIT``, kernel.org's ``Linux``) apply by name. Ranges
``ECOSYSTEM``/``SEMVER`` follow the OSV evaluation (events sorted; introduced opens,
fixed and last_affected close; ``GIT`` ranges never compare versions); the
``versions`` list matches the version exactly or, for git tags (``curl-7_61_1``,
``v2.86``), after the tag is read as a version.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, Iterable, List, NamedTuple, Optional, Sequence, Set, Tuple

from timesys_ci.sbom.model import Package
from timesys_ci.vulndb.cpe import ANY, NA, Cpe, try_parse_cpe, value_matches
from timesys_ci.vulndb.products import (
    PACKAGE_NAME_PRODUCTS,
    PRODUCT_ALIASES,
    UPSTREAM_ECOSYSTEMS,
    cna_cpe_names,
    purl_ecosystem,
)
from timesys_ci.vulndb.record import Affected, Configuration, CpeMatch, Node, VersionEntry, VulnRecord
from timesys_ci.vulndb.versions import (
    GENERIC,
    KERNEL,
    SEMVER,
    VersionOrder,
    at_most_wildcard,
    compare,
    ecosystem_order,
    in_range,
    is_unknown_version,
    is_wildcard,
    order_for,
)

IDENTIFIERS: Tuple[str, ...] = ("PURL", "CPE", "CVE Product", "Package Name")
DEFAULT_IDENTIFIERS: Tuple[str, ...] = ("CPE", "CVE Product", "Package Name")
KERNEL_CNA = "linux"
_DISTRO_COLLECTIONS = ("access.redhat.com", "packages.debian.org", "launchpad.net", "ubuntu.com", "suse.com",
                       "opensuse.org", "alpinelinux.org", "almalinux.org", "rockylinux.org", "fedoraproject.org")


@dataclass(frozen=True)
class Probe:
    """One way of naming the package: identifier kind, vendor, product and version."""

    identifier: str
    vendor: Optional[str]
    product: str
    version: str


class Verdict(NamedTuple):
    """What one record says about one package (a named tuple: scans make hundreds of thousands)."""

    record: VulnRecord
    source: str  # "nvd", "cve5:openssl", "osv:AlmaLinux:8", "osv"
    affected: bool
    identifier: str = ""  # the probe kind that matched
    fixed_versions: Tuple[str, ...] = ()
    fix_commits: Tuple[str, ...] = ()
    authoritative: bool = False  # an OSV distribution record about a package of that distribution
    order: VersionOrder = GENERIC  # the order the fix versions are written in
    criteria: str = ""


# -- probes ----------------------------------------------------------------------------------------

def _cpe_version(cpe: Cpe) -> str:
    if cpe.version in (ANY, NA):
        return "unknown"
    return cpe.version + (cpe.update if cpe.update not in (ANY, NA) else "")


def _probes_for(package: Package, identifier: str) -> List[Probe]:
    version = package.match_version
    probes: List[Probe] = []
    if identifier == "CPE":
        for text in package.cpe_ids:
            cpe = try_parse_cpe(text)
            if cpe is None or cpe.product in (ANY, NA):
                continue
            cpe_version = version if not is_unknown_version(version) else _cpe_version(cpe)
            probes.append(Probe(identifier, cpe.vendor_or_none, cpe.product, cpe_version))
    elif identifier == "CVE Product":
        for token in package.cve_product:
            vendor, _, product = token.lower().rpartition(":")
            if product:
                probes.append(Probe(identifier, vendor or None, product, version))
    elif identifier == "Package Name":
        if package.name:
            probes.append(Probe(identifier, None, package.name.lower(), version))
    elif identifier == "PURL":
        from timesys_ci.sbom.purl import purl_vendor_product  # packageurl-python is in the service extra

        named = purl_vendor_product(package.purl) if package.purl else None
        if named:
            probes.append(Probe(identifier, named[0].lower() if named[0] else None, named[1].lower(), version))
    else:
        raise ValueError(f"unknown vuln identifier {identifier!r}; expected one of {', '.join(IDENTIFIERS)}")
    return probes


def package_probes(package: Package, identifiers: Sequence[str] = DEFAULT_IDENTIFIERS, strict: bool = False) -> List[Probe]:
    """Every (identifier, vendor, product, version) the package is matched under, in order."""
    probes = [probe for identifier in identifiers for probe in _probes_for(package, identifier)]
    if not probes:
        probes = _probes_for(package, "Package Name")
    if not strict:
        probes += [
            Probe(probe.identifier, None, alias, probe.version)
            for probe in list(probes)
            for alias in (*PRODUCT_ALIASES.get(probe.product, ()),
                          *(PACKAGE_NAME_PRODUCTS.get(probe.product, ()) if probe.identifier == "Package Name" else ()))
        ]
    unique: Dict[Probe, None] = dict.fromkeys(probes)  # keep order, drop repeats
    return list(unique)


def candidate_products(package: Package, identifiers: Sequence[str] = DEFAULT_IDENTIFIERS,
                       strict: bool = False) -> Set[str]:
    """The product names whose records can match the package (what a store looks records up by)."""
    return {probe.product for probe in package_probes(package, identifiers, strict)}


# -- what a record is indexed under ------------------------------------------------------------------

def _affected_names(entry: Affected) -> Set[Tuple[Optional[str], str]]:
    return _names(entry.vendor, entry.product, entry.package_name, tuple(entry.cpes),
                  entry.repo if not (entry.product or entry.package_name) else None)


@functools.lru_cache(maxsize=65536)
def _names(vendor: Optional[str], product: Optional[str], package_name: Optional[str], cpes: Tuple[str, ...],
           repo: Optional[str]) -> FrozenSet[Tuple[Optional[str], str]]:
    """The (vendor, product) names an ``affected`` entry is matched under (cached: entries repeat per scan)."""
    names: Set[Tuple[Optional[str], str]] = set()
    if product:
        names.update(cna_cpe_names(vendor, product))
    if package_name:
        names.add((None, package_name.lower()))
        names.update(cna_cpe_names(vendor, package_name))
    for text in cpes:
        cpe = try_parse_cpe(text)
        if cpe is not None and cpe.product not in (ANY, NA) and cpe.part != "h":
            names.add((cpe.vendor_or_none, cpe.product))
    if repo:
        names.add((None, _repo_name(repo)))
    return frozenset((vendor or None, product) for vendor, product in names if product)


def _repo_name(repo: str) -> str:
    return repo.rstrip("/").rsplit("/", 1)[-1].lower().removesuffix(".git")


def record_products(record: VulnRecord) -> Set[Tuple[Optional[str], str]]:
    """(vendor, product) names the record can match under; vendor None when the record leaves it open."""
    names = {
        (match.cpe.vendor_or_none, match.cpe.product)
        for config in record.configurations
        for node in config.nodes
        for match in node.matches
        if match.vulnerable and not match.is_platform
    }
    for entry in record.affected:
        names |= _affected_names(entry)
    return names


# -- NVD configurations ------------------------------------------------------------------------------

def _criterion_matches(match: CpeMatch, probe: Probe, strict: bool) -> bool:
    cpe = match.cpe
    if not value_matches(cpe.product, probe.product):
        return False
    if strict and probe.vendor and not value_matches(cpe.vendor, probe.vendor):
        return False
    exact = None if cpe.version in (ANY, NA) else _cpe_version(cpe)
    return in_range(
        probe.version,
        exact=exact,
        start_including=match.version_start_including,
        start_excluding=match.version_start_excluding,
        end_including=match.version_end_including,
        end_excluding=match.version_end_excluding,
    )


def _names_product(match: CpeMatch, probe: Probe, strict: bool) -> bool:
    return (match.vulnerable and not match.is_platform and value_matches(match.cpe.product, probe.product)
            and not (strict and probe.vendor and not value_matches(match.cpe.vendor, probe.vendor)))


def _node_hits(node: Node, probe: Probe, strict: bool) -> Optional[List[CpeMatch]]:
    """None when the node says nothing about software (negated, platforms only); else its hits ([] = miss)."""
    relevant = [match for match in node.matches if match.vulnerable and not match.is_platform]
    if node.negate or not relevant:
        return None
    hits = [match for match in relevant if _criterion_matches(match, probe, strict)]
    if node.operator == "AND" and len(hits) != len(relevant):
        return []
    return hits


def _configuration_hits(config: Configuration, probe: Probe, strict: bool) -> List[CpeMatch]:
    if config.negate:
        return []
    results = [hits for hits in (_node_hits(node, probe, strict) for node in config.nodes) if hits is not None]
    if not results or (config.operator == "AND" and not all(results)):
        return []
    return [hit for hits in results for hit in hits]


def _kernel_branch(match: CpeMatch) -> Optional[Tuple[int, ...]]:
    """The stable branch a kernel CNA criterion is bounded in (a bound with a patch level), or None (mainline)."""
    for bound in (match.version_start_including, match.version_start_excluding, match.version_end_excluding,
                  match.version_end_including):
        key = KERNEL.key(bound) if bound else None
        if key is not None and key[2] > 0:
            return KERNEL.branch(bound)  # type: ignore[arg-type]
    return None


def _kernel_hits(configurations: List[Configuration], probe: Probe) -> List[CpeMatch]:
    """The Linux kernel CNA's criteria read per stable branch (see the module docstring)."""
    branch = KERNEL.branch(probe.version)
    if branch is None:
        return []
    criteria = [match for config in configurations if not config.negate for node in config.nodes if not node.negate
                for match in node.matches if _names_product(match, probe, False)]
    own = [match for match in criteria if _kernel_branch(match) == branch]
    pool = own or [match for match in criteria if _kernel_branch(match) is None]
    return [match for match in pool if _criterion_matches(match, probe, False)]


def _configurations_verdict(record: VulnRecord, probes: Sequence[Probe], strict: bool, source: str,
                            kernel_cna: bool = False) -> Optional[Verdict]:
    opinion: Optional[Probe] = None
    for probe in probes:
        if not any(_names_product(match, probe, strict) for config in record.configurations for node in config.nodes
                   for match in node.matches):
            continue
        opinion = opinion or probe
        if kernel_cna and probe.product == "linux_kernel":
            hits = _kernel_hits(record.configurations, probe)
        else:
            hits = [hit for config in record.configurations for hit in _configuration_hits(config, probe, strict)]
        if hits:
            fixes = tuple(dict.fromkeys(hit.version_end_excluding for hit in hits if hit.version_end_excluding))
            return Verdict(record, source, True, probe.identifier, fixed_versions=fixes,
                           fix_commits=tuple(record.fix_commits), criteria=hits[0].criteria,
                           order=KERNEL if probe.product == "linux_kernel" else GENERIC)
    if opinion is None:
        return None
    return Verdict(record, source, False, opinion.identifier)


def nvd_verdict(record: VulnRecord, probes: Sequence[Probe], strict: bool = False) -> Optional[Verdict]:
    """NVD's configurations about the package: affected / not affected / None when they do not name it."""
    return _configurations_verdict(record, probes, strict, "nvd")


# -- CVE JSON 5 ----------------------------------------------------------------------------------------

def _entry_applies(entry: Affected, probe: Probe, strict: bool) -> bool:
    if entry.collection_url and any(host in entry.collection_url for host in _DISTRO_COLLECTIONS):
        return False  # a distribution's own build of the package: not this one
    for vendor, product in _affected_names(entry):
        if product == probe.product or value_matches(product, probe.product):
            if not (strict and probe.vendor and vendor and vendor != probe.vendor):
                return True
    return False


def _canonical_product(entry: Affected, probe: Probe) -> str:
    names = {product for _, product in _affected_names(entry)}
    return probe.product if probe.product in names else next(iter(sorted(names)), probe.product)


class Comparisons:
    """How the CVE JSON 5 and OSV rules compare the package's version with a record's versions.

    The module functions by default. :mod:`timesys_ci.vulndb.prepare` passes its own, which
    answers for a whole interval of package versions at once: that is how a record's
    ranges are evaluated ahead of time, by these same rules.
    """

    def compare(self, order: VersionOrder, a: str, b: str) -> Optional[int]:
        return compare(order, a, b)

    def at_most_wildcard(self, order: VersionOrder, version: str, bound: str) -> Optional[bool]:
        return at_most_wildcard(order, version, bound)


EXACT = Comparisons()


def _contains(order: VersionOrder, item: VersionEntry, version: str, cmp: Comparisons = EXACT) -> Optional[bool]:
    """Whether the range or single version ``item`` contains ``version`` (None: cannot tell)."""
    if not item.is_range:
        outcome = cmp.compare(order, version, item.version)
        return None if outcome is None else outcome == 0
    if item.version != "0":
        lower = cmp.compare(order, version, item.version)
        if lower is None:
            return None
        if lower < 0:
            return False
    if item.less_than is not None:
        if is_wildcard(item.less_than):
            return cmp.at_most_wildcard(order, version, item.less_than)
        upper = cmp.compare(order, version, item.less_than)
        return None if upper is None else upper < 0
    bound = item.less_than_or_equal or "*"
    if is_wildcard(bound):
        return cmp.at_most_wildcard(order, version, bound)
    upper = cmp.compare(order, version, bound)
    return None if upper is None else upper <= 0


def _sorted_changes(order: VersionOrder, changes: Sequence[Tuple[str, str]]) -> List[Tuple[str, str]]:
    keyed = [(order.key(at) or GENERIC.key(at), at, status) for at, status in changes]
    known = [item for item in keyed if item[0] is not None]
    try:
        known.sort(key=lambda item: item[0])
    except TypeError:  # keys of two orders: keep the record's order
        pass
    return [(at, status) for _, at, status in known]


def cve5_status(entry: Affected, version: str, product: str,
                cmp: Comparisons = EXACT) -> Tuple[Optional[str], Tuple[str, ...], VersionOrder]:
    """(status or None, fixed versions known above ``version``, order) for one CVE JSON 5 ``affected`` entry."""
    numeric = [item for item in entry.versions if order_for(item.version_type, product=product) is not None]
    if entry.versions and not numeric:
        return None, (), GENERIC  # git ranges only: nothing about version numbers
    if is_unknown_version(version):
        unbounded = not numeric and entry.default_status == "affected"
        return ("affected" if unbounded else None), (), GENERIC
    status: Optional[str] = None
    matched: Optional[VersionEntry] = None
    order = order_for(numeric[0].version_type if numeric else None, product=product) or GENERIC
    for item in numeric:
        item_order = order_for(item.version_type, product=product) or GENERIC
        if _contains(item_order, item, version, cmp):
            matched, order, status = item, item_order, item.status
            for at, change in _sorted_changes(item_order, item.changes):
                if (cmp.compare(item_order, at, version) or 0) <= 0:
                    status = change
            break
    if matched is None:
        status = entry.default_status
    if status != "affected":
        return status, (), order
    fixes: List[str] = []
    if matched is not None and matched.less_than and not is_wildcard(matched.less_than):
        fixes.append(matched.less_than)
    if matched is not None:
        fixes += [at for at, change in matched.changes if change == "unaffected"
                  and (cmp.compare(order, at, version) or 0) > 0]
    for item in numeric:
        item_order = order_for(item.version_type, product=product) or GENERIC
        if item.status == "unaffected" and item.version != "0" and (cmp.compare(item_order, item.version, version) or 0) > 0:
            fixes.append(item.version)
    return "affected", tuple(dict.fromkeys(fixes)), order


def cve5_verdict(record: VulnRecord, probes: Sequence[Probe], strict: bool = False) -> List[Verdict]:
    """The CVE JSON 5 record's containers about the package: one verdict per container that speaks."""
    verdicts: Dict[str, Verdict] = {}
    decided: Dict[Tuple[int, str, str], Tuple[Optional[str], Tuple[str, ...], VersionOrder]] = {}
    for probe in probes:
        for index, entry in enumerate(record.affected):
            if not _entry_applies(entry, probe, strict):
                continue
            product = _canonical_product(entry, probe)
            key = (index, probe.version, product)  # probes usually share a version: decide once
            if key not in decided:
                decided[key] = cve5_status(entry, probe.version, product)
            status, fixes, order = decided[key]
            if status not in ("affected", "unaffected"):
                continue
            source = f"cve5:{entry.provider}"
            earlier = verdicts.get(source)
            if earlier is not None and (earlier.affected or status != "affected"):
                continue
            verdicts[source] = Verdict(record, source, status == "affected", probe.identifier,
                                       fixed_versions=fixes if status == "affected" else (),
                                       fix_commits=tuple(record.fix_commits) if status == "affected" else (),
                                       order=order)
    if record.configurations:
        provider = record.provenance.get("configurations", record.assigner or "cna")
        source = f"cve5:{provider}"
        applicability = _configurations_verdict(record, probes, strict, source,
                                                kernel_cna=provider.lower() == KERNEL_CNA)
        earlier = verdicts.get(source)
        if applicability is not None and (earlier is None or (applicability.affected and not earlier.affected)):
            verdicts[source] = applicability
    return [verdicts[key] for key in sorted(verdicts)]


# -- OSV ------------------------------------------------------------------------------------------------

_TAG_PREFIX = re.compile(r"^(?:[a-z][a-z0-9+]*?[-_])?v?(?=\d)", re.IGNORECASE)
_TAG_SUFFIX = re.compile(r"[-_.](?:stable|release|final)$", re.IGNORECASE)


def tag_version(tag: str) -> str:
    """A git tag read as a version: ``curl-7_61_1`` → 7.61.1, ``OpenSSL_1_1_1-pre1`` → 1.1.1-pre1, ``v2.86`` → 2.86."""
    text = _TAG_SUFFIX.sub("", tag.strip())
    text = _TAG_PREFIX.sub("", text, count=1)
    return text.replace("_", ".") if "." not in text else text


def _osv_events_affected(order: VersionOrder, events: Sequence[Tuple[str, str]], version: str,
                         cmp: Comparisons = EXACT) -> Optional[Tuple[bool, Tuple[str, ...]]]:
    """The OSV range evaluation: the last event at or below the version decides; None if versions cannot compare."""
    below: List[Tuple[str, str]] = []
    above: List[str] = []
    for kind, value in events:
        if kind == "limit":
            continue
        outcome = -1 if value == "0" else cmp.compare(order, value, version)
        if outcome is None:
            return None
        if outcome < 0 or (outcome == 0 and kind != "last_affected"):
            below.append((kind, value))
        elif kind == "fixed":
            above.append(value)
    if not below:
        return False, ()

    def by_version(a: Tuple[str, str], b: Tuple[str, str]) -> int:
        if a[1] == b[1]:
            return (a[0] == "introduced") - (b[0] == "introduced")  # at one version the fix wins
        return -1 if a[1] == "0" else 1 if b[1] == "0" else compare(order, a[1], b[1]) or 0

    kind, _ = max(below, key=functools.cmp_to_key(by_version))
    if kind != "introduced":
        return False, ()
    lowest = min(above, key=functools.cmp_to_key(lambda a, b: compare(order, a, b) or 0)) if above else None
    return True, (lowest,) if lowest else ()


def _parse_purl(text: Optional[str]) -> Any:
    if not text:
        return None
    from timesys_ci.sbom.purl import parse_purl  # packageurl-python is in the service extra

    return parse_purl(text)


def _osv_entry_names(entry: Affected) -> Set[str]:
    names = {entry.package_name.lower()} if entry.package_name else set()
    if entry.repo:
        names.add(_repo_name(entry.repo))
    purl = _parse_purl(entry.purl)
    if purl:
        names.add(purl.name.lower())
    if (entry.ecosystem or "").lower() == "linux":
        names.add("linux_kernel")  # kernel.org's OSV names the package "Kernel"
    return names


def _osv_applies(entry: Affected, package: Package, probes: Sequence[Probe]) -> Tuple[bool, bool, str]:
    """(applies, authoritative, version to compare) for one OSV entry and a package."""
    base, _, release = (entry.ecosystem or "").partition(":")
    if base.lower() in UPSTREAM_ECOSYSTEMS:
        names = _osv_entry_names(entry)
        return any(probe.product in names for probe in probes), False, package.match_version
    purl = _parse_purl(package.purl)
    ecosystem = purl_ecosystem(purl) if purl else None
    if purl is None or ecosystem is None or ecosystem[0].lower() != base.lower():
        return False, False, ""
    package_release = ecosystem[1]
    if release and package_release and package_release not in release.split(":"):
        return False, False, ""  # "AlmaLinux:9" is not about an el8 package; "Ubuntu:Pro:14.04:LTS" is about 14.04
    if purl.name.lower() not in _osv_entry_names(entry) and package.name.lower() not in _osv_entry_names(entry):
        return False, False, ""
    version = purl.version or package.version
    epoch = (purl.qualifiers if isinstance(purl.qualifiers, dict) else {}).get("epoch")
    if epoch and ":" not in version:
        version = f"{epoch}:{version}"
    return True, True, version


def osv_entry_outcome(entry: Affected, version: str, cmp: Comparisons = EXACT) -> Tuple[Optional[bool], Tuple[str, ...]]:
    """(affected or not, None when the entry cannot tell; the fixes) for one OSV entry that applies."""
    order = ecosystem_order(entry.ecosystem)
    said: Optional[bool] = None
    fixes: Tuple[str, ...] = ()
    for item in entry.ranges:
        if item.type == "GIT":
            continue
        outcome = _osv_events_affected(order if item.type == "ECOSYSTEM" else SEMVER, item.events, version, cmp)
        if outcome is None:
            continue
        said = bool(said) or outcome[0]
        if outcome[0]:
            fixes = fixes or outcome[1]
    if entry.enumerated:
        listed = version in entry.enumerated or any(
            cmp.compare(order, tag_version(tag), version) == 0 for tag in entry.enumerated)
        said = bool(said) or listed
    return said, fixes


def osv_verdict(record: VulnRecord, package: Package, probes: Sequence[Probe]) -> Optional[Verdict]:
    """The OSV record about the package: affected / not affected / None when it does not apply or cannot tell."""
    opinion: Optional[Verdict] = None
    for entry in record.affected:
        applies, authoritative, version = _osv_applies(entry, package, probes)
        if not applies or is_unknown_version(version):
            continue
        said, fixes = osv_entry_outcome(entry, version)
        if said is None:
            continue
        source = f"osv:{entry.ecosystem}" if entry.ecosystem else "osv"
        verdict = Verdict(record, source, said, "PURL" if authoritative else probes[0].identifier if probes else "",
                          fixed_versions=fixes if said else (), fix_commits=tuple(record.fix_commits) if said else (),
                          authoritative=authoritative, order=ecosystem_order(entry.ecosystem))
        if said:
            return verdict
        opinion = opinion or verdict
    return opinion


# -- one entry point -----------------------------------------------------------------------------------

def record_verdicts(record: VulnRecord, package: Package, probes: Sequence[Probe], strict: bool = False) -> List[Verdict]:
    """Every verdict ``record`` gives about ``package`` (none when it does not name it)."""
    if record.source == "nvd":
        verdict = nvd_verdict(record, probes, strict)
        return [verdict] if verdict else []
    if record.source == "cve5":
        return cve5_verdict(record, probes, strict)
    if record.source == "osv":
        verdict = osv_verdict(record, package, probes)
        return [verdict] if verdict else []
    return []


def package_verdicts(package: Package, records: Iterable[VulnRecord], identifiers: Sequence[str] = DEFAULT_IDENTIFIERS,
                     strict: bool = False) -> Dict[str, List[Verdict]]:
    """CVE id -> the verdicts of every record about ``package`` (records may speak for several CVEs)."""
    probes = package_probes(package, identifiers, strict)
    found: Dict[str, List[Verdict]] = {}
    seen: Set[Tuple[str, str]] = set()
    for record in records:
        if record.key in seen:
            continue
        seen.add(record.key)
        verdicts = record_verdicts(record, package, probes, strict)
        for cve_id in record.cve_ids if verdicts else ():
            found.setdefault(cve_id, []).extend(verdicts)
    return found

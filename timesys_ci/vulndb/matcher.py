"""Decide which vulnerability records affect a package.

A package is named in up to four ways (the group's ``vuln_identifiers``):

* ``CPE`` — vendor and product of each of the package's CPE ids;
* ``CVE Product`` — each ``vendor:product`` or bare ``product`` token;
* ``Package Name`` — the package name, compared with the CPE product;
* ``PURL`` — namespace and name of the package URL.

When none of the selected identifiers is present, the package name is
used. Without ``strict`` the product alone decides; with ``strict`` the
vendor must agree too whenever the package states one.

A record matches when one of its configurations matches: inside a node,
only *vulnerable* software criteria count (platform children such as
"running on" OS or hardware CPEs are assumed present); an OR node needs
one of them, an AND node all of them; negated nodes are ignored.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from timesys_ci.sbom.model import Package
from timesys_ci.sbom.purl import purl_vendor_product
from timesys_ci.vulndb.cpe import ANY, NA, Cpe, try_parse_cpe, value_matches
from timesys_ci.vulndb.record import Configuration, CpeMatch, Node, VulnRecord
from timesys_ci.vulndb.versions import in_range, is_unknown_version

IDENTIFIERS: Tuple[str, ...] = ("PURL", "CPE", "CVE Product", "Package Name")
DEFAULT_IDENTIFIERS: Tuple[str, ...] = ("CPE", "CVE Product", "Package Name")

# Products that SBOM generators and NVD spell differently. Used only without
# strict vendor checking, since the alias belongs to another vendor.
PRODUCT_ALIASES: Dict[str, Tuple[str, ...]] = {
    "dropbear_ssh_server": ("dropbear_ssh",),
    "dropbear": ("dropbear_ssh",),
}

ProductKey = Tuple[Optional[str], str]


@dataclass(frozen=True)
class Probe:
    """One way of naming the package: identifier kind, vendor, product and version."""

    identifier: str
    vendor: Optional[str]
    product: str
    version: str


@dataclass(frozen=True)
class Match:
    record: VulnRecord
    identifier: str
    fixed_version: Optional[str]  # the range end when it is an *excluding* end
    criteria: str


def _purl_name(purl: str) -> Optional[Tuple[Optional[str], str]]:
    return purl_vendor_product(purl)


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
        named = _purl_name(package.purl or "")
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
            for alias in PRODUCT_ALIASES.get(probe.product, ())
        ]
    unique: Dict[Probe, None] = dict.fromkeys(probes)  # keep order, drop repeats
    return list(unique)


def candidate_products(
    package: Package, identifiers: Sequence[str] = DEFAULT_IDENTIFIERS, strict: bool = False
) -> Set[ProductKey]:
    """Index keys whose records can match: (vendor, product), vendor None meaning any vendor."""
    return {(probe.vendor if strict else None, probe.product) for probe in package_probes(package, identifiers, strict)}


def record_products(record: VulnRecord) -> Set[ProductKey]:
    """(vendor, product) of every vulnerable software criterion; vendor None when the CPE leaves it open."""
    return {
        (match.cpe.vendor_or_none, match.cpe.product)
        for config in record.configurations
        for node in config.nodes
        for match in node.matches
        if match.vulnerable and not match.is_platform
    }


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


def _node_hits(node: Node, probe: Probe, strict: bool) -> Optional[List[CpeMatch]]:
    """None when the node says nothing about software (negated, platforms only); else its hits ([] = miss)."""
    relevant = [match for match in node.matches if match.vulnerable and not match.is_platform]
    if node.negate or not relevant:
        return None
    hits = [match for match in relevant if _criterion_matches(match, probe, strict)]
    if node.operator == "AND" and len(hits) != len(relevant):
        return []
    return hits


def _configuration_hit(config: Configuration, probe: Probe, strict: bool) -> Optional[CpeMatch]:
    if config.negate:
        return None
    results = [hits for hits in (_node_hits(node, probe, strict) for node in config.nodes) if hits is not None]
    if not results or (config.operator == "AND" and not all(results)):
        return None
    return next((hits[0] for hits in results if hits), None)


def match_record(record: VulnRecord, probes: Sequence[Probe], strict: bool = False) -> Optional[Match]:
    """The first probe/criterion under which ``record`` affects the package, if any."""
    for probe in probes:
        for config in record.configurations:
            hit = _configuration_hit(config, probe, strict)
            if hit is not None:
                return Match(record, probe.identifier, hit.version_end_excluding, hit.criteria)
    return None


def match_package(
    package: Package,
    records: Iterable[VulnRecord],
    identifiers: Sequence[str] = DEFAULT_IDENTIFIERS,
    strict: bool = False,
) -> List[Match]:
    """Every record in ``records`` that affects ``package``, sorted by record id."""
    probes = package_probes(package, identifiers, strict)
    found: Dict[str, Match] = {}
    for record in records:
        if record.id in found:
            continue
        match = match_record(record, probes, strict)
        if match is not None:
            found[record.id] = match
    return [found[key] for key in sorted(found)]

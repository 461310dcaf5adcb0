"""The normalised vulnerability record every source produces and the matcher and store work on.

One :class:`VulnRecord` per record of one source: ``source`` is ``nvd`` (NVD CVE
API 2.0), ``cve5`` (a CVE JSON 5 record: the CNA container plus ADP containers) or
``osv`` (an OSV advisory, which may speak for several CVEs through ``aliases`` and
``related``). What a record says about affected software is kept as the source
wrote it, so each source keeps its own matching rules (:mod:`timesys_ci.vulndb.match`):

* ``configurations`` — NVD's CPE configurations; for CVE JSON 5 the containers'
  ``cpeApplicability`` (same shape), with ``provenance["configurations"]`` naming
  the container;
* ``affected`` — CVE JSON 5 ``affected[]`` entries (vendor, product, packageName,
  cpes, defaultStatus, ``versions[]`` with lessThan/lessThanOrEqual/changes) and OSV
  ``affected[]`` entries (package, ``ranges`` with their events, the ``versions`` list),
  each naming its ``provider`` (the CNA or ADP short name, or the OSV ecosystem);
  git ranges and the Linux kernel CNA's ``programFiles`` are kept;
* ``fix_commits`` — commits or patches the source names as the fix.

``provenance`` maps a field name to the container that supplied it when that is not
the record's main one (``{"cvss_v3": "CISA-ADP"}``). ``to_json``/``from_json`` give
a compact plain-JSON form (empty fields left out) for storage; ``from_json`` also
reads the NVD-only form earlier versions stored.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from timesys_ci.cvss import severity_for
from timesys_ci.vulndb.cpe import Cpe, parse_cpe

SOURCES = ("nvd", "cve5", "osv")
_CVE_ID = re.compile(r"^CVE-\d{4}-\d{4,}$")


def is_cve_id(text: str) -> bool:
    return bool(_CVE_ID.match(text))


@dataclass(frozen=True)
class CvssScore:
    version: str
    score: float
    vector: str
    severity: Optional[str] = None

    def to_json(self) -> Dict[str, Any]:
        return {"version": self.version, "score": self.score, "vector": self.vector, "severity": self.severity}


@dataclass(frozen=True)
class Reference:
    url: str
    tags: List[str] = field(default_factory=list)


@dataclass
class CpeMatch:
    """One ``cpeMatch`` criterion: a CPE pattern plus optional version bounds."""

    vulnerable: bool
    criteria: str
    version_start_including: Optional[str] = None
    version_start_excluding: Optional[str] = None
    version_end_including: Optional[str] = None
    version_end_excluding: Optional[str] = None

    @functools.cached_property
    def cpe(self) -> Cpe:
        # Parsed once per criterion: matching reads it for every probe.
        return parse_cpe(self.criteria)

    @property
    def is_platform(self) -> bool:
        """Hardware (``h``) criteria describe where software runs, not what is affected."""
        return self.cpe.part == "h"


@dataclass
class Node:
    operator: str = "OR"
    negate: bool = False
    matches: List[CpeMatch] = field(default_factory=list)


@dataclass
class Configuration:
    operator: str = "OR"
    negate: bool = False
    nodes: List[Node] = field(default_factory=list)


@dataclass
class VersionEntry:
    """One CVE JSON 5 ``versions[]`` entry: a single version, or a range when an upper bound is set."""

    version: str
    status: str = "affected"
    version_type: Optional[str] = None
    less_than: Optional[str] = None
    less_than_or_equal: Optional[str] = None
    changes: List[Tuple[str, str]] = field(default_factory=list)  # (at, status)

    @property
    def is_range(self) -> bool:
        return self.less_than is not None or self.less_than_or_equal is not None


@dataclass
class OsvRange:
    """One OSV range: ``ECOSYSTEM``, ``SEMVER`` or ``GIT``, its events in order as (kind, value)."""

    type: str
    events: List[Tuple[str, str]] = field(default_factory=list)  # introduced/fixed/last_affected/limit
    repo: Optional[str] = None


@dataclass
class Affected:
    """One ``affected[]`` entry of a CVE JSON 5 container or an OSV record."""

    provider: str  # the CNA/ADP short name ("openssl", "Linux", "CISA-ADP") or the OSV ecosystem ("" if none)
    vendor: Optional[str] = None
    product: Optional[str] = None
    package_name: Optional[str] = None
    collection_url: Optional[str] = None
    ecosystem: Optional[str] = None  # OSV ecosystem, e.g. "AlmaLinux:8"
    purl: Optional[str] = None
    cpes: List[str] = field(default_factory=list)
    default_status: Optional[str] = None
    versions: List[VersionEntry] = field(default_factory=list)  # CVE JSON 5
    ranges: List[OsvRange] = field(default_factory=list)  # OSV
    enumerated: List[str] = field(default_factory=list)  # OSV "versions": affected versions listed one by one
    repo: Optional[str] = None
    program_files: List[str] = field(default_factory=list)
    platforms: List[str] = field(default_factory=list)


@dataclass
class VulnRecord:
    id: str
    source: str = "nvd"
    aliases: List[str] = field(default_factory=list)
    related: List[str] = field(default_factory=list)
    description: str = ""
    published: Optional[str] = None
    last_modified: Optional[str] = None
    vuln_status: Optional[str] = None
    assigner: Optional[str] = None
    cvss_v2: Optional[CvssScore] = None
    cvss_v3: Optional[CvssScore] = None
    cvss_v4: Optional[CvssScore] = None
    severity_text: Optional[str] = None  # a qualitative rating when there is no score ("High" from OpenSSL)
    cwes: List[str] = field(default_factory=list)
    references: List[Reference] = field(default_factory=list)
    kev: bool = False
    configurations: List[Configuration] = field(default_factory=list)
    affected: List[Affected] = field(default_factory=list)
    fix_commits: List[str] = field(default_factory=list)
    provenance: Dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> Tuple[str, str]:
        """Identity in the store: one record per (source, id)."""
        return (self.source, self.id)

    @property
    def cve_ids(self) -> List[str]:
        """The CVE ids this record speaks for: its own id, or an OSV record's CVE aliases and related ids."""
        if self.source != "osv":
            return [self.id]
        found = [alias for alias in (*self.aliases, *self.related) if is_cve_id(alias)]
        return sorted(set(found)) or [self.id]

    @property
    def headline_cvss(self) -> Optional[CvssScore]:
        """The score a report shows: v3.x, else v4, else v2."""
        return self.cvss_v3 or self.cvss_v4 or self.cvss_v2

    @property
    def severity(self) -> Optional[str]:
        headline = self.headline_cvss
        if headline:
            return severity_for(headline.score)
        return self.severity_text

    @property
    def program_files(self) -> List[str]:
        """Union of the affected entries' ``programFiles`` (the Linux kernel CNA names them), in order."""
        return list(dict.fromkeys(path for entry in self.affected for path in entry.program_files))

    def to_json(self) -> Dict[str, Any]:
        return _record_json(self)

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> "VulnRecord":
        return _record_from_json(data)


# -- JSON form: written by hand (no dataclasses.asdict deep copies), empty values left out ---------------

def _drop_empty(data: Dict[str, Any]) -> Dict[str, Any]:
    return {key: value for key, value in data.items() if value not in (None, "", [], {}, False)}


def _match_json(match: CpeMatch) -> Dict[str, Any]:
    data: Dict[str, Any] = {"vulnerable": match.vulnerable, "criteria": match.criteria}
    for name in ("version_start_including", "version_start_excluding", "version_end_including",
                 "version_end_excluding"):
        value = getattr(match, name)
        if value is not None:
            data[name] = value
    return data


def _configuration_json(config: Configuration) -> Dict[str, Any]:
    return {"operator": config.operator, "negate": config.negate,
            "nodes": [{"operator": node.operator, "negate": node.negate,
                       "matches": [_match_json(match) for match in node.matches]} for node in config.nodes]}


def _entry_json(entry: VersionEntry) -> Dict[str, Any]:
    return _drop_empty({"version": entry.version, "status": entry.status, "version_type": entry.version_type,
                        "less_than": entry.less_than, "less_than_or_equal": entry.less_than_or_equal,
                        "changes": [list(change) for change in entry.changes]})


def _affected_json(entry: Affected) -> Dict[str, Any]:
    return _drop_empty({
        "provider": entry.provider, "vendor": entry.vendor, "product": entry.product,
        "package_name": entry.package_name, "collection_url": entry.collection_url, "ecosystem": entry.ecosystem,
        "purl": entry.purl, "cpes": entry.cpes, "default_status": entry.default_status,
        "versions": [_entry_json(item) for item in entry.versions],
        "ranges": [_drop_empty({"type": item.type, "repo": item.repo, "events": [list(e) for e in item.events]})
                   for item in entry.ranges],
        "enumerated": entry.enumerated, "repo": entry.repo, "program_files": entry.program_files,
        "platforms": entry.platforms,
    })


def _record_json(record: VulnRecord) -> Dict[str, Any]:
    data = _drop_empty({
        "id": record.id, "source": record.source, "aliases": record.aliases, "related": record.related,
        "description": record.description, "published": record.published, "last_modified": record.last_modified,
        "vuln_status": record.vuln_status, "assigner": record.assigner,
        "cvss_v2": record.cvss_v2.to_json() if record.cvss_v2 else None,
        "cvss_v3": record.cvss_v3.to_json() if record.cvss_v3 else None,
        "cvss_v4": record.cvss_v4.to_json() if record.cvss_v4 else None,
        "severity_text": record.severity_text, "cwes": record.cwes,
        "references": [{"url": ref.url, "tags": ref.tags} if ref.tags else {"url": ref.url}
                       for ref in record.references],
        "kev": record.kev,
        "configurations": [_configuration_json(config) for config in record.configurations],
        "affected": [_affected_json(entry) for entry in record.affected],
        "fix_commits": record.fix_commits, "provenance": record.provenance,
    })
    data.setdefault("source", record.source)
    return data


def _score(data: Any) -> Optional[CvssScore]:
    if not data:
        return None
    return CvssScore(version=str(data.get("version", "")), score=float(data["score"]), vector=str(data.get("vector", "")),
                     severity=data.get("severity"))


def _configurations(raw: Any) -> List[Configuration]:
    return [
        Configuration(
            operator=config.get("operator", "OR"), negate=bool(config.get("negate", False)),
            nodes=[Node(operator=node.get("operator", "OR"), negate=bool(node.get("negate", False)),
                        matches=[CpeMatch(**match) for match in node.get("matches", [])])
                   for node in config.get("nodes", [])],
        )
        for config in raw or []
    ]


def _affected(raw: Dict[str, Any]) -> Affected:
    return Affected(
        provider=raw.get("provider", ""), vendor=raw.get("vendor"), product=raw.get("product"),
        package_name=raw.get("package_name"), collection_url=raw.get("collection_url"),
        ecosystem=raw.get("ecosystem"), purl=raw.get("purl"), cpes=list(raw.get("cpes", [])),
        default_status=raw.get("default_status"),
        versions=[VersionEntry(version=item.get("version", ""), status=item.get("status", "affected"),
                               version_type=item.get("version_type"), less_than=item.get("less_than"),
                               less_than_or_equal=item.get("less_than_or_equal"),
                               changes=[(at, status) for at, status in item.get("changes", [])])
                  for item in raw.get("versions", [])],
        ranges=[OsvRange(type=item.get("type", ""), repo=item.get("repo"),
                         events=[(kind, value) for kind, value in item.get("events", [])])
                for item in raw.get("ranges", [])],
        enumerated=list(raw.get("enumerated", [])), repo=raw.get("repo"),
        program_files=list(raw.get("program_files", [])), platforms=list(raw.get("platforms", [])),
    )


def _record_from_json(data: Dict[str, Any]) -> VulnRecord:
    return VulnRecord(
        id=data["id"], source=data.get("source", "nvd"), aliases=list(data.get("aliases", [])),
        related=list(data.get("related", [])), description=data.get("description", ""),
        published=data.get("published"), last_modified=data.get("last_modified"),
        vuln_status=data.get("vuln_status"), assigner=data.get("assigner"),
        cvss_v2=_score(data.get("cvss_v2")), cvss_v3=_score(data.get("cvss_v3")), cvss_v4=_score(data.get("cvss_v4")),
        severity_text=data.get("severity_text"), cwes=list(data.get("cwes", [])),
        references=[Reference(url=ref["url"], tags=list(ref.get("tags", []))) for ref in data.get("references", [])],
        kev=bool(data.get("kev", False)), configurations=_configurations(data.get("configurations")),
        affected=[_affected(entry) for entry in data.get("affected", [])],
        fix_commits=list(data.get("fix_commits", [])), provenance=dict(data.get("provenance", {})),
    )

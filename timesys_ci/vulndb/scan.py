"""Scan an SBOM against vulnerability records and build the report's ``cves`` and ``counts``.

Output follows the report contract in the project brief. How a matched
CVE is categorised, first rule that applies:

1. a triage status from ``statuses`` (set through the API): resolved /
   resolved_with_pedigree → fixed; not_affected / false_positive →
   whitelisted; exploitable / in_triage → unfixed even when the manifest
   patches or whitelists it (the status is kept in ``vuln_status``);
2. the manifest says it is patched (package ``patched_cves``, or a
   ``vulnerabilities`` statement resolved / resolved_with_pedigree) → fixed,
   with ``fixedby`` = the patch names;
3. the manifest suppresses it (``whitelist``, package ``ignore_cves``, a
   ``not_affected`` statement) → whitelisted;
4. otherwise the fix the data knows decides (:mod:`timesys_ci.vulndb.merge` picks it):
   ``upgradable`` when a source names a fixed version above the package's (the
   entry's ``fixed_version`` says which; one in the package's release series when
   there is one), else ``unapplied`` when a source names a fix commit or patch the
   manifest does not list as applied (``fix_commits``), else ``unfixed``. Triaged
   ``exploitable``/``in_triage`` CVEs get the same fix-aware category.

The real Vigiles service reports the same three affected states: ``Unfixed``,
``Unfixed, Patch Available`` (unapplied) and upgradable; the gate treats all three
as affected (see :mod:`timesys_ci.gate.policy`).

Which records are consulted: ``candidates(products)`` returns the records indexed
under the package's product names (any source); ``records_about(cve_ids)`` returns
every record about the given CVEs, for the text and scores shown and for CVEs the
manifest marks as patched. A CVE the manifest marks as patched is reported as fixed
even when no record ties it to the package (NVD has no configurations yet, or the
range already excludes the version), provided a record about it is known: the
build's own statement is the stronger evidence.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Set, Tuple

from timesys.core.choices import EXTRA_FIELDS
from timesys_ci.cvss import severity_for
from timesys_ci.report import AFFECTED_CATEGORIES, CATEGORIES
from timesys_ci.sbom.model import Package, Sbom
from timesys_ci.scope import package_scope
from timesys_ci.vulndb.match import DEFAULT_IDENTIFIERS, candidate_products, package_verdicts
from timesys_ci.vulndb.merge import MergedFinding, display_record, merge
from timesys_ci.vulndb.record import VulnRecord

SCOPED_CATEGORIES = (*AFFECTED_CATEGORIES, "fixed")
RESOLVED_STATES = frozenset({"resolved", "resolved_with_pedigree"})
SUPPRESSED_STATES = frozenset({"not_affected", "false_positive"})
AFFECTED_STATES = frozenset({"exploitable", "in_triage"})
STATUS_TEXT = {
    "unfixed": "Unfixed",
    "unapplied": "Unfixed, Patch Available",
    "upgradable": "Unfixed, Upgrade Available",
    "fixed": "Fixed",
}

Candidates = Callable[[Set[str]], Iterable[VulnRecord]]
RecordsAbout = Callable[[Set[str]], Mapping[str, List[VulnRecord]]]


class Disposition(NamedTuple):
    category: str
    status: str
    vuln_status: Optional[str] = None
    justification: Optional[str] = None
    fixedby: Tuple[str, ...] = ()


@dataclass
class _ManifestFacts:
    """What the manifest says about one package's CVEs."""

    patched: Dict[str, List[str]]
    suppressed: Dict[str, Tuple[str, Optional[str]]]  # cve -> (status text, justification)


def _manifest_facts(sbom: Sbom, package: Package) -> _ManifestFacts:
    patched = {cve: list(patches) for cve, patches in package.patched_cves.items()}
    suppressed: Dict[str, Tuple[str, Optional[str]]] = {cve: ("Whitelisted", None) for cve in sbom.whitelist}
    suppressed.update({cve: ("Whitelisted", None) for cve in package.ignored_cves})
    names = {package.name, package.key}
    for statement in sbom.vulnerabilities:
        if statement.package is not None and statement.package not in names:
            continue
        if statement.state in RESOLVED_STATES:
            patched.setdefault(statement.id, [])
            patched[statement.id] += [patch for patch in statement.patches if patch not in patched[statement.id]]
        elif statement.state in SUPPRESSED_STATES:
            suppressed[statement.id] = ("Not Affected", statement.justification)
    return _ManifestFacts(patched, suppressed)


def _status_value(triage: Mapping[str, Any]) -> Optional[str]:
    for key in ("status", "vuln_status", "state"):
        if triage.get(key):
            return str(triage[key]).lower()
    return None


def affected_category(finding: Optional[MergedFinding]) -> str:
    """upgradable / unapplied / unfixed from the fixes the data knows."""
    if finding is not None and finding.fixed_versions:
        return "upgradable"
    if finding is not None and finding.fix_commits:
        return "unapplied"
    return "unfixed"


def decide(cve_id: str, facts: _ManifestFacts, triage: Optional[Mapping[str, Any]],
           finding: Optional[MergedFinding] = None) -> Disposition:
    """Category and status of one matched CVE (rules in the module docstring)."""
    status = _status_value(triage) if triage else None
    justification = (triage or {}).get("justification")
    patches = tuple(facts.patched.get(cve_id, ()))
    affected = affected_category(finding)
    if status in RESOLVED_STATES:
        return Disposition("fixed", "Fixed", status, justification, patches)
    if status in SUPPRESSED_STATES:
        return Disposition("whitelisted", "Not Affected", status, justification)
    if status in AFFECTED_STATES:
        return Disposition(affected, STATUS_TEXT[affected], status, justification)
    if cve_id in facts.patched:
        return Disposition("fixed", "Fixed", status, justification, patches)
    if cve_id in facts.suppressed:
        text, manifest_justification = facts.suppressed[cve_id]
        return Disposition("whitelisted", text, status, justification or manifest_justification)
    return Disposition(affected, STATUS_TEXT[affected], status, justification)


def _score_json(score: Any) -> Optional[Dict[str, Any]]:
    return score.to_json() if score else None


def extra_field(record: VulnRecord, name: str) -> Any:
    if name == "assigner":
        return record.assigner
    if name == "description":
        return record.description
    if name == "impact":
        return {"cvss_v2": _score_json(record.cvss_v2), "cvss_v3": _score_json(record.cvss_v3),
                "cvss_v4": _score_json(record.cvss_v4)}
    if name == "modified":
        return record.last_modified
    if name == "problem_types":
        return list(record.cwes)
    if name == "published":
        return record.published
    if name == "references":
        return [{"url": ref.url, "tags": list(ref.tags)} for ref in record.references]
    raise ValueError(f"unknown extra field {name!r}; expected one of {', '.join(EXTRA_FIELDS)}")


class Shown(NamedTuple):
    """What a report shows for one CVE, whatever package it is found in (:func:`display_fields`)."""

    fields: Tuple[Any, ...]
    kev: bool  # a record or the KEV catalog says it is exploited
    epss: Optional[float]
    record: Optional[VulnRecord] = None  # the shown record itself, for the extra fields


SHOWN_NAMES = ("cvss", "vector", "cvss_version", "cvss_v4", "vector_v4", "severity")


def display_fields(record: VulnRecord) -> Tuple[Any, ...]:
    """The entry fields that come from the shown record (:func:`display_record`), in :data:`SHOWN_NAMES` order."""
    headline = record.cvss_v3 or record.cvss_v2
    shown = record.headline_cvss
    return (headline.score if headline else None, headline.vector if headline else None,
            headline.version if headline else None, record.cvss_v4.score if record.cvss_v4 else None,
            record.cvss_v4.vector if record.cvss_v4 else None,
            severity_for(shown.score) if shown else record.severity_text)


def build_entry(
    cve_id: str,
    shown: Shown,
    package: Package,
    disposition: Disposition,
    finding: Optional[MergedFinding],
    *,
    custom_scores: Mapping[Any, Any],
    extra_fields: Sequence[str],
    scope: Optional[str] = None,
) -> Dict[str, Any]:
    """One report entry in the contract's shape."""
    cvss, vector, cvss_version, cvss_v4, vector_v4, severity = shown.fields
    entry: Dict[str, Any] = {
        "cve_id": cve_id,
        "version": package.version,
        "cvss": cvss,
        "vector": vector,
        "cvss_version": cvss_version,
        "cvss_v4": cvss_v4,
        "vector_v4": vector_v4,
        "severity": severity,
        "status": disposition.status,
        "category": disposition.category,
        "vuln_status": disposition.vuln_status,
        "justification": disposition.justification,
        "fixedby": list(disposition.fixedby),
        "fixed_version": finding.fixed_version if finding else None,
        "fixed_versions": list(finding.fixed_versions) if finding else [],
        "fix_commits": list(finding.fix_commits) if finding else [],
        "sources": list(finding.sources) if finding else [],
        "kev": shown.kev,
        "epss": shown.epss,
        "custom_score": custom_scores.get((cve_id, package.name), custom_scores.get(cve_id)),
        "scope": scope if scope is not None else package_scope(package.name, " ".join(package.cve_product)),
    }
    if extra_fields:
        if shown.record is None:
            raise ValueError("extra fields need the shown records")
        for name in extra_fields:
            entry[name] = extra_field(shown.record, name)
    return entry


class Matcher:
    """Where findings and the shown facts of CVEs come from; this one: the reference functions over records.

    ``candidates(products)`` gives the records indexed under product names, ``records_about(cve_ids)``
    every record about CVEs. The store's fast matcher (:mod:`timesys_ci.vulndb.fastmatch`) answers the
    same questions from its prepared tables, with the same results.
    """

    def __init__(self, candidates: Candidates, records_about: Optional[RecordsAbout] = None,
                 kev: Set[str] = frozenset(), epss: Mapping[str, float] = {}) -> None:  # type: ignore[assignment]
        self._candidates, self._records_about = candidates, records_about
        self._kev, self._epss = kev, epss
        self._about: Mapping[str, List[VulnRecord]] = {}

    @property
    def shows_unmatched(self) -> bool:
        """Whether CVEs no record ties to the package (those the manifest patches) can be shown."""
        return self._records_about is not None

    def findings(self, packages: Sequence[Package], identifiers: Sequence[str],
                 strict: bool) -> List[Dict[str, MergedFinding]]:
        return [package_findings(package, self._candidates, identifiers, strict) for package in packages]

    def load_shown(self, cve_ids: Set[str], with_records: bool) -> None:
        """Read what :meth:`shown` needs for these CVEs, all at once."""
        self._about = self._records_about(cve_ids) if self._records_about is not None and cve_ids else {}

    def shown(self, cve_id: str, finding: Optional[MergedFinding]) -> Optional[Shown]:
        known = {record.key: record for record in (*(finding.records if finding else ()), *self._about.get(cve_id, ()))}
        record = display_record(cve_id, known.values())
        if record is None:
            return None
        return Shown(display_fields(record), record.kev or cve_id in self._kev, self._epss.get(cve_id), record)


def empty_counts() -> Dict[str, Any]:
    counts: Dict[str, Any] = {category: 0 for category in CATEGORIES}
    for scope in ("kernel", "toolchain"):
        counts[scope] = {category: 0 for category in SCOPED_CATEGORIES}
    counts["cvss_counts"] = {
        "high": {"unfixed": 0, "fixed": 0},
        "critical": {"unfixed": 0, "fixed": 0},
        "kernel": {"high": {"unfixed": 0}, "critical": {"unfixed": 0}},
    }
    return counts


def count_entries(cves: Mapping[str, List[Dict[str, Any]]]) -> Dict[str, Any]:
    """The report ``counts`` object for finished entries."""
    counts = empty_counts()
    for entries in cves.values():
        for entry in entries:
            category, scope, severity = entry["category"], entry["scope"], entry["severity"]
            counts[category] += 1
            if scope in ("kernel", "toolchain") and category in SCOPED_CATEGORIES:
                counts[scope][category] += 1
            if severity in ("high", "critical"):
                bucket = "unfixed" if category in AFFECTED_CATEGORIES else category
                if bucket in ("unfixed", "fixed"):
                    counts["cvss_counts"][severity][bucket] += 1
                if scope == "kernel" and bucket == "unfixed":
                    counts["cvss_counts"]["kernel"][severity]["unfixed"] += 1
    return counts


def package_findings(package: Package, candidates: Candidates, identifiers: Sequence[str] = DEFAULT_IDENTIFIERS,
                     strict: bool = False) -> Dict[str, MergedFinding]:
    """CVE id -> the merged finding for every CVE the data says affects ``package``."""
    records = candidates(candidate_products(package, identifiers, strict))
    findings = {}
    for cve_id, verdicts in package_verdicts(package, records, identifiers, strict).items():
        merged = merge(cve_id, package.match_version, verdicts)
        if merged is not None:
            findings[cve_id] = merged
    return findings


def scan(
    sbom: Sbom,
    candidates: Optional[Candidates] = None,
    *,
    records_about: Optional[RecordsAbout] = None,
    matcher: Optional[Matcher] = None,
    identifiers: Sequence[str] = DEFAULT_IDENTIFIERS,
    strict: bool = False,
    statuses: Mapping[Tuple[str, str], Mapping[str, Any]] = {},
    custom_scores: Mapping[Any, Any] = {},
    kev: Set[str] = frozenset(),  # type: ignore[assignment]
    epss: Mapping[str, float] = {},
    extra_fields: Sequence[str] = (),
) -> Dict[str, Any]:
    """``{"cves": {package: [entry…]}, "counts": {…}}`` for ``sbom``; packages and CVEs sorted.

    Records come from ``candidates``/``records_about`` (read by the reference :class:`Matcher`), or
    from ``matcher`` (the store's); ``kev``/``epss`` are for the former, a matcher reads its own.
    """
    unknown = [name for name in extra_fields if name not in EXTRA_FIELDS]
    if unknown:
        raise ValueError(f"unknown extra field {unknown[0]!r}; expected one of {', '.join(EXTRA_FIELDS)}")
    if matcher is None:
        if candidates is None:
            raise ValueError("scan needs candidates or a matcher")
        matcher = Matcher(candidates, records_about, kev, epss)
    packages = sorted(sbom.packages, key=lambda item: (item.name, item.match_version))
    matched: List[Tuple[Package, _ManifestFacts, Dict[str, MergedFinding], Set[str]]] = []
    wanted: Set[str] = set()
    for package, findings in zip(packages, matcher.findings(packages, identifiers, strict)):
        facts = _manifest_facts(sbom, package)
        cve_ids = set(findings) | (set(facts.patched) if matcher.shows_unmatched else set())
        matched.append((package, facts, findings, cve_ids))
        wanted |= cve_ids
    matcher.load_shown(wanted, with_records=bool(extra_fields))
    cves: Dict[str, Dict[Tuple[str, str], Dict[str, Any]]] = {}
    for package, facts, findings, cve_ids in matched:
        scope = package_scope(package.name, " ".join(package.cve_product))
        for cve_id in sorted(cve_ids):
            finding = findings.get(cve_id)
            shown = matcher.shown(cve_id, finding)
            if shown is None:
                continue  # a patched CVE no record knows
            disposition = decide(cve_id, facts, statuses.get((cve_id, package.name)), finding)
            entry = build_entry(cve_id, shown, package, disposition, finding, custom_scores=custom_scores,
                                extra_fields=extra_fields, scope=scope)
            cves.setdefault(package.name, {})[(cve_id, entry["version"])] = entry
    ordered = {name: [entries[key] for key in sorted(entries)] for name, entries in sorted(cves.items())}
    return {"cves": ordered, "counts": count_entries(ordered)}

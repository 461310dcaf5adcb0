"""One finding per (package, CVE), whatever sources say so, by a written-down precedence.

Each record that names the package gives a :class:`~timesys_ci.vulndb.match.Verdict`
(affected or not, with the fixes it knows). Which verdict decides, first rule that applies:

1. **OSV, for its own ecosystem.** An advisory of the package's distribution (a
   package URL ``pkg:rpm/almalinux/…`` and an ``AlmaLinux:8`` record) decides alone:
   the distribution knows its backported fixes.
2. **NVD's analysed configurations**, unless a CVE JSON 5 record that also speaks is
   newer than the NVD record (its ``dateUpdated`` is later than NVD's ``lastModified``).
3. **The CVE JSON 5 record** (CNA and ADP containers; affected if any says so) when NVD
   has no configurations naming the package, or the CNA record is newer.
4. **Upstream OSV records** (no ecosystem, OSS-Fuzz, git tags) when nothing above speaks.

The CVE is reported when the deciding verdict says affected. The finding's
``sources`` are every source that says affected (``["cve5:openssl", "nvd"]``); its
fixed versions are the fixes those sources know above the package's version —
the ones in the package's release series (``6.6.34`` for 6.6.21) when there are
any, else all later ones — lowest first; ``fix_commits`` the commits and patches
they name.

:func:`display_record` picks the text and scores a report shows: NVD's, then the
CVE JSON 5 record's (CNA, then ADP such as CISA-ADP), then OSV's, field by field.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Iterable, List, Optional, Sequence, Tuple

from timesys_ci.vulndb.match import Verdict
from timesys_ci.vulndb.record import VulnRecord
from timesys_ci.vulndb.versions import compare, same_branch

SOURCE_ORDER = ("nvd", "cve5", "osv")


@dataclass(frozen=True)
class MergedFinding:
    cve_id: str
    sources: Tuple[str, ...]
    fixed_versions: Tuple[str, ...]
    fix_commits: Tuple[str, ...]
    decided_by: str
    identifier: str
    records: Tuple[VulnRecord, ...] = field(default=(), compare=False, repr=False)  # the records that say affected

    @property
    def fixed_version(self) -> Optional[str]:
        return self.fixed_versions[0] if self.fixed_versions else None


def _kind(verdict: Verdict) -> str:
    return verdict.source.split(":", 1)[0]


def _newer(a: Optional[str], b: Optional[str]) -> bool:
    """Whether timestamp ``a`` is later than ``b`` (ISO 8601; a missing one is never newer)."""
    if not a or not b:
        return False
    return a.replace("Z", "")[:23] > b.replace("Z", "")[:23]


def deciding(verdicts: Sequence[Verdict]) -> List[Verdict]:
    """The verdicts that decide, by the precedence in the module docstring (all of equal rank)."""
    own = [verdict for verdict in verdicts if verdict.authoritative]
    if own:
        return own
    nvd = [verdict for verdict in verdicts if _kind(verdict) == "nvd"]
    cve5 = [verdict for verdict in verdicts if _kind(verdict) == "cve5"]
    if nvd and cve5 and any(_newer(c.record.last_modified, n.record.last_modified) for c in cve5 for n in nvd):
        return cve5
    if nvd:
        return nvd
    if cve5:
        return cve5
    return [verdict for verdict in verdicts if _kind(verdict) == "osv"]


def _fixes(version: str, affected: Sequence[Verdict]) -> Tuple[str, ...]:
    candidates: List[Tuple[str, Verdict]] = []
    for verdict in affected:
        for fixed in verdict.fixed_versions:
            if (compare(verdict.order, fixed, version) or 0) > 0:
                candidates.append((fixed, verdict))
    in_branch = [(fixed, verdict) for fixed, verdict in candidates if same_branch(verdict.order, fixed, version)]
    chosen = in_branch or candidates
    order = chosen[0][1].order if chosen else None

    def by_version(a: str, b: str) -> int:
        return compare(order, a, b) or 0  # type: ignore[arg-type]

    unique = list(dict.fromkeys(fixed for fixed, _ in chosen))
    return tuple(sorted(unique, key=functools.cmp_to_key(by_version)))


def merge(cve_id: str, version: str, verdicts: Sequence[Verdict]) -> Optional[MergedFinding]:
    """The finding for one CVE, or None when the deciding source says the package is not affected."""
    if len(verdicts) == 1:  # most CVEs: what the rules below make of a single verdict, directly
        verdict = verdicts[0]
        if not verdict.affected:
            return None
        return MergedFinding(cve_id=cve_id, sources=(verdict.source,), fixed_versions=_fixes(version, verdicts),
                             fix_commits=tuple(dict.fromkeys(verdict.fix_commits)), decided_by=verdict.source,
                             identifier=verdict.identifier, records=(verdict.record,))
    decided = deciding(verdicts)
    if not any(verdict.affected for verdict in decided):
        return None
    affected = [verdict for verdict in verdicts if verdict.affected]
    if any(verdict.authoritative for verdict in decided):
        affected = [verdict for verdict in affected if verdict.authoritative]
    sources = tuple(sorted({verdict.source for verdict in affected},
                           key=lambda source: (SOURCE_ORDER.index(source.split(":")[0]), source)))
    first = next(verdict for verdict in decided if verdict.affected)
    commits = tuple(dict.fromkeys(commit for verdict in affected for commit in verdict.fix_commits))
    return MergedFinding(cve_id=cve_id, sources=sources, fixed_versions=_fixes(version, affected),
                         fix_commits=commits, decided_by=first.source, identifier=first.identifier,
                         records=tuple({verdict.record.key: verdict.record for verdict in affected}.values()))


def display_record(cve_id: str, records: Iterable[VulnRecord]) -> Optional[VulnRecord]:
    """One record for showing a CVE: NVD's, with what it lacks filled from CVE JSON 5, then OSV."""
    ordered = sorted(records, key=lambda record: (SOURCE_ORDER.index(record.source), record.id != cve_id, record.id))
    if not ordered:
        return None
    shown = replace(ordered[0], id=cve_id, provenance=dict(ordered[0].provenance))
    for other in ordered[1:]:
        for name in ("description", "published", "last_modified", "assigner", "cvss_v2", "cvss_v3", "cvss_v4",
                     "severity_text"):
            if not getattr(shown, name) and getattr(other, name):
                setattr(shown, name, getattr(other, name))
                shown.provenance[name] = other.provenance.get(name, f"{other.source}:{other.assigner or other.id}")
        if not shown.cwes and other.cwes:
            shown.cwes = list(other.cwes)
        if not shown.references and other.references:
            shown.references = list(other.references)
        shown.kev = shown.kev or other.kev
    return shown

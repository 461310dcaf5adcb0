"""OSV 1.x JSON advisories → :class:`VulnRecord` (source ``osv``).

Each ``affected[]`` entry keeps its package (ecosystem, name, purl), its ranges
with their events in order (``ECOSYSTEM``/``SEMVER``: introduced, fixed,
last_affected, limit; ``GIT`` ranges with their repo) and its ``versions`` list.
The record speaks for the CVE ids among its ``aliases`` and ``related`` ids
(AlmaLinux advisories list their CVEs as ``related``); an advisory without one
keeps its own id. An entry without a package (curl's own records) is named by
``database_specific.package`` or by its git repo. A qualitative severity (the
"Moderate:" of a distro advisory's summary, ``database_specific.severity``, an
Ubuntu priority) is kept as ``severity_text``; CVSS vectors without a score are
not. Fix commits: the ``fixed`` events of GIT ranges and FIX references to
commits. Withdrawn advisories become :class:`Withdrawn`.
"""
from __future__ import annotations

from typing import Any, List, Optional

from timesys_ci.vulndb.errors import VulnDataError
from timesys_ci.vulndb.record import Affected, OsvRange, Reference, VulnRecord
from timesys_ci.vulndb.sources.common import Parsed, Withdrawn, commit_ref, is_commit_url, text_or_none, unique, where
from timesys_ci.vulndb.sources.cve5 import rating

RANGE_TYPES = frozenset({"ECOSYSTEM", "SEMVER", "GIT"})
EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")


def is_osv_document(document: Any) -> bool:
    return (isinstance(document, dict) and isinstance(document.get("id"), str)
            and isinstance(document.get("affected", []), list)
            and ("modified" in document or "schema_version" in document)
            and "cveMetadata" not in document and "vulnerabilities" not in document)


def _strings(value: Any) -> List[str]:
    return [item.strip() for item in value or [] if isinstance(item, str) and item.strip()]


def _range(raw: Any) -> Optional[OsvRange]:
    if not isinstance(raw, dict) or str(raw.get("type", "")).upper() not in RANGE_TYPES:
        return None
    events = []
    for event in raw.get("events") or []:
        if isinstance(event, dict):
            events += [(kind, str(event[kind])) for kind in EVENT_KINDS if isinstance(event.get(kind), str)]
    return OsvRange(type=str(raw["type"]).upper(), events=events, repo=text_or_none(raw.get("repo")))


def _affected(raw: Any, record: Any) -> Optional[Affected]:
    if not isinstance(raw, dict):
        return None
    package = raw.get("package") if isinstance(raw.get("package"), dict) else {}
    ranges = [parsed for parsed in (_range(item) for item in raw.get("ranges") or []) if parsed]
    database = raw.get("database_specific") if isinstance(raw.get("database_specific"), dict) else {}
    top = record.get("database_specific") if isinstance(record.get("database_specific"), dict) else {}
    repo = next((item.repo for item in ranges if item.type == "GIT" and item.repo), None)
    entry = Affected(
        provider=str(package.get("ecosystem") or ""),
        package_name=text_or_none(package.get("name")) or text_or_none(database.get("package"))
        or text_or_none(top.get("package")),
        ecosystem=text_or_none(package.get("ecosystem")),
        purl=text_or_none(package.get("purl")),
        ranges=ranges,
        enumerated=_strings(raw.get("versions")),
        repo=repo,
    )
    if not (entry.package_name or entry.repo or entry.purl):
        return None
    return entry


def _severity_text(document: Any) -> Optional[str]:
    for item in document.get("severity") or []:
        if isinstance(item, dict) and rating(item.get("score")):
            return rating(item["score"])
    database = document.get("database_specific") if isinstance(document.get("database_specific"), dict) else {}
    if rating(database.get("severity")):
        return rating(database["severity"])
    summary = document.get("summary")
    if isinstance(summary, str) and ":" in summary:
        return rating(summary.split(":", 1)[0])  # "Moderate: openssl security update"
    for entry in document.get("affected") or []:
        specific = entry.get("ecosystem_specific") if isinstance(entry, dict) else None
        if isinstance(specific, dict) and rating(specific.get("severity")):
            return rating(specific["severity"])
    return None


def parse_osv(document: Any, source: Optional[str] = None) -> Parsed:
    """Normalise one OSV advisory; :class:`Withdrawn` for withdrawn ones."""
    if not is_osv_document(document):
        raise VulnDataError(f"{where(source)}: not an OSV record (expected 'id', 'modified' and 'affected')")
    record_id = document["id"].strip()
    if document.get("withdrawn"):
        return Withdrawn("osv", record_id)
    references = [Reference(url=str(ref["url"]), tags=[str(ref.get("type", ""))] if ref.get("type") else [])
                  for ref in document.get("references") or [] if isinstance(ref, dict) and isinstance(ref.get("url"), str)]
    affected = [entry for entry in (_affected(raw, document) for raw in document.get("affected") or []) if entry]
    database = document.get("database_specific") if isinstance(document.get("database_specific"), dict) else {}
    cwe = database.get("CWE") if isinstance(database.get("CWE"), dict) else {}
    commits = [commit_ref(item.repo, value) for entry in affected for item in entry.ranges if item.type == "GIT"
               for kind, value in item.events if kind == "fixed"]
    commits += [ref.url for ref in references if "FIX" in ref.tags and is_commit_url(ref.url)]
    return VulnRecord(
        id=record_id, source="osv",
        aliases=_strings(document.get("aliases")) + _strings(document.get("upstream")),
        related=_strings(document.get("related")),
        description=str(document.get("details") or document.get("summary") or ""),
        published=document.get("published"), last_modified=document.get("modified"),
        severity_text=_severity_text(document),
        cwes=unique([*_strings(database.get("cwe_ids")), *([cwe["id"]] if isinstance(cwe.get("id"), str) else [])]),
        references=references, affected=affected, fix_commits=unique(commits),
        assigner=record_id.split("-", 1)[0],
    )

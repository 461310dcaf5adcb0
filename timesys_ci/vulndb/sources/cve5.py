"""CVE JSON 5.x records (CVE List V5, a CNA's own files) → :class:`VulnRecord` (source ``cve5``).

The CNA container gives the description, its ``affected[]`` entries and usually
the scores; ADP containers add to it (CISA-ADP: CVSS, CWEs and sometimes
``affected`` entries with CPEs). Every ``affected`` entry keeps its provider
(the container's short name), vendor, product, packageName, collectionURL, cpes,
defaultStatus, ``versions[]`` (version, lessThan, lessThanOrEqual — ``*`` kept
as written —, status, versionType, changes), repo, programFiles and platforms.
``cpeApplicability`` becomes ``configurations``. Scores come from the CNA first,
then from an ADP (named in ``provenance``); a qualitative rating (OpenSSL's
"High", Red Hat's "Important") is kept as ``severity_text`` for records without a
score. Fix commits: the ``lessThan`` of ``git`` ranges and patch-tagged commit
references. REJECTED records become :class:`Withdrawn`.

Parsing is lenient with what CNAs really write (missing versionType, ``n/a``
placeholders, unknown statuses are dropped) and strict about structure.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from timesys_ci.vulndb.errors import VulnDataError
from timesys_ci.vulndb.record import Affected, CvssScore, Reference, VersionEntry, VulnRecord
from timesys_ci.vulndb.sources.common import (
    Parsed,
    Withdrawn,
    commit_ref,
    english,
    is_commit_url,
    text_or_none,
    unique,
    where,
)
from timesys_ci.vulndb.sources.nvd import parse_configurations

STATUSES = frozenset({"affected", "unaffected", "unknown"})
_METRIC_KEYS = {"cvssV4_0": "cvss_v4", "cvssV3_1": "cvss_v3", "cvssV3_0": "cvss_v3", "cvssV2_0": "cvss_v2"}
_RATINGS = {"none": "none", "low": "low", "moderate": "medium", "medium": "medium", "important": "high",
            "high": "high", "critical": "critical"}


def is_cve5_document(document: Any) -> bool:
    return isinstance(document, dict) and (
        document.get("dataType") == "CVE_RECORD" or ("cveMetadata" in document and "containers" in document))


def rating(text: Any) -> Optional[str]:
    """A qualitative severity word as a band name ("Moderate" → medium, "Important" → high)."""
    return _RATINGS.get(str(text).strip().lower()) if isinstance(text, str) else None


def _score(raw: Dict[str, Any]) -> Optional[CvssScore]:
    score = raw.get("baseScore")
    if not isinstance(score, (int, float)) or isinstance(score, bool):
        return None
    severity = raw.get("baseSeverity")
    return CvssScore(version=str(raw.get("version", "")), score=float(score), vector=str(raw.get("vectorString", "")),
                     severity=str(severity).lower() if severity else None)


def _metrics(container: Dict[str, Any]) -> Tuple[Dict[str, CvssScore], Optional[str]]:
    scores: Dict[str, CvssScore] = {}
    word: Optional[str] = None
    for metric in container.get("metrics") or []:
        if not isinstance(metric, dict):
            continue
        for key, name in _METRIC_KEYS.items():
            if isinstance(metric.get(key), dict) and name not in scores:
                parsed = _score(metric[key])
                if parsed:
                    scores[name] = parsed
        other = metric.get("other")
        if word is None and isinstance(other, dict) and isinstance(other.get("content"), dict):
            content = other["content"]
            word = rating(content.get("text", content.get("value")))
    return scores, word


def _cwes(container: Dict[str, Any]) -> List[str]:
    found = []
    for problem in container.get("problemTypes") or []:
        for entry in problem.get("descriptions", []) if isinstance(problem, dict) else []:
            if not isinstance(entry, dict):
                continue
            cwe = entry.get("cweId") or (entry.get("description") or "").split(" ", 1)[0]
            if isinstance(cwe, str) and cwe.upper().startswith("CWE-"):
                found.append(cwe.upper())
    return found


def _version_entry(raw: Any) -> Optional[VersionEntry]:
    if not isinstance(raw, dict):
        return None
    version, status = text_or_none(raw.get("version")), str(raw.get("status", "")).lower()
    if version is None or status not in STATUSES:
        return None
    changes = [(str(change["at"]), str(change["status"]).lower()) for change in raw.get("changes") or []
               if isinstance(change, dict) and isinstance(change.get("at"), str)
               and str(change.get("status", "")).lower() in STATUSES]
    less_than, at_most = raw.get("lessThan"), raw.get("lessThanOrEqual")
    return VersionEntry(
        version=version, status=status,
        version_type=str(raw["versionType"]) if isinstance(raw.get("versionType"), str) else None,
        less_than=less_than.strip() if isinstance(less_than, str) and less_than.strip() else None,
        less_than_or_equal=at_most.strip() if isinstance(at_most, str) and at_most.strip() else None,
        changes=changes,
    )


def _strings(value: Any) -> List[str]:
    return [item.strip() for item in value or [] if isinstance(item, str) and item.strip()]


def _affected(raw: Any, provider: str) -> Optional[Affected]:
    if not isinstance(raw, dict):
        return None
    entry = Affected(
        provider=provider,
        vendor=text_or_none(raw.get("vendor")),
        product=text_or_none(raw.get("product")),
        package_name=text_or_none(raw.get("packageName")),
        collection_url=text_or_none(raw.get("collectionURL")),
        cpes=_strings(raw.get("cpes")),
        default_status=str(raw["defaultStatus"]).lower() if str(raw.get("defaultStatus", "")).lower() in STATUSES
        else None,
        versions=[parsed for parsed in (_version_entry(item) for item in raw.get("versions") or []) if parsed],
        repo=text_or_none(raw.get("repo")),
        program_files=_strings(raw.get("programFiles")),
        platforms=_strings(raw.get("platforms")),
    )
    if not (entry.product or entry.package_name or entry.cpes):
        return None  # nothing names the software ("n/a" placeholders)
    return entry


def _fix_commits(affected: List[Affected], references: List[Reference]) -> List[str]:
    commits = []
    for entry in affected:
        for item in entry.versions:
            if (item.version_type or "").lower() != "git":
                continue
            if item.status == "affected" and item.less_than and item.less_than != "*":
                commits.append(commit_ref(entry.repo, item.less_than))
            commits += [commit_ref(entry.repo, at) for at, status in item.changes if status == "unaffected"]
    commits += [ref.url for ref in references if "patch" in (tag.lower() for tag in ref.tags) and is_commit_url(ref.url)]
    return unique(commits)


def parse_cve5(document: Any, source: Optional[str] = None) -> Parsed:
    """Normalise one CVE JSON 5 record; :class:`Withdrawn` for REJECTED ones."""
    if not is_cve5_document(document):
        raise VulnDataError(f"{where(source)}: not a CVE JSON 5 record (no 'cveMetadata' and 'containers')")
    meta = document.get("cveMetadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("cveId"), str):
        raise VulnDataError(f"{where(source)}: cveMetadata.cveId: missing")
    cve_id = meta["cveId"].strip().upper()
    place = where(source, cve_id)
    if str(meta.get("state", "PUBLISHED")).upper() == "REJECTED":
        return Withdrawn("cve5", cve_id)
    containers = document.get("containers")
    cna = containers.get("cna") if isinstance(containers, dict) else None
    if not isinstance(cna, dict):
        raise VulnDataError(f"{place}: containers.cna: missing")
    adps = [adp for adp in containers.get("adp") or [] if isinstance(adp, dict)]
    cna_meta = cna.get("providerMetadata") if isinstance(cna.get("providerMetadata"), dict) else {}
    cna_name = str(cna_meta.get("shortName") or meta.get("assignerShortName") or "cna")

    record = VulnRecord(
        id=cve_id, source="cve5", description=english(cna.get("descriptions")),
        published=meta.get("datePublished") or cna.get("datePublic"),
        last_modified=meta.get("dateUpdated") or cna_meta.get("dateUpdated"),
        vuln_status=str(meta.get("state", "PUBLISHED")).title(), assigner=cna_name,
    )
    containers_in_order = [(cna_name, cna)] + [
        (str((adp.get("providerMetadata") or {}).get("shortName") or "adp"), adp) for adp in adps]
    references: Dict[str, Reference] = {}
    for name, container in containers_in_order:
        scores, word = _metrics(container)
        for field_name, score in scores.items():
            if getattr(record, field_name) is None:
                setattr(record, field_name, score)
                if name != cna_name:
                    record.provenance[field_name] = name
        if record.severity_text is None and word:
            record.severity_text = word
            if name != cna_name:
                record.provenance["severity_text"] = name
        record.cwes = unique([*record.cwes, *_cwes(container)])
        for ref in container.get("references") or []:
            if isinstance(ref, dict) and isinstance(ref.get("url"), str) and ref["url"] not in references:
                references[ref["url"]] = Reference(url=ref["url"], tags=_strings(ref.get("tags")))
        record.affected += [entry for entry in (_affected(raw, name) for raw in container.get("affected") or [])
                            if entry]
        applicability = container.get("cpeApplicability")
        if applicability:
            if not record.configurations and name != cna_name:
                record.provenance["configurations"] = name
            record.configurations += parse_configurations(applicability, place)
    record.references = list(references.values())
    record.fix_commits = _fix_commits(record.affected, record.references)
    return record

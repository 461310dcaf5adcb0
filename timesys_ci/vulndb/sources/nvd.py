"""NVD CVE API 2.0 JSON → :class:`VulnRecord` (source ``nvd``).

Accepted documents (plain or gzip, told apart by the gzip magic bytes):

* a single ``cve`` object (the fkie-cad feed layout: a bare object with ``id``);
* one ``{"cve": {…}}`` wrapper (an item of a page, saved on its own);
* an API response page ``{"resultsPerPage": …, "vulnerabilities": [{"cve": {…}}]}``;
* a yearly/modified 2.0 feed file (the same envelope, or just ``{"vulnerabilities": […]}``).

Rejected records become :class:`Withdrawn` (the store drops an earlier copy).
Records without ``configurations`` (Received / Awaiting Analysis) are kept: they
give scores and text, but say nothing about affected versions. ``Patch``-tagged
references that point at a commit or patch are the record's ``fix_commits``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Union

from timesys_ci.cvss import severity_for
from timesys_ci.vulndb.cpe import CpeError, parse_cpe
from timesys_ci.vulndb.errors import VulnDataError
from timesys_ci.vulndb.record import Configuration, CpeMatch, CvssScore, Node, Reference, VulnRecord
from timesys_ci.vulndb.sources.common import Parsed, Withdrawn, decode_json, english, is_commit_url, unique, where

_V3_KEYS = ("cvssMetricV31", "cvssMetricV30")
_V4_KEYS = ("cvssMetricV40",)
_V2_KEYS = ("cvssMetricV2",)


def _pick_metric(metrics: Mapping[str, Any], keys: Iterable[str]) -> Optional[CvssScore]:
    """The NVD "Primary" metric of the first present kind, else the first listed."""
    for key in keys:
        entries = [entry for entry in metrics.get(key) or [] if isinstance(entry, dict)]
        if not entries:
            continue
        chosen = next((entry for entry in entries if entry.get("type") == "Primary"), entries[0])
        data = chosen.get("cvssData") or {}
        score = data.get("baseScore")
        if not isinstance(score, (int, float)):
            continue
        severity = data.get("baseSeverity") or chosen.get("baseSeverity")
        return CvssScore(
            version=str(data.get("version", "")),
            score=float(score),
            vector=str(data.get("vectorString", "")),
            severity=str(severity).lower() if severity else severity_for(float(score)),
        )
    return None


def _parse_match(raw: Any, place: str) -> CpeMatch:
    if not isinstance(raw, dict) or not isinstance(raw.get("criteria"), str):
        raise VulnDataError(f"{place}: cpeMatch entry without a 'criteria' string")
    try:
        parse_cpe(raw["criteria"])
    except CpeError as exc:
        raise VulnDataError(f"{place}: {exc}") from None
    return CpeMatch(
        vulnerable=bool(raw.get("vulnerable", True)),
        criteria=raw["criteria"],
        version_start_including=raw.get("versionStartIncluding"),
        version_start_excluding=raw.get("versionStartExcluding"),
        version_end_including=raw.get("versionEndIncluding"),
        version_end_excluding=raw.get("versionEndExcluding"),
    )


def parse_configurations(raw: Any, place: str) -> List[Configuration]:
    """NVD ``configurations`` (also the shape of CVE JSON 5 ``cpeApplicability``)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise VulnDataError(f"{place}: 'configurations' must be a list")
    configurations = []
    for config in raw:
        if not isinstance(config, dict) or not isinstance(config.get("nodes", []), list):
            raise VulnDataError(f"{place}: configuration must be an object with a 'nodes' list")
        nodes = []
        for node in config.get("nodes", []):
            if not isinstance(node, dict) or not isinstance(node.get("cpeMatch", []), list):
                raise VulnDataError(f"{place}: configuration node must be an object with a 'cpeMatch' list")
            nodes.append(
                Node(
                    operator=str(node.get("operator", "OR")).upper(),
                    negate=bool(node.get("negate", False)),
                    matches=[_parse_match(match, place) for match in node.get("cpeMatch", [])],
                )
            )
        configurations.append(
            Configuration(
                operator=str(config.get("operator", "OR")).upper(),
                negate=bool(config.get("negate", False)),
                nodes=nodes,
            )
        )
    return configurations


def _cwes(weaknesses: Any) -> List[str]:
    found: List[str] = []
    for weakness in weaknesses or []:
        for entry in weakness.get("description", []) if isinstance(weakness, dict) else []:
            value = entry.get("value") if isinstance(entry, dict) else None
            if isinstance(value, str) and value not in found:
                found.append(value)
    return found


def parse_cve(cve: Any, source: Optional[str] = None) -> Parsed:
    """Normalise one NVD ``cve`` object; :class:`Withdrawn` for Rejected records."""
    if not isinstance(cve, dict) or not isinstance(cve.get("id"), str):
        raise VulnDataError(f"{where(source)}: CVE record is not an object with an 'id' string")
    record_id = cve["id"]
    place = where(source, record_id)
    status = cve.get("vulnStatus")
    if status == "Rejected":
        return Withdrawn("nvd", record_id)
    metrics = cve.get("metrics") or {}
    if not isinstance(metrics, dict):
        raise VulnDataError(f"{place}: 'metrics' must be an object")
    references = [
        Reference(url=str(ref["url"]), tags=[str(tag) for tag in ref.get("tags", [])])
        for ref in cve.get("references") or []
        if isinstance(ref, dict) and "url" in ref
    ]
    return VulnRecord(
        id=record_id,
        source="nvd",
        description=english(cve.get("descriptions")),
        published=cve.get("published"),
        last_modified=cve.get("lastModified"),
        vuln_status=status,
        assigner=cve.get("sourceIdentifier"),
        cvss_v2=_pick_metric(metrics, _V2_KEYS),
        cvss_v3=_pick_metric(metrics, _V3_KEYS),
        cvss_v4=_pick_metric(metrics, _V4_KEYS),
        cwes=_cwes(cve.get("weaknesses")),
        references=references,
        kev="cisaExploitAdd" in cve,
        configurations=parse_configurations(cve.get("configurations"), place),
        fix_commits=unique(ref.url for ref in references if "Patch" in ref.tags and is_commit_url(ref.url)),
    )


def is_nvd_document(document: Any) -> bool:
    """Whether a decoded JSON value has one of the accepted NVD layouts."""
    if not isinstance(document, dict):
        return False
    if isinstance(document.get("vulnerabilities"), list):
        items = document["vulnerabilities"]
        return not items or (isinstance(items[0], dict) and "cve" in items[0])
    if isinstance(document.get("cve"), dict) and len(document) <= 2:
        return True
    return isinstance(document.get("id"), str) and ("sourceIdentifier" in document or "vulnStatus" in document
                                                    or "configurations" in document or "descriptions" in document)


def parse_item(item: Any, index: int, source: Optional[str]) -> Parsed:
    """One element of ``vulnerabilities[]``."""
    if not isinstance(item, dict) or not isinstance(item.get("cve"), dict):
        raise VulnDataError(f"{where(source)}: vulnerabilities[{index}] has no 'cve' object")
    return parse_cve(item["cve"], source)


def iter_nvd_document(document: Any, source: Optional[str] = None) -> Iterator[Parsed]:
    """Records (and withdrawals) of a decoded NVD document of any accepted layout."""
    if isinstance(document, dict) and "vulnerabilities" in document:
        items = document["vulnerabilities"]
        if not isinstance(items, list):
            raise VulnDataError(f"{where(source)}: 'vulnerabilities' must be a list")
        for index, item in enumerate(items):
            yield parse_item(item, index, source)
        return
    if isinstance(document, dict) and isinstance(document.get("cve"), dict):
        yield parse_cve(document["cve"], source)
        return
    if isinstance(document, dict) and "id" in document:
        yield parse_cve(document, source)
        return
    raise VulnDataError(
        f"{where(source)}: not NVD CVE API 2.0 JSON (expected a 'cve' object or a 'vulnerabilities' list)"
    )


def parse_nvd_document(document: Any, source: Optional[str] = None) -> List[VulnRecord]:
    """The records of a decoded NVD document (withdrawn ones left out)."""
    return [item for item in iter_nvd_document(document, source) if isinstance(item, VulnRecord)]


def load_nvd_bytes(data: bytes, source: Optional[str] = None) -> List[VulnRecord]:
    """Decode (gunzipping when needed) and import NVD JSON bytes."""
    return parse_nvd_document(decode_json(data, where(source)), source)


def load_nvd_file(path: Union[str, Path]) -> List[VulnRecord]:
    """Import one NVD JSON file (``.json`` or gzip-compressed)."""
    return load_nvd_bytes(Path(path).read_bytes(), str(path))


def to_api_envelope(records: Iterable[Dict[str, Any]]) -> Dict[str, Any]:
    """Wrap raw NVD ``cve`` objects in an API 2.0 response envelope."""
    items = [{"cve": cve} for cve in records]
    return {
        "format": "NVD_CVE",
        "version": "2.0",
        "resultsPerPage": len(items),
        "startIndex": 0,
        "totalResults": len(items),
        "vulnerabilities": items,
    }

"""Import NVD CVE API 2.0 JSON into :class:`VulnRecord` objects.

Accepted inputs (plain or gzip, told apart by the gzip magic bytes):

* a single ``cve`` object (the fkie-cad feed layout: a bare object with ``id``);
* an API response page ``{"resultsPerPage": …, "vulnerabilities": [{"cve": {…}}]}``;
* a yearly/modified 2.0 feed file (the same envelope, or just ``{"vulnerabilities": […]}``).

Rejected records are skipped. Records without ``configurations``
(Received / Awaiting Analysis) are imported but never match a package.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

from timesys_ci.vulndb.cpe import CpeError, parse_cpe
from timesys_ci.cvss import severity_for
from timesys_ci.vulndb.errors import VulnDataError
from timesys_ci.vulndb.record import (
    Configuration,
    CpeMatch,
    CvssScore,
    Node,
    Reference,
    VulnRecord,
)

GZIP_MAGIC = b"\x1f\x8b"
_V3_KEYS = ("cvssMetricV31", "cvssMetricV30")
_V4_KEYS = ("cvssMetricV40",)
_V2_KEYS = ("cvssMetricV2",)


def _where(source: Optional[str], record_id: Optional[str] = None) -> str:
    place = source or "<NVD data>"
    return f"{place}: {record_id}" if record_id else place


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


def _parse_match(raw: Any, where: str) -> CpeMatch:
    if not isinstance(raw, dict) or not isinstance(raw.get("criteria"), str):
        raise VulnDataError(f"{where}: cpeMatch entry without a 'criteria' string")
    try:
        parse_cpe(raw["criteria"])
    except CpeError as exc:
        raise VulnDataError(f"{where}: {exc}") from None
    return CpeMatch(
        vulnerable=bool(raw.get("vulnerable", True)),
        criteria=raw["criteria"],
        version_start_including=raw.get("versionStartIncluding"),
        version_start_excluding=raw.get("versionStartExcluding"),
        version_end_including=raw.get("versionEndIncluding"),
        version_end_excluding=raw.get("versionEndExcluding"),
    )


def _parse_configurations(raw: Any, where: str) -> List[Configuration]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise VulnDataError(f"{where}: 'configurations' must be a list")
    configurations = []
    for config in raw:
        if not isinstance(config, dict) or not isinstance(config.get("nodes", []), list):
            raise VulnDataError(f"{where}: configuration must be an object with a 'nodes' list")
        nodes = []
        for node in config.get("nodes", []):
            if not isinstance(node, dict) or not isinstance(node.get("cpeMatch", []), list):
                raise VulnDataError(f"{where}: configuration node must be an object with a 'cpeMatch' list")
            nodes.append(
                Node(
                    operator=str(node.get("operator", "OR")).upper(),
                    negate=bool(node.get("negate", False)),
                    matches=[_parse_match(match, where) for match in node.get("cpeMatch", [])],
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


def _english(entries: Any) -> str:
    texts = [entry for entry in entries or [] if isinstance(entry, dict)]
    chosen = next((entry for entry in texts if entry.get("lang") == "en"), texts[0] if texts else {})
    return str(chosen.get("value", ""))


def _cwes(weaknesses: Any) -> List[str]:
    found: List[str] = []
    for weakness in weaknesses or []:
        for entry in weakness.get("description", []) if isinstance(weakness, dict) else []:
            value = entry.get("value") if isinstance(entry, dict) else None
            if isinstance(value, str) and value not in found:
                found.append(value)
    return found


def parse_cve(cve: Any, source: Optional[str] = None) -> Optional[VulnRecord]:
    """Normalise one NVD ``cve`` object; None for Rejected records."""
    if not isinstance(cve, dict) or not isinstance(cve.get("id"), str):
        raise VulnDataError(f"{_where(source)}: CVE record is not an object with an 'id' string")
    record_id = cve["id"]
    where = _where(source, record_id)
    status = cve.get("vulnStatus")
    if status == "Rejected":
        return None
    metrics = cve.get("metrics") or {}
    if not isinstance(metrics, dict):
        raise VulnDataError(f"{where}: 'metrics' must be an object")
    references = [
        Reference(url=str(ref["url"]), tags=[str(tag) for tag in ref.get("tags", [])])
        for ref in cve.get("references") or []
        if isinstance(ref, dict) and "url" in ref
    ]
    return VulnRecord(
        id=record_id,
        description=_english(cve.get("descriptions")),
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
        configurations=_parse_configurations(cve.get("configurations"), where),
    )


def parse_nvd_document(document: Any, source: Optional[str] = None) -> List[VulnRecord]:
    """Records from a decoded NVD JSON document of any accepted layout."""
    if isinstance(document, dict) and "vulnerabilities" in document:
        items = document["vulnerabilities"]
        if not isinstance(items, list):
            raise VulnDataError(f"{_where(source)}: 'vulnerabilities' must be a list")
        records = []
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("cve"), dict):
                raise VulnDataError(f"{_where(source)}: vulnerabilities[{index}] has no 'cve' object")
            record = parse_cve(item["cve"], source)
            if record is not None:
                records.append(record)
        return records
    if isinstance(document, dict) and "id" in document:
        record = parse_cve(document, source)
        return [record] if record is not None else []
    raise VulnDataError(
        f"{_where(source)}: not NVD CVE API 2.0 JSON (expected a 'cve' object or a 'vulnerabilities' list)"
    )


def load_nvd_bytes(data: bytes, source: Optional[str] = None) -> List[VulnRecord]:
    """Decode (gunzipping when needed) and import NVD JSON bytes."""
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise VulnDataError(f"{_where(source)}: corrupt gzip data ({exc})") from None
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise VulnDataError(f"{_where(source)}: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise VulnDataError(
            f"{_where(source)}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    return parse_nvd_document(document, source)


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

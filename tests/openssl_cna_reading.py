"""An independent reading of the OpenSSL CNA's CVE JSON 5 records (not a test module).

Written from the CVE JSON 5 schema's version-status algorithm and OpenSSL's release
naming only, without the product code, so tests can check the service against it:
the first ``versions[]`` entry containing the version gives its status, else
``defaultStatus``; OpenSSL versions are ``major.minor.fix`` plus a letter run that counts
a=1 … z=26, za=27 … zz=52, zza=53 ….
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, FrozenSet, Optional, Tuple

RECORDS = Path(__file__).parent / "fixtures" / "vulndb" / "cve5" / "openssl-cna"
_RELEASE = re.compile(r"(\d+)\.(\d+)\.(\d+)([a-z]*)")


def release_number(version: str) -> Optional[Tuple[int, int, int, int]]:
    match = _RELEASE.fullmatch(version)
    if not match:
        return None  # e.g. "fips-1.1.1": not an OpenSSL release
    letters = match.group(4)
    count = 0 if not letters else 26 * (len(letters) - 1) + (ord(letters[-1]) - ord("a") + 1)
    return int(match.group(1)), int(match.group(2)), int(match.group(3)), count


def status_of(affected: dict, version: str) -> str:
    return _decide(affected, version)[0]


def fix_of(affected: dict, version: str) -> Optional[str]:
    """The ``lessThan`` of the affected range that contains ``version`` (where the CNA says it was fixed)."""
    return _decide(affected, version)[1]


def _decide(affected: dict, version: str) -> Tuple[str, Optional[str]]:
    wanted = release_number(version)
    for entry in affected.get("versions", []):
        start = release_number(entry["version"]) if entry["version"] != "0" else (0, 0, 0, 0)
        if start is None or wanted is None:
            continue
        if "lessThan" in entry:
            end = release_number(entry["lessThan"])
            inside = end is not None and start <= wanted < end
        elif "lessThanOrEqual" in entry:
            end = release_number(entry["lessThanOrEqual"])
            inside = end is not None and start <= wanted <= end
        else:
            inside = start == wanted
        if inside:
            return str(entry["status"]), entry.get("lessThan")
    return str(affected.get("defaultStatus", "unknown")), None


@lru_cache(maxsize=1)
def records() -> Dict[str, dict]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(RECORDS.glob("CVE-*.json"))}


def cves_affecting(version: str) -> FrozenSet[str]:
    """The CVE ids whose OpenSSL CNA record says ``version`` is affected."""
    return frozenset(fixes_for(version))


def fixes_for(version: str) -> Dict[str, Optional[str]]:
    """CVE id -> the version the CNA says fixed it (None if it says none), for every CVE affecting ``version``."""
    found: Dict[str, Optional[str]] = {}
    for cve, record in records().items():
        for entry in record["containers"]["cna"]["affected"]:
            if status_of(entry, version) == "affected":
                found[cve] = fix_of(entry, version)
    return found

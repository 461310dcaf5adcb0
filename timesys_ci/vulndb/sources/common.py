"""What the source parsers share: decoding bytes, English text, fix-commit references, withdrawn records."""
from __future__ import annotations

import gzip
import io
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, List, Optional, Union

from timesys_ci.vulndb.errors import VulnDataError
from timesys_ci.vulndb.record import VulnRecord

GZIP_MAGIC = b"\x1f\x8b"
#: Largest decompressed size read from one gzip file or member by the convenience loaders.
MAX_DOCUMENT_BYTES = 512 * 1024 * 1024

# A reference that points at one commit or patch (GitHub/GitLab/cgit/gitweb/kernel.org), not at an advisory.
_COMMIT_URL = re.compile(
    r"/commits?/[0-9a-f]{7,40}\b|/-/commit/[0-9a-f]{7,40}\b|[?;&](?:id|h)=[0-9a-f]{7,40}\b|/c/[0-9a-f]{7,40}\b"
    r"|/linus/[0-9a-f]{7,40}\b|\.(?:patch|diff)(?:$|[?#])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Withdrawn:
    """A record the source has rejected or withdrawn: the store drops its earlier copy."""

    source: str
    id: str


Parsed = Union[VulnRecord, Withdrawn]


def where(source: Optional[str], record_id: Optional[str] = None) -> str:
    place = source or "<vulnerability data>"
    return f"{place}: {record_id}" if record_id else place


def is_commit_url(url: str) -> bool:
    return bool(_COMMIT_URL.search(url))


def commit_ref(repo: Optional[str], commit: str) -> str:
    """How a fix commit is written in records and reports: ``<repo>@<commit>`` (the commit alone without a repo)."""
    return f"{repo}@{commit}" if repo else commit


def english(entries: Any) -> str:
    texts = [entry for entry in entries or [] if isinstance(entry, dict)]
    chosen = next((entry for entry in texts if str(entry.get("lang", "")).lower().startswith("en")),
                  texts[0] if texts else {})
    return str(chosen.get("value", ""))


def unique(values: Iterable[str]) -> List[str]:
    return list(dict.fromkeys(value for value in values if value))


def gunzip_bounded(data: bytes, name: str, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """Decompress gzip data, refusing more than ``limit`` bytes (a gzip bomb)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            out = stream.read(limit + 1)
    except (OSError, EOFError) as exc:
        raise VulnDataError(f"{name}: corrupt gzip data ({exc})") from None
    if len(out) > limit:
        raise VulnDataError(f"{name}: decompresses to more than {limit} bytes; refused")
    return out


def decode_json(data: bytes, name: str) -> Any:
    """JSON from bytes (gunzipped when they start with the gzip magic), errors as one line naming ``name``."""
    if data[:2] == GZIP_MAGIC:
        data = gunzip_bounded(data, name)
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise VulnDataError(f"{name}: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise VulnDataError(f"{name}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def text_or_none(value: Any) -> Optional[str]:
    """A string field, None for missing values and the "n/a"-style placeholders CNAs write."""
    if not isinstance(value, str):
        return None
    stripped = value.strip()
    return None if not stripped or stripped.lower() in ("n/a", "na", "[unknown]", "unknown", "-") else stripped

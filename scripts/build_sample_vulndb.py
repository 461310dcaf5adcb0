#!/usr/bin/env python3
"""Build the bundled sample vulnerability database ``timesys_ci/data/nvd-sample.json.gz``.

Reads every ``*.json`` NVD CVE API 2.0 file (single ``cve`` objects or API
response pages) from a directory (default: ``tests/fixtures/vulndb/nvd``),
and writes one API-2.0-style envelope, records sorted by id, gzip with
mtime 0 so the bytes depend only on the input.

    python3 scripts/build_sample_vulndb.py [SOURCE_DIR] [--output PATH]
"""
from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timesys.core.utils import write_bytes_atomic  # noqa: E402
from timesys_ci.vulndb.nvd import parse_nvd_document, to_api_envelope  # noqa: E402

DEFAULT_SOURCE = ROOT / "tests" / "fixtures" / "vulndb" / "nvd"
DEFAULT_OUTPUT = ROOT / "timesys_ci" / "data" / "nvd-sample.json.gz"


def raw_cves(source_dir: Path) -> List[Dict[str, Any]]:
    """The raw ``cve`` objects of every file, validated by the importer, sorted by id."""
    by_id: Dict[str, Dict[str, Any]] = {}
    for path in sorted(source_dir.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        parse_nvd_document(document, str(path))  # raises a clear error on malformed input
        items = [item["cve"] for item in document["vulnerabilities"]] if "vulnerabilities" in document else [document]
        for cve in items:
            by_id[cve["id"]] = cve
    return [by_id[key] for key in sorted(by_id)]


def render(source_dir: Path) -> bytes:
    """The gzip bytes of the envelope (deterministic: sorted keys, mtime 0, no file name)."""
    text = json.dumps(to_api_envelope(raw_cves(source_dir)), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as stream:
        stream.write(text.encode("utf-8"))
    return buffer.getvalue()


def generator_main(doc: str, render: Callable[[Path], bytes], default_source: Path, default_output: Path,
                   argv: Optional[List[str]] = None) -> int:
    """The command line both build scripts share: [SOURCE] [--output FILE], written atomically."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=default_source)
    parser.add_argument("--output", type=Path, default=default_output)
    args = parser.parse_args(argv)
    write_bytes_atomic(args.output, render(args.source), mode=0o644)
    print(f"wrote {args.output}")
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    return generator_main(__doc__ or "", render, DEFAULT_SOURCE, DEFAULT_OUTPUT, argv)


if __name__ == "__main__":
    raise SystemExit(main())

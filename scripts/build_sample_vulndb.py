#!/usr/bin/env python3
"""Build the bundled sample vulnerability data ``timesys_ci/data/vulndb-sample.zip``.

Every new data dir of the local service starts with it (``upload --local`` included). It
holds, from a fixtures directory (default: ``tests/fixtures/vulndb``; origins and
licences in its README):

* ``nvd/`` — the NVD CVE API 2.0 records of ``nvd/`` (public domain);
* ``cve5/openssl-cna/`` — every OpenSSL CVE as the OpenSSL CNA publishes it (CVE JSON 5);
* ``cve5/cvelistV5/`` — the CVE List V5 records of ``cve5/cvelistV5/`` (curl, xz, openssh,
  two Linux kernel CNA records with ``programFiles``);
* ``kev/`` — the CISA KEV catalog CSV (CC0);
* ``NOTICE.txt`` — attributions (NVD, the CVE Program's terms of use, CISA).

Each record is checked by its source parser first. The zip is reproducible: members in
name order, fixed timestamps and modes, so its content depends only on the input.

    python3 scripts/build_sample_vulndb.py [SOURCE_DIR] [--output PATH]
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import zipfile
from pathlib import Path
from typing import Callable, Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timesys.core.utils import write_bytes_atomic  # noqa: E402
from timesys_ci.vulndb.sources.cve5 import parse_cve5  # noqa: E402
from timesys_ci.vulndb.sources.kev import parse_kev  # noqa: E402
from timesys_ci.vulndb.sources.nvd import parse_nvd_document  # noqa: E402

DEFAULT_SOURCE = ROOT / "tests" / "fixtures" / "vulndb"
DEFAULT_OUTPUT = ROOT / "timesys_ci" / "data" / "vulndb-sample.zip"
SETS = (("nvd", "nvd/*.json", "nvd"), ("cve5/openssl-cna", "cve5/openssl-cna/CVE-*.json", "cve5"),
        ("cve5/cvelistV5", "cve5/cvelistV5/CVE-*.json", "cve5"),
        ("kev", "kev/known_exploited_vulnerabilities.csv", "kev"))
NOTICE = """\
timesys-ci bundled sample vulnerability data

nvd/: records from the NVD CVE API 2.0 (US public domain). This product uses data from the
NVD API but is not endorsed or certified by the NVD.

cve5/: CVE Records (CVE JSON 5) published by the CVE Program's CNAs (OpenSSL, curl, Red Hat,
MITRE, the Linux kernel CNA) and ADPs. Copyright (c) The MITRE Corporation. CVE and the CVE
logo are registered trademarks of The MITRE Corporation. Used under the CVE Program's Terms of
Use (https://www.cve.org/Legal/TermsOfUse), which grant a perpetual, worldwide, non-exclusive,
no-charge, royalty-free, irrevocable copyright licence to reproduce and distribute CVE Records,
provided this notice is kept.

kev/: the CISA Known Exploited Vulnerabilities catalog (CC0 1.0).

Where every file came from: tests/fixtures/vulndb/README.md in the timesys-ci source.
"""


def members(source_dir: Path) -> Dict[str, bytes]:
    """Member name -> bytes, each checked by its parser (a malformed file raises a one-line error)."""
    found: Dict[str, bytes] = {"NOTICE.txt": NOTICE.encode("utf-8")}
    for folder, pattern, kind in SETS:
        paths = sorted(source_dir.glob(pattern))
        if not paths:
            raise SystemExit(f"{source_dir / pattern}: no files")
        for path in paths:
            data = path.read_bytes()
            if kind == "nvd":
                parse_nvd_document(json.loads(data), str(path))
            elif kind == "cve5":
                parse_cve5(json.loads(data), str(path))
            else:
                parse_kev(data.decode("utf-8-sig"), str(path))
            found[f"{folder}/{path.name}"] = data
    return found


def render(source_dir: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in sorted(members(source_dir).items()):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compresslevel=9)
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

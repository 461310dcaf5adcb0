"""Paths to the real third-party SBOMs the format reader tests read."""
from __future__ import annotations

import gzip
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
FORMATS = FIXTURES / "sbom-formats"
DISTRO = FIXTURES / "vulndb" / "sbom-formats"
YOCTO_SPDX2 = FIXTURES / "vulndb" / "yocto-spdx"
VULNSCOUT_CDX = FORMATS / "vulnscout-converted.bom.cdx.json"
BUSYBOX_BOM_REF = "20daadd3-c24d-4f48-a5de-3fc428797570"  # busybox 1.36.1 in VULNSCOUT_CDX


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def spdx3_walnascar() -> str:
    """Yocto walnascar's SPDX 3 image document (stored gzip-compressed, content unchanged)."""
    with gzip.open(FORMATS / "core-image-minimal-qemux86-64.rootfs.spdx3.json.gz", "rt", encoding="utf-8") as handle:
        return handle.read()


def assert_one_line_error(text: str, source: str, fragment: str) -> None:
    """Loading ``text`` fails with a one-line SbomError containing ``fragment``."""
    from timesys_ci.sbom import SbomError, load_sbom

    try:
        load_sbom(text, source)
    except SbomError as error:
        assert fragment in str(error) and "\n" not in str(error), str(error)
    else:
        raise AssertionError(f"{source} loaded without error; expected {fragment!r}")

"""Evidence from Yocto's SPDX output: the kernel recipe's compiled sources.

With `SPDX_INCLUDE_COMPILED_SOURCES:pn-linux-yocto = "1"` create-spdx lists, as
`software_File` elements of purpose `source` in the kernel recipe's document (SPDX 3;
`fileTypes: SOURCE` in SPDX 2.2), the sources the debug information names, under the
recipe's `${BP}/` directory. Without debug sources it lists every source file of the
tree, which says nothing about what was compiled: a list that holds C files of more
than one `arch/` is taken as unfiltered and only used to keep CVEs.
"""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any, Iterable, Optional

from timesys_ci.kernel.evidence import EvidenceError, EvidenceInfo, FileVerdict
from timesys_ci.kernel.paths import is_unit, kernel_path

KIND = "spdx-compiled-sources"
MAX_SPDX_BYTES = 256 * 1024 * 1024
# First components of kernel-relative paths; anything else is the recipe's `${BP}/` (or `git/`) prefix.
TOP_LEVEL = frozenset({
    "arch", "block", "certs", "crypto", "drivers", "fs", "include", "init", "io_uring", "ipc", "kernel", "lib",
    "mm", "net", "rust", "samples", "scripts", "security", "sound", "tools", "usr", "virt", "Documentation",
})
_NOT_KERNEL_RECIPES = ("linux-libc-headers", "linux-firmware", "linux-tools")


class SpdxEvidence:
    def __init__(self, info: EvidenceInfo, files: frozenset[str]) -> None:
        self.info = info
        self._files = files

    def verdict(self, path: str) -> FileVerdict:
        if path in self._files:
            return FileVerdict(path, "compiled", "listed among the kernel's compiled sources in SPDX", KIND)
        if not self.info.complete:
            return FileVerdict(path, "unknown", "the SPDX source list is not filtered by what was compiled", KIND)
        if is_unit(path):
            return FileVerdict(path, "not_compiled",
                               f"not among the {len(self._files)} compiled sources the SPDX document lists", KIND)
        return FileVerdict(path, "unknown", "SPDX compiled-source lists do not reliably name headers and other files",
                           KIND)


def _relative(name: str) -> Optional[str]:
    path = kernel_path(name)
    if path is None:
        return None
    first, _, rest = path.partition("/")
    return path if first in TOP_LEVEL or not rest else kernel_path(rest)


def _read_json(path: Path) -> Any:
    try:
        with open(path, "rb") as raw:
            head = raw.read(2)
            raw.seek(0)
            stream = gzip.GzipFile(fileobj=raw) if head == b"\x1f\x8b" else raw
            data = stream.read(MAX_SPDX_BYTES + 1)
    except (OSError, EOFError) as exc:
        raise EvidenceError(f"{path}: cannot read SPDX document: {exc}") from None
    if len(data) > MAX_SPDX_BYTES:
        raise EvidenceError(f"{path}: SPDX document larger than {MAX_SPDX_BYTES // (1024 * 1024)} MiB")
    try:
        return json.loads(data)
    except ValueError as exc:
        raise EvidenceError(f"{path}: not a JSON SPDX document: {exc}") from None


def _kernel_package(element: dict[str, Any]) -> bool:
    if element.get("type") != "software_Package" or element.get("software_primaryPurpose") == "source":
        return False
    identifiers = element.get("externalIdentifier") or []
    cpes = [str(item.get("identifier", "")) for item in identifiers if isinstance(item, dict)]
    return str(element.get("name", "")).startswith("kernel-") or any(":linux_kernel:" in cpe for cpe in cpes)


def _spdx3_sources(graph: list[Any]) -> tuple[list[str], Optional[str]]:
    """Source file names of the kernel recipe's document, and the kernel version."""
    elements = [element for element in graph if isinstance(element, dict)]
    prefixes: set[str] = set()
    version = None
    for element in elements:
        spdx_id = str(element.get("spdxId") or element.get("@id") or "")
        if _kernel_package(element) and "/package/" in spdx_id:
            prefixes.add(spdx_id.split("/package/")[0] + "/")
            version = version or element.get("software_packageVersion")
        elif element.get("type") == "build_Build":
            recipe = str(element.get("name", "")).split(":", 1)[0]
            if recipe.startswith("linux-") and not recipe.startswith(_NOT_KERNEL_RECIPES) and "/build/" in spdx_id:
                prefixes.add(spdx_id.split("/build/")[0] + "/")
    names = [str(element.get("name", "")) for element in elements
             if element.get("type") == "software_File" and element.get("software_primaryPurpose") == "source"
             and str(element.get("spdxId", "")).startswith(tuple(prefixes or {"\0"}))]
    return names, str(version) if version else None


def _spdx2_sources(document: dict[str, Any]) -> tuple[list[str], Optional[str]]:
    packages = [p for p in document.get("packages") or [] if isinstance(p, dict)]
    if not any(str(p.get("name", "")).startswith("linux-") and not str(p.get("name")).startswith(_NOT_KERNEL_RECIPES)
               for p in packages):
        return [], None
    version = next((p.get("versionInfo") for p in packages if p.get("versionInfo")), None)
    names = [str(f.get("fileName", "")) for f in document.get("files") or []
             if isinstance(f, dict) and "SOURCE" in (f.get("fileTypes") or [])]
    return names, str(version) if version else None


def _architectures(files: Iterable[str]) -> set[str]:
    return {path.split("/")[1] for path in files if path.startswith("arch/") and path.count("/") >= 2
            and path.endswith(".c")}


def load_spdx_evidence(path: Path) -> tuple[Optional[SpdxEvidence], str]:
    """The kernel's compiled sources from an SPDX 3 JSON-LD or SPDX 2.2 JSON document.

    Returns (evidence or None, a note saying what was found).
    """
    document = _read_json(Path(path))
    if isinstance(document, dict) and isinstance(document.get("@graph"), list):
        names, version = _spdx3_sources(document["@graph"])
    elif isinstance(document, dict) and str(document.get("spdxVersion", "")).startswith("SPDX-2"):
        names, version = _spdx2_sources(document)
    else:
        raise EvidenceError(f"{path}: not an SPDX 3 JSON-LD or SPDX 2 JSON document")
    files = frozenset(filter(None, (_relative(name) for name in names)))
    if not any(is_unit(name) for name in files):
        return None, (f"{path}: lists no compiled kernel sources (build with "
                      'SPDX_INCLUDE_COMPILED_SOURCES:pn-<kernel recipe> = "1")')
    arches = _architectures(files)
    notes = []
    if len(arches) > 1:
        notes.append(f"lists C sources of {len(arches)} architectures ({', '.join(sorted(arches)[:4])}, ...): "
                     "every source, not the compiled ones")
    info = EvidenceInfo(kind=KIND, strength="medium", origin=str(path), complete=len(arches) <= 1,
                        kernel_version=version, notes=tuple(notes), counts={"compiled sources": len(files)})
    return SpdxEvidence(info, files), f"{path}: {len(files)} kernel sources listed"

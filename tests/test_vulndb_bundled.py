"""The committed sample database and example manifest equal what the scripts produce."""
from __future__ import annotations

import gzip
import importlib.util
from types import ModuleType

from timesys_ci.vulndb.index import RecordIndex
from timesys_ci.vulndb.nvd import load_nvd_file
from timesys_ci.sbom.model import Package
from .vulndb_helpers import FIXTURES, ROOT

SAMPLE = ROOT / "timesys_ci" / "data" / "nvd-sample.json.gz"


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_script_{name}", ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sample_vulndb_matches_its_script() -> None:
    built = _script("build_sample_vulndb").render(FIXTURES / "nvd")
    committed = SAMPLE.read_bytes()
    # Compressed bytes may differ between zlib builds; the content and header must not.
    assert gzip.decompress(committed) == gzip.decompress(built)
    assert committed[4:8] == b"\0\0\0\0"  # gzip mtime 0


def test_sample_vulndb_is_readable_and_complete() -> None:
    records = load_nvd_file(SAMPLE)
    assert len(records) == len(list((FIXTURES / "nvd").glob("*.json")))
    assert [record.id for record in records] == sorted(record.id for record in records)


def test_example_manifest_matches_its_script() -> None:
    built = _script("build_example_manifest").render(FIXTURES / "yocto-spdx")
    assert (ROOT / "examples" / "core-image-minimal.vigiles.json").read_bytes() == built


def test_index_replaces_records_with_the_same_id() -> None:
    records = load_nvd_file(SAMPLE)
    index = RecordIndex(records)
    index.add(records[0])
    assert len(index) == len(records)
    assert [r.id for r in index.records_for({(None, "busybox")})].count("CVE-2022-48174") == 1
    assert index.records_for({("busybox", "busybox")}) == index.records_for({(None, "busybox")})
    assert index.records_for({("someone_else", "busybox")}) == []
    assert index.records_by_id(["CVE-2099-0001", "CVE-2024-3094"])[0].id == "CVE-2024-3094"
    assert Package("x").match_version == "unset"

"""The committed sample vulnerability data and example manifest equal what the scripts produce."""
from __future__ import annotations

import importlib.util
import io
import zipfile
from pathlib import Path
from types import ModuleType

from timesys_ci.vulndb.importer import import_paths
from timesys_ci.vulndb.store import ORIGIN_SAMPLE, VulnStore
from .vulndb_helpers import FIXTURES, ROOT

SAMPLE = ROOT / "timesys_ci" / "data" / "vulndb-sample.zip"


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_script_{name}", ROOT / "scripts" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _members(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: (info.date_time, info.external_attr, archive.read(info)) for info in archive.infolist()}


def test_sample_vulndb_matches_its_script() -> None:
    built = _script("build_sample_vulndb").render(FIXTURES)
    # Compressed bytes may differ between zlib builds; names, order, times, modes and contents must not.
    assert list(_members(SAMPLE.read_bytes()).items()) == list(_members(built).items())
    assert _script("build_sample_vulndb").render(FIXTURES) == built  # same input, same bytes


def test_sample_holds_every_fixture_record_and_imports_cleanly(tmp_path: Path) -> None:
    names = set(_members(SAMPLE.read_bytes()))
    for folder, pattern in (("nvd", "*.json"), ("cve5/openssl-cna", "CVE-*.json"), ("cve5/cvelistV5", "CVE-*.json")):
        assert {f"{folder}/{path.name}" for path in (FIXTURES / folder).glob(pattern)} <= names
    store = VulnStore(tmp_path / "vulndb.sqlite3")
    summary = import_paths(store, [SAMPLE], origin=ORIGIN_SAMPLE)
    assert summary.records == {"nvd": 30, "cve5": len(list((FIXTURES / "cve5").glob("*/CVE-*.json")))}
    assert summary.kev > 1400 and summary.errors == [] and summary.skipped == [f"{SAMPLE}:NOTICE.txt"]
    assert store.data_summary()["sample_only"] is True
    store.close()


def test_example_manifest_matches_its_script() -> None:
    built = _script("build_example_manifest").render(FIXTURES / "yocto-spdx")
    assert (ROOT / "examples" / "core-image-minimal.vigiles.json").read_bytes() == built

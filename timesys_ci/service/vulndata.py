"""Vulnerability data in the service: the bundled sample every new data dir starts with, and imports.

The data itself is :class:`timesys_ci.vulndb.store.VulnStore` (``<data dir>/vulndb.sqlite3``);
imports of every supported format go through :func:`timesys_ci.vulndb.importer.import_paths`.
"""
from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Optional, Union

from timesys_ci.vulndb.importer import ImportSummary, import_paths
from timesys_ci.vulndb.store import ORIGIN_SAMPLE, VulnStore

SAMPLE_RESOURCE = "vulndb-sample.zip"
_built: Optional[bytes] = None
_lock = threading.Lock()


def import_files(store: VulnStore, paths: Iterable[Union[str, Path]]) -> ImportSummary:
    """Import vulnerability data files, directories or archives (any supported format) into ``store``."""
    return import_paths(store, paths)


def load_bundled_sample(store: VulnStore) -> ImportSummary:
    """Import the sample shipped with the package (public-domain NVD records, CNA records, KEV)."""
    with resources.as_file(resources.files("timesys_ci").joinpath("data", SAMPLE_RESOURCE)) as path:
        return import_paths(store, [path], origin=ORIGIN_SAMPLE)


def _sample_database() -> bytes:
    """The sample as a ready database file, built once per process (new data dirs copy it)."""
    global _built
    with _lock:
        if _built is None:
            with tempfile.TemporaryDirectory(prefix="timesys-ci-sample-") as scratch:
                store = VulnStore(Path(scratch) / "vulndb.sqlite3")
                try:
                    load_bundled_sample(store)
                finally:
                    store.close()
                _built = (Path(scratch) / "vulndb.sqlite3").read_bytes()
        return _built


def seed_with_sample(store: VulnStore) -> None:
    """Give an empty store the bundled sample (swapped in whole; open readers reopen the new file)."""
    target = store.path
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".vulndb-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(_sample_database())
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise

from __future__ import annotations

import os
from pathlib import Path

import pytest


from timesys_ci.outputs.atomic import write_atomic


def test_writes_text_and_bytes_creating_parents(tmp_path: Path) -> None:
    target = tmp_path / "out" / "deep" / "result.json"
    write_atomic(target, "héllo\n")
    assert target.read_bytes() == "héllo\n".encode("utf-8")
    write_atomic(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in target.parent.iterdir()) == ["result.json"]  # no temp file left


def test_new_files_are_not_private_and_modes_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    write_atomic(target, "x")
    assert target.stat().st_mode & 0o777 == 0o644
    os.chmod(target, 0o600)
    write_atomic(target, "y")
    assert target.stat().st_mode & 0o777 == 0o600


def test_failure_leaves_the_old_file_and_no_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.sarif"
    target.write_text("old", encoding="utf-8")

    def broken_replace(src: str, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, "new content")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.sarif"]


def test_failure_while_writing_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "new.json"

    def broken_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="Input/output error"):
        write_atomic(target, "{}")
    assert list(tmp_path.iterdir()) == []

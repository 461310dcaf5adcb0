"""Bounded reading of build and source trees that may be huge or hostile.

Symlinks are never followed (no loops, nothing outside the tree), depth and the
number of directory entries are capped, and files are read only up to a size
limit. Hitting a limit is recorded, never silently ignored: evidence built from a
truncated walk is marked incomplete.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

# A full allmodconfig build directory has a few hundred thousand entries.
MAX_ENTRIES = 3_000_000
MAX_DEPTH = 48
MAX_FILE_BYTES = 8 * 1024 * 1024
# Version-control and quilt metadata only: skipping a real build directory could hide a compiled unit.
SKIPPED_DIRS = frozenset({".git", ".svn", ".hg", ".pc"})


@dataclass
class WalkLimits:
    max_entries: int = MAX_ENTRIES
    max_depth: int = MAX_DEPTH
    max_file_bytes: int = MAX_FILE_BYTES


@dataclass
class WalkReport:
    """What a walk could not see."""

    entries: int = 0
    truncated: bool = False  # the entry limit was reached
    too_deep: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not (self.truncated or self.too_deep or self.unreadable)

    def notes(self, root: Path) -> list[str]:
        notes = []
        if self.truncated:
            notes.append(f"stopped after {self.entries} entries under {root}")
        if self.too_deep:
            notes.append(f"{len(self.too_deep)} directories deeper than the depth limit, e.g. {self.too_deep[0]}")
        if self.unreadable:
            notes.append(f"{len(self.unreadable)} unreadable paths, e.g. {self.unreadable[0]}")
        return notes


def walk_files(root: Path, wanted: Callable[[str], bool], report: WalkReport,
               limits: Optional[WalkLimits] = None) -> Iterator[tuple[str, os.DirEntry]]:
    """Yield (relative directory, entry) for regular files under `root` whose name `wanted` accepts."""
    limits = limits or WalkLimits()
    stack: list[tuple[str, int]] = [("", 0)]
    while stack:
        relative, depth = stack.pop()
        directory = os.path.join(root, relative) if relative else str(root)
        try:
            with os.scandir(directory) as entries:
                listed = list(entries)
        except OSError:
            report.unreadable.append(directory)
            continue
        for entry in listed:
            report.entries += 1
            if report.entries > limits.max_entries:
                report.truncated = True
                return
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                report.unreadable.append(entry.path)
                continue
            if stat.S_ISDIR(mode):
                if entry.name in SKIPPED_DIRS:
                    continue
                if depth + 1 > limits.max_depth:
                    report.too_deep.append(entry.path)
                    continue
                stack.append((f"{relative}/{entry.name}" if relative else entry.name, depth + 1))
            elif stat.S_ISREG(mode) and wanted(entry.name):
                yield relative, entry


def read_bounded(path: "Path | str", limit: int = MAX_FILE_BYTES, *, follow_symlinks: bool = False) -> Optional[str]:
    """The file's text (UTF-8, bad bytes replaced), or None when it is larger than `limit` or unreadable.

    Symlinks are not followed (only `follow_symlinks` for a file the user named: Yocto's config links);
    a file that grows while being read is cut at the limit and rejected.
    """
    nofollow = 0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, os.O_RDONLY | nofollow | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(limit + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    if len(data) > limit:
        return None
    return data.decode("utf-8", errors="replace")

"""Evidence from a kernel build directory's `.<target>.cmd` files — the build's own record.

Kbuild writes one `.cmd` file per target it builds. fixdep adds what went into it:

    savedcmd_block/bfq-iosched.o := gcc ... -c -o block/bfq-iosched.o block/bfq-iosched.c   (cmd_ before 6.2)
    source_block/bfq-iosched.o := block/bfq-iosched.c
    deps_block/bfq-iosched.o := \\
      include/linux/compiler-version.h \\
        $(wildcard include/config/CC_VERSION_TEXT) \\
      ...

Out-of-tree builds (`make O=`, Yocto's `B`) record source paths as absolute or `../`
paths; the source root is inferred from the `source_` lines themselves, so a build
directory copied elsewhere still reads right. Without a `vmlinux` target the build is
not known to be complete and the evidence can only say "compiled".
"""
from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from timesys_ci.kernel.evidence import EvidenceInfo, FileVerdict
from timesys_ci.kernel.paths import is_included, is_unit, kernel_path, object_of
from timesys_ci.kernel.walk import WalkLimits, WalkReport, read_bounded, walk_files

KIND = "kbuild-cmd"
_TARGET = re.compile(r"^(?:saved)?cmd_(\S+?)\s*:=")
_SOURCE = re.compile(r"^source_(\S+?)\s*:=\s*(.*?)\s*$")
_DEPS = re.compile(r"^deps_(\S+?)\s*:=(.*)$")
_WILDCARD = re.compile(r"\$\(wildcard\s[^)]*\)")
# Targets that exist only once the kernel image itself was linked.
_IMAGE_TARGETS = ("vmlinux", "vmlinux.o", "vmlinux.a")


@dataclass
class CmdFile:
    """What one `.cmd` file says."""

    targets: list[str] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)  # (target, source as written)
    deps: list[str] = field(default_factory=list)  # as written, `$(wildcard ...)` removed
    has_deps: bool = False


def parse_cmd_text(text: str) -> CmdFile:
    """The targets, `source_` and `deps_` entries of one `.cmd` file."""
    parsed = CmdFile()
    in_deps = False
    for line in text.splitlines():
        if in_deps:
            body = line.rstrip()
            in_deps = body.endswith("\\")
            parsed.deps.extend(_dep_tokens(body.rstrip("\\")))
            continue
        target = _TARGET.match(line)
        if target:
            parsed.targets.append(target.group(1))
            continue
        source = _SOURCE.match(line)
        if source:
            parsed.sources.append((source.group(1), source.group(2)))
            parsed.targets.append(source.group(1))
            continue
        deps = _DEPS.match(line)
        if deps:
            parsed.has_deps = True
            body = deps.group(2).rstrip()
            in_deps = body.endswith("\\")
            parsed.deps.extend(_dep_tokens(body.rstrip("\\")))
    return parsed


def _dep_tokens(text: str) -> list[str]:
    return [token for token in _WILDCARD.sub(" ", text).split() if token != "\\"]


def _root_of(target: str, source: str) -> Optional[str]:
    """The prefix that turns a kernel-relative path into what the build wrote: `/src/` for
    `source_block/x.o := /src/block/x.c`, `` for in-tree, None when the names do not line up."""
    stem = target.rpartition(".")[0] or target  # host programs have no suffix: scripts/kallsyms
    source_stem = source.rpartition(".")[0]
    if not source_stem:
        return None
    if source_stem == stem:
        return ""
    if source_stem.endswith("/" + stem):
        return source[: len(source_stem) - len(stem)]
    return None


class PathMapper:
    """Written paths -> kernel-relative ones, using the roots seen in `source_` lines and the known trees."""

    def __init__(self, roots: "Counter[str]", extra_roots: tuple[str, ...] = ()) -> None:
        known = {root for root in roots if root} | {root.rstrip("/") + "/" for root in extra_roots if root}
        self._roots = sorted(known, key=len, reverse=True)

    def map(self, written: str) -> Optional[str]:
        for root in self._roots:
            if written.startswith(root):
                return kernel_path(written[len(root):])
        if written.startswith("/"):
            return None  # outside every tree: the toolchain's own headers
        return kernel_path(written)  # relative to the build directory (in-tree or generated)


class CmdEvidence:
    """The set of compiled units, their dependencies and the targets of one build directory."""

    def __init__(self, info: EvidenceInfo, *, sources: dict[str, str], deps: frozenset[str], targets: frozenset[str],
                 deps_complete: bool, source_dir: Optional[Path]) -> None:
        self.info = info
        self._sources = sources
        self._deps = deps
        self._targets = targets
        self._deps_complete = deps_complete
        self._source_dir = source_dir

    @property
    def source_dir(self) -> Optional[Path]:
        """The source tree the build used, when known (given, in-tree, or Kbuild's `source` link)."""
        return self._source_dir

    def verdict(self, path: str) -> FileVerdict:
        def answer(state: str, reason: str) -> FileVerdict:
            return FileVerdict(path, state, reason, KIND)  # type: ignore[arg-type]

        if path in self._sources:
            return answer("compiled", f"source of {self._sources[path]}")
        if path in self._deps:
            return answer("compiled", "a dependency (deps_) of a compiled unit")
        if is_unit(path) and object_of(path) in self._targets:
            return answer("compiled", f"{object_of(path)} was built")
        if not (is_unit(path) or is_included(path)):
            return answer("unknown", "not a file the build records as compiled or included")
        if not self.info.complete:
            return answer("unknown", "the build directory is incomplete (no vmlinux was linked)")
        if self._source_dir is not None and not os.path.lexists(self._source_dir / path):
            return answer("unknown", f"not in the kernel source tree {self._source_dir} (renamed or moved?)")
        if is_unit(path):
            return answer("not_compiled", f"no .cmd file for {object_of(path)} and no compiled unit includes it")
        if not self._deps_complete:
            return answer("unknown", "some .cmd files could not be read, so not every dependency is known")
        return answer("not_compiled", "no compiled unit depends on it (deps_ of every unit)")


def _cmd_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(".cmd") and len(name) > 5


def _source_dir_of(build_dir: Path, given: Optional[Path]) -> Optional[Path]:
    """The explicit source tree; else the build directory for in-tree builds; else Kbuild's `source` link."""
    if given is not None:
        return given
    if (build_dir / "Kconfig").is_file() and (build_dir / "kernel").is_dir():
        return build_dir
    link = build_dir / "source"
    if link.is_symlink():
        target = Path(os.path.join(build_dir, os.readlink(link)))
        if target.is_dir():
            return target
    return None


def kernel_release(build_dir: Path) -> Optional[str]:
    """`include/config/kernel.release` (what `uname -r` will say), if the build wrote it."""
    text = read_bounded(build_dir / "include" / "config" / "kernel.release", 4096)
    return text.strip().splitlines()[0] if text and text.strip() else None


def load_cmd_evidence(build_dir: Path, source_dir: Optional[Path] = None,
                      limits: Optional[WalkLimits] = None) -> Optional[CmdEvidence]:
    """Read every `.cmd` file under `build_dir`; None when there are none (not a kernel build directory)."""
    limits = limits or WalkLimits()
    build_dir = Path(build_dir)
    walk = WalkReport()
    files: list[CmdFile] = []
    skipped: list[str] = []
    for relative, entry in walk_files(build_dir, _cmd_name, walk, limits):
        text = read_bounded(entry.path, limits.max_file_bytes)
        if text is None:
            skipped.append(entry.path)
            # The name still says the target was built: `.mac.o.cmd` in block/partitions.
            target = entry.name[1:-len(".cmd")]
            files.append(CmdFile(targets=[f"{relative}/{target}" if relative else target]))
            continue
        files.append(parse_cmd_text(text))
    if not files:
        return None
    roots: Counter[str] = Counter()
    for cmd in files:
        for target, source in cmd.sources:
            root = _root_of(target, source)
            if root is not None:
                roots[root] += 1
    source_dir = _source_dir_of(build_dir, source_dir)
    extra = tuple(str(path) for path in (source_dir, build_dir) if path is not None)
    extra += tuple(os.path.realpath(path) for path in extra)
    mapper = PathMapper(roots, extra)
    sources: dict[str, str] = {}
    deps: set[str] = set()
    targets: set[str] = set()
    deps_complete = not skipped
    for cmd in files:
        targets.update(filter(None, (kernel_path(target) for target in cmd.targets)))
        for target, written in cmd.sources:
            mapped = mapper.map(written)
            if mapped is not None:
                sources.setdefault(mapped, kernel_path(target) or target)
        if cmd.sources and not cmd.has_deps:
            deps_complete = False
        deps.update(filter(None, (mapper.map(token) for token in cmd.deps)))
    linked = any(target in targets for target in _IMAGE_TARGETS) or (build_dir / "vmlinux").is_file()
    notes = walk.notes(build_dir)
    if skipped:
        notes.append(f"{len(skipped)} .cmd files too large or unreadable, e.g. {skipped[0]}")
    if not linked:
        notes.append("no vmlinux target: the build did not finish, or this is not the kernel's build directory")
    if source_dir is None:
        notes.append("kernel source tree unknown: files absent from it cannot be told from files not compiled")
    info = EvidenceInfo(
        kind=KIND, strength="strong", origin=str(build_dir), complete=linked and walk.complete,
        kernel_version=kernel_release(build_dir), notes=tuple(notes),
        counts={"cmd files": len(files), "compiled units": len(sources), "dependencies": len(deps)},
    )
    return CmdEvidence(info, sources=sources, deps=frozenset(deps), targets=frozenset(targets),
                       deps_complete=deps_complete and walk.complete, source_dir=source_dir)

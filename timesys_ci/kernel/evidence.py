"""What a build says about one source file: compiled, not compiled, or unknown — and how sure it is.

Every evidence kind (the build directory's `.cmd` files, Yocto's SPDX 3 compiled
sources, `.config` evaluated against Kbuild) answers `verdict(path)` for a
kernel-relative path. A kind only answers "not compiled" where it can show it;
everything else is "unknown", which triage treats like "compiled".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Optional, Protocol, Sequence

from timesys import ParameterError

FileState = Literal["compiled", "not_compiled", "unknown"]
Strength = Literal["strong", "medium", "weak"]
_STRENGTH_ORDER = {"strong": 0, "medium": 1, "weak": 2}


class EvidenceError(ParameterError):
    """Evidence that was named explicitly cannot be read; the message names the file or directory (exit 2)."""


@dataclass(frozen=True)
class FileVerdict:
    path: str
    state: FileState
    reason: str  # one clause, e.g. "no .o.cmd for block/partitions/mac.o"
    kind: str = ""  # the evidence kind that decided

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "state": self.state, "reason": self.reason, "evidence": self.kind}


@dataclass(frozen=True)
class EvidenceInfo:
    """What every kind reports about itself."""

    kind: str
    strength: Strength
    origin: str  # the file or directory read
    complete: bool  # False: it can say "compiled" but never "not compiled"
    kernel_version: Optional[str] = None
    notes: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "strength": self.strength, "origin": self.origin, "complete": self.complete,
                "kernel_version": self.kernel_version, "notes": list(self.notes), "counts": dict(self.counts)}

    def describe(self) -> str:
        """`kbuild-cmd (strong) from /build: 1204 units` — one line for humans."""
        counts = ", ".join(f"{value} {name}" for name, value in self.counts.items())
        state = "" if self.complete else "; incomplete, used only to keep CVEs"
        return f"{self.kind} ({self.strength}) from {self.origin}" + (f": {counts}" if counts else "") + state


class Evidence(Protocol):
    info: EvidenceInfo

    def verdict(self, path: str) -> FileVerdict: ...


@dataclass(frozen=True)
class EvidenceSet:
    """Several kinds together: the strongest kind with a definite answer decides.

    A `.cmd` file list is the build's own record, so it outranks an SPDX list,
    which outranks `.config` evaluated against the Makefiles.
    """

    sources: tuple[Evidence, ...] = ()

    @classmethod
    def of(cls, sources: Sequence[Evidence]) -> "EvidenceSet":
        return cls(tuple(sorted(sources, key=lambda source: _STRENGTH_ORDER[source.info.strength])))

    def __bool__(self) -> bool:
        return bool(self.sources)

    @property
    def infos(self) -> tuple[EvidenceInfo, ...]:
        return tuple(source.info for source in self.sources)

    @property
    def can_set_aside(self) -> bool:
        return any(source.info.complete for source in self.sources)

    def verdict(self, path: str) -> FileVerdict:
        unknown: list[FileVerdict] = []
        for source in self.sources:
            found = source.verdict(path)
            if found.state != "unknown":
                return found
            unknown.append(found)
        if not unknown:
            return FileVerdict(path, "unknown", "no evidence of what was compiled")
        return FileVerdict(path, "unknown", "; ".join(f"{v.kind}: {v.reason}" for v in unknown), unknown[0].kind)

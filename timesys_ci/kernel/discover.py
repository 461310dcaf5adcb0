"""Gather the evidence named by the user (or found by the build-system entries) into an `EvidenceSet`.

The `.cmd` files of a finished build are used when there are any; `.config` against the
Kbuild Makefiles only when they are missing or incomplete (`rm_work` removed the build
directory, a build that stopped early); an SPDX document is added when given.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from timesys_ci.kernel.cmdfiles import load_cmd_evidence
from timesys_ci.kernel.evidence import Evidence, EvidenceError, EvidenceSet
from timesys_ci.kernel.kbuild import load_kbuild_evidence
from timesys_ci.kernel.kconfig import read_kernel_config
from timesys_ci.kernel.spdx import load_spdx_evidence
from timesys_ci.kernel.walk import WalkLimits


@dataclass(frozen=True)
class KernelInputs:
    """Where a build left its kernel: each part optional."""

    build_dir: Optional[Path] = None
    source_dir: Optional[Path] = None
    config: Optional[Path] = None
    spdx: Optional[Path] = None

    def __bool__(self) -> bool:
        return any((self.build_dir, self.source_dir, self.config, self.spdx))


@dataclass
class LoadedEvidence:
    evidence: EvidenceSet
    notes: list[str] = field(default_factory=list)  # what was looked at and not used, and why


def _directory(path: Optional[Path], flag: str) -> Optional[Path]:
    if path is not None and not Path(path).is_dir():
        raise EvidenceError(f"{flag}: not a directory: {path}")
    return Path(path) if path is not None else None


def load_evidence(inputs: KernelInputs, limits: Optional[WalkLimits] = None) -> LoadedEvidence:
    """Read every kind the inputs allow; EvidenceError when none gives anything."""
    build_dir = _directory(inputs.build_dir, "--kernel-build-dir")
    source_dir = _directory(inputs.source_dir, "--kernel-source-dir")
    if inputs.config is not None and not Path(inputs.config).is_file():
        raise EvidenceError(f"--kernel-config: file not found: {inputs.config}")
    sources: list[Evidence] = []
    notes: list[str] = []
    cmd = None
    if build_dir is not None:
        cmd = load_cmd_evidence(build_dir, source_dir, limits)
        if cmd is None:
            notes.append(f"{build_dir}: no .cmd files (not a kernel build directory, or it was cleaned)")
        else:
            sources.append(cmd)
            source_dir = source_dir or cmd.source_dir
    if inputs.spdx is not None:
        spdx, note = load_spdx_evidence(Path(inputs.spdx))
        notes.append(note)
        if spdx is not None:
            sources.append(spdx)
    if cmd is None or not cmd.info.complete:
        config = Path(inputs.config) if inputs.config else next(
            (d / ".config" for d in (build_dir, source_dir) if d is not None and (d / ".config").is_file()), None)
        if source_dir is not None and config is not None:
            sources.append(load_kbuild_evidence(source_dir, read_kernel_config(config)))
        elif source_dir is not None or config is not None:
            notes.append("Kbuild evaluation needs both the kernel source tree (--kernel-source-dir) and its "
                         ".config (--kernel-config)")
    if not sources:
        raise EvidenceError("no evidence of what was compiled: " + ("; ".join(notes) or
                            "give --kernel-build-dir, --kernel-source-dir with --kernel-config, or --spdx"))
    return LoadedEvidence(EvidenceSet.of(sources), notes)

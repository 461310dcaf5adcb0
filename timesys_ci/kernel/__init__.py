"""Kernel CVEs triaged by what the build really compiled.

* Evidence (`timesys_ci.kernel.evidence`): the build directory's `.cmd` files
  (`cmdfiles`), Yocto's SPDX compiled-source list (`spdx`), and `.config` evaluated
  against the Kbuild Makefiles (`kbuild`); `discover.load_evidence` reads what is given.
* Triage (`timesys_ci.kernel.triage.triage_report`): pure; sets aside the kernel
  findings none of whose CNA `programFiles` was compiled.
* `timesys-ci kernel-triage` (`timesys_ci.kernel.cli`); in `upload` through
  `timesys_ci.job.kernel_triage`; the shared options in `timesys_ci.kernel.options`.

The names below are loaded on first use, so importing `timesys_ci.kernel.options`
(which every CLI start-up does) does not load the evaluators.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "KernelInputs": "discover", "LoadedEvidence": "discover", "load_evidence": "discover",
    "EvidenceError": "evidence", "EvidenceInfo": "evidence", "EvidenceSet": "evidence", "FileVerdict": "evidence",
    "KernelCveDecision": "triage", "ProgramFiles": "triage", "TriageResult": "triage", "triage_report": "triage",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)

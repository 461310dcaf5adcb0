"""Kernel CVEs triaged by what the build really compiled.

* Evidence (`timesys_ci.kernel.evidence`): the build directory's `.cmd` files
  (`cmdfiles`), Yocto's SPDX compiled-source list (`spdx`), and `.config` evaluated
  against the Kbuild Makefiles (`kbuild`); `discover.load_evidence` reads what is given.
* Triage (`timesys_ci.kernel.triage.triage_report`): pure; sets aside the kernel
  findings none of whose CNA `programFiles` was compiled.
* `timesys-ci kernel-triage` (`timesys_ci.kernel.cli`).
"""
from timesys_ci.kernel.discover import KernelInputs, LoadedEvidence, load_evidence
from timesys_ci.kernel.evidence import EvidenceError, EvidenceInfo, EvidenceSet, FileVerdict
from timesys_ci.kernel.triage import KernelCveDecision, ProgramFiles, TriageResult, triage_report

__all__ = ["EvidenceError", "EvidenceInfo", "EvidenceSet", "FileVerdict", "KernelCveDecision", "KernelInputs",
           "LoadedEvidence", "ProgramFiles", "TriageResult", "load_evidence", "triage_report"]

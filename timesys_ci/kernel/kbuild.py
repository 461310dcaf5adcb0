"""Evidence from `.config` evaluated against the Kbuild Makefiles of the kernel source tree.

The fallback when the build directory is gone (Yocto's `rm_work`, a CI cache that kept
only the sources): starting from the top-level lists (`obj-y += kernel/ ...` in the
top `Kbuild`, `core-y`/`drivers-y`/`libs-y` in the top and arch Makefiles), each
reached directory's `Kbuild` or `Makefile` is evaluated with the `.config` values:
`obj-y`/`obj-m` (and `lib-y`, `extra-y`, `always-y`, host and user programs) name its
objects, `foo-y`/`foo-objs` expand composite objects, `dir/` entries descend.

It never claims a header unused (only the build's `deps_` lines can show that), nor
anything under `scripts/` or `tools/`, nor a file that is not in the tree, nor a `.c`
file another file of its directory `#include`s. What the evaluator cannot resolve
widens what counts as compiled (see `timesys_ci.kernel.make`).
"""
from __future__ import annotations

import os
import re
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from timesys_ci.buildsystems.kconfig import makefile_version
from timesys_ci.kernel.evidence import EvidenceError, EvidenceInfo, FileVerdict
from timesys_ci.kernel.kconfig import KernelConfig
from timesys_ci.kernel.make import WILD, Expander, MakefileReader, Var, logical_lines, pattern_matches
from timesys_ci.kernel.paths import is_included, is_unit, kernel_path, major_minor
from timesys_ci.kernel.walk import read_bounded

KIND = "kconfig-kbuild"
MAX_DIRECTORIES = 20_000
MAX_INCLUDE_SCAN_FILES = 400
MAX_INCLUDE_SCAN_BYTES = 512 * 1024
NOT_MODELLED = ("scripts/", "tools/")  # host programs and userspace, built outside obj-y/obj-m
# Lists whose entries are built: objects, programs and (with a trailing /) directories to descend.
_BUILT_LIST = re.compile(
    r"^(?:(?:obj|lib|extra|always|head|hostprogs|userprogs|subdir|core|drivers|libs|net|init|virt)-"
    r"(?:y|m|1|always-y|always-m)|hostprogs|userprogs|always|extra|targets)$")
_TOP_LIST = re.compile(r"^(?:core|drivers|libs|net|init|virt|head)-(?:y|1)$")
_COMPOSITE_SUFFIXES = ("-objs", "-y", "-m")
_BUILD_INVOCATION = re.compile(r"\$\(build\)=(\S+)")


def _is_local(name: str) -> bool:
    """Names that are empty when a Makefile never set them: Kbuild's lists (`foo-y`, `obj-m`, ...)."""
    return "-" in name or "." in name or name.isdigit() or name in {"obj", "src", "targets", "quiet", "Q"}


@dataclass
class _Tree:
    stems: dict[str, str]  # "block/bfq-iosched" -> the Makefile that lists it
    patterns: list[tuple[str, str]]  # (stem pattern with WILD, Makefile): entries it could not resolve
    reached: dict[str, str]  # directory -> who reached it
    opaque: dict[str, str]  # directory -> why everything in and under it is unknown
    notes: list[str]


class KbuildEvidence:
    def __init__(self, info: EvidenceInfo, tree: _Tree, source_dir: Path) -> None:
        self.info = info
        self._tree = tree
        self._source_dir = source_dir

    def verdict(self, path: str) -> FileVerdict:
        def answer(state: str, reason: str) -> FileVerdict:
            return FileVerdict(path, state, reason, KIND)  # type: ignore[arg-type]

        stem = path.rpartition(".")[0]
        if is_unit(path) and stem in self._tree.stems:
            return answer("compiled", f"{os.path.basename(stem)} is built by {self._tree.stems[stem]} with this .config")
        if path.startswith(NOT_MODELLED):
            return answer("unknown", "scripts/ and tools/ are built outside obj-y/obj-m")
        if is_included(path):
            return answer("unknown", "a .config cannot show that no compiled unit includes a header")
        if not is_unit(path):
            return answer("unknown", "not a compilation unit")
        if not os.path.lexists(self._source_dir / path):
            return answer("unknown", f"not in the kernel source tree {self._source_dir} (renamed or moved?)")
        for pattern, makefile in self._tree.patterns:
            if pattern_matches(pattern, stem):
                return answer("unknown", f"{makefile} has entries this evaluation cannot resolve")
        directory = path.rpartition("/")[0]
        for opaque, why in self._tree.opaque.items():
            if directory == opaque or directory.startswith(opaque + "/") or opaque == "":
                return answer("unknown", why)
        includer = _included_by(self._source_dir, path)
        if includer:
            return answer("unknown", f"#include'd by {includer}")
        if not self.info.complete:
            return answer("unknown", "the Kbuild evaluation is incomplete")
        if directory in self._tree.reached:
            return answer("not_compiled", f"{os.path.basename(stem)}.o is in no built list of {directory}/ "
                                          "with this .config")
        return answer("not_compiled", f"no built list reaches {directory or '.'}/ with this .config")


def _included_by(source_dir: Path, path: str) -> Optional[str]:
    """A file of the same directory that `#include`s this `.c` file (some drivers do)."""
    directory, _, name = path.rpartition("/")
    needle = re.compile(r'#\s*include\s*["<]([^">]*/)?' + re.escape(name) + r'[">]')
    try:
        with os.scandir(source_dir / directory) as entries:
            siblings = [entry for entry in entries if entry.name.endswith((".c", ".h"))
                        and entry.name != name and entry.is_file(follow_symlinks=False)]
    except OSError:
        return None
    for entry in siblings[:MAX_INCLUDE_SCAN_FILES]:
        text = read_bounded(entry.path, MAX_INCLUDE_SCAN_BYTES)
        if text is not None and needle.search(text):
            return f"{directory}/{entry.name}" if directory else entry.name
    return None


def _fixed_variables(source_dir: Path, config: KernelConfig, directory: str) -> dict[str, str]:
    srcarch = config.srcarch or WILD
    fixed = {"srctree": str(source_dir), "objtree": ".", "src": str(source_dir / directory) if directory else
             str(source_dir), "obj": directory or ".", "SRCARCH": srcarch, "ARCH": srcarch, "KBUILD_EXTMOD": "",
             "KBUILD_BUILTIN": "1", "KBUILD_MODULES": "1", "CONFIG_SHELL": "sh"}
    if srcarch == "x86":
        fixed["BITS"] = "64" if config.value("CONFIG_X86_64") == "y" else "32"
    return fixed


class _Evaluator:
    def __init__(self, source_dir: Path, config: KernelConfig) -> None:
        self.source_dir = source_dir
        self.config = config
        self.tree = _Tree(stems={}, patterns=[], reached={}, opaque={}, notes=[])
        self.queue: deque[tuple[str, str]] = deque()

    def reader(self, directory: str, **options: bool) -> MakefileReader:
        return MakefileReader(self.source_dir, self.config.values, _fixed_variables(self.source_dir, self.config,
                                                                                      directory), _is_local, **options)

    # --- the top level -------------------------------------------------------------------------------------
    def top_level(self) -> None:
        """Directories the top Makefile, the arch Makefile and the top Kbuild file send make into."""
        arch = self.config.srcarch
        makefiles = [self.source_dir / "Makefile"]
        if arch:
            makefiles.append(self.source_dir / "arch" / arch / "Makefile")
        else:
            self.tree.opaque[""] = "the .config does not say which architecture it is for"
        entries: list[str] = []
        variables: dict[str, Var] = {}
        for makefile in makefiles:
            if not makefile.is_file():
                self.tree.notes.append(f"{makefile} is missing")
                continue
            # What these files test about the build's environment is unknown here: those branches count as taken.
            evaluation = self.reader("", follow_includes=False).evaluate(makefile, variables)
            variables = evaluation.variables
            entries.extend(self.build_invocations(makefile, variables, ""))
        reader = self.reader("")
        for name in list(variables):
            if _TOP_LIST.match(name):
                entries.extend(reader_words(reader, variables, name))
        arch_lists = {"ARCH_CORE": "core-y", "ARCH_LIB": "libs-y", "ARCH_DRIVERS": "drivers-y"}
        seeded = {name: Var(" ".join(reader_words(reader, variables, source)), False)
                  for name, source in arch_lists.items()}
        for entry in entries:
            self.add_entry("", entry, "the top Makefile")
        kbuild = self.source_dir / "Kbuild"
        if kbuild.is_file():
            self.evaluate_directory("", "the top level", seeded)
        elif not entries:
            self.tree.opaque[""] = "no top-level build lists found (not a kernel source tree?)"

    def build_invocations(self, makefile: Path, variables: dict[str, Var], directory: str) -> list[str]:
        """Directories a recipe builds explicitly (`$(Q)$(MAKE) $(build)=arch/x86/boot`), as `dir/` entries.

        `$(build)=$@` and the like recurse into directories the lists already name: skipped.
        """
        expander = Expander(dict(variables), self.config.values,
                            _fixed_variables(self.source_dir, self.config, directory), _is_local)
        found = []
        for line in logical_lines(read_bounded(makefile) or ""):
            for target in _BUILD_INVOCATION.findall(line):
                expanded = expander.expand(target)
                if WILD not in expanded:
                    found.append(expanded.rstrip("/") + "/")
        return found

    # --- directories ---------------------------------------------------------------------------------------
    def add_entry(self, directory: str, word: str, makefile: str) -> None:
        joined = f"{directory}/{word}" if directory else word
        if WILD in word:
            pattern = joined.rstrip("/")
            if word.endswith("/") or word.strip(WILD) == "":
                self.tree.opaque.setdefault(pattern.split(WILD)[0].rstrip("/"), f"{makefile} builds directories "
                                                                               "this evaluation cannot resolve")
            else:
                self.tree.patterns.append((pattern.rpartition(".")[0] or pattern, makefile))
            return
        if word.startswith(str(self.source_dir) + "/"):
            joined = word[len(str(self.source_dir)) + 1:]
        path = kernel_path(joined)
        if path is None:
            return
        if word.endswith("/"):
            if path not in self.tree.reached:
                self.tree.reached[path] = makefile
                self.queue.append((path, makefile))
            return
        stem = path.rpartition(".")[0] if "." in path.rpartition("/")[2] else path
        self.tree.stems.setdefault(stem, makefile)

    def evaluate_directory(self, directory: str, reached_by: str, seeded: Optional[dict[str, Var]] = None) -> None:
        base = self.source_dir / directory if directory else self.source_dir
        makefile = next((base / name for name in ("Kbuild", "Makefile") if (base / name).is_file()), None)
        label = f"{directory}/{makefile.name}" if makefile and directory else (makefile.name if makefile else "")
        if makefile is None:
            if directory:
                self.tree.opaque[directory] = f"{directory}/ is built (reached by {reached_by}) but has no Makefile"
            return
        evaluation = self.reader(directory).evaluate(makefile, seeded)
        if evaluation.uncertain and directory:
            self.tree.opaque[directory] = f"{label}: {evaluation.uncertain[0]}"
        elif evaluation.uncertain:  # the top Kbuild's rules make generated headers, not objects
            self.tree.notes.append(f"{label}: {evaluation.uncertain[0]}")
        reader = self.reader(directory)
        names = [name for name in evaluation.variables if _BUILT_LIST.match(name)]
        for name in names:
            for word in reader_words(reader, evaluation.variables, name):
                self._add_object(directory, word, evaluation.variables, reader, label, 0)
        for _, value in evaluation.maybe_assigned:
            # `obj-$(SOMETHING) += x.o` with SOMETHING unknown: x.o may be built.
            for word in value.split():
                self.add_entry(directory, word, label)
        for included in evaluation.includes:
            # `$(build)=` paths are relative to the top of the tree, whichever Makefile says them.
            for entry in self.build_invocations(included, evaluation.variables, directory):
                self.add_entry("", entry, label)

    def _add_object(self, directory: str, word: str, variables: dict[str, Var], reader: MakefileReader,
                    label: str, depth: int) -> None:
        if word.endswith("/") or WILD in word or depth > 8:
            self.add_entry(directory, word, label)
            return
        base = word[:-2] if word.endswith(".o") else word
        parts = [f"{base}{suffix}" for suffix in _COMPOSITE_SUFFIXES if f"{base}{suffix}" in variables]
        components = [w for part in parts for w in reader_words(reader, variables, part)]
        if not components:
            self.add_entry(directory, word, label)
            return
        for component in components:
            if component == word:
                self.add_entry(directory, word, label)
            else:
                self._add_object(directory, component, variables, reader, label, depth + 1)

    def run(self) -> None:
        self.top_level()
        while self.queue:
            if len(self.tree.reached) > MAX_DIRECTORIES:
                self.tree.opaque[""] = f"more than {MAX_DIRECTORIES} directories: evaluation stopped"
                return
            directory, reached_by = self.queue.popleft()
            self.evaluate_directory(directory, reached_by)


def reader_words(reader: MakefileReader, variables: dict[str, Var], name: str) -> list[str]:
    var = variables.get(name)
    if var is None:
        return []
    value = Expander(variables, reader.config, reader.fixed, reader.is_local).expand(var.value) if var.recursive \
        else var.value
    return value.split()


def load_kbuild_evidence(source_dir: Path, config: KernelConfig) -> KbuildEvidence:
    """Evaluate the tree's Kbuild lists with `config`."""
    source_dir = Path(source_dir)
    if not (source_dir / "Makefile").is_file() or not (source_dir / "Kconfig").is_file():
        raise EvidenceError(f"{source_dir}: not a kernel source tree (no Makefile and Kconfig)")
    notes: list[str] = []
    complete = True
    if not config.generated:
        notes.append(f"{config.path} is not a full .config written by Kconfig (a defconfig fragment?): "
                     "options it omits may still be enabled")
        complete = False
    tree_version = makefile_version(source_dir)
    if config.version and tree_version and major_minor(config.version) != major_minor(tree_version):
        notes.append(f"{config.path} is for {config.version}, the source tree is {tree_version}")
        complete = False
    evaluator = _Evaluator(source_dir, config)
    evaluator.run()
    tree = evaluator.tree
    notes.extend(tree.notes)
    if "" in tree.opaque:
        notes.append(tree.opaque[""])
    info = EvidenceInfo(kind=KIND, strength="weak", origin=f"{config.path} with {source_dir}", complete=complete,
                        kernel_version=tree_version or config.version, notes=tuple(notes),
                        counts={"directories": len(tree.reached), "objects": len(tree.stems),
                                "unresolved directories": len(tree.opaque)})
    return KbuildEvidence(info, tree, source_dir)

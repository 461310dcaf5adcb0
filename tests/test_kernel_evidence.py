"""Evidence of what a kernel build compiled: .cmd files, SPDX compiled sources, .config against Kbuild."""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from .kernel_support import COMPILED, LINKED, config_text, make_build_dir, make_source_tree, write
from timesys_ci.kernel.cmdfiles import load_cmd_evidence, parse_cmd_text
from timesys_ci.kernel.discover import KernelInputs, load_evidence
from timesys_ci.kernel.evidence import EvidenceError
from timesys_ci.kernel.kbuild import load_kbuild_evidence
from timesys_ci.kernel.kconfig import read_kernel_config
from timesys_ci.kernel.spdx import load_spdx_evidence
from timesys_ci.kernel.walk import WalkLimits

SPDX3_FIXTURE = Path(__file__).parent / "fixtures" / "sbom-formats" / "core-image-minimal-qemux86-64.rootfs.spdx3.json.gz"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return make_source_tree(tmp_path / "kernel-source")


def states(evidence, paths):
    return {path: evidence.verdict(path).state for path in paths}


# --- .cmd files -------------------------------------------------------------------------------------------------

def test_parse_cmd_text_reads_source_deps_and_both_command_spellings() -> None:
    text = ("savedcmd_block/mac.o := gcc -c -o block/mac.o block/mac.c\n\n"
            "source_block/mac.o := block/mac.c\n\n"
            "deps_block/mac.o := \\\n  include/linux/kconfig.h \\\n"
            "    $(wildcard include/config/CPU_BIG_ENDIAN) \\\n  block/check.h \\\n\n"
            "block/mac.o: $(deps_block/mac.o)\n\n$(deps_block/mac.o):\n")
    parsed = parse_cmd_text(text)
    assert parsed.sources == [("block/mac.o", "block/mac.c")]
    assert parsed.deps == ["include/linux/kconfig.h", "block/check.h"] and parsed.has_deps
    assert "block/mac.o" in parsed.targets
    assert parse_cmd_text("cmd_vmlinux := ld -o vmlinux\n").targets == ["vmlinux"]


@pytest.mark.parametrize("saved", [True, False], ids=["savedcmd_ (6.2+)", "cmd_ (older)"])
@pytest.mark.parametrize("layout", ["out-of-tree", "in-tree"])
def test_cmd_evidence_compiled_not_compiled_and_headers(tmp_path: Path, source: Path, saved: bool,
                                                        layout: str) -> None:
    build = make_build_dir(tmp_path / "build" if layout == "out-of-tree" else source,
                           source_dir=source, saved=saved)
    evidence = load_cmd_evidence(build)
    assert evidence is not None and evidence.info.complete and evidence.info.strength == "strong"
    assert evidence.source_dir is not None and evidence.source_dir.resolve() == source.resolve()
    assert evidence.info.kernel_version == "6.6.21-yocto-standard"
    assert states(evidence, ["block/bfq-iosched.c", "block/bfq-cgroup.c", "arch/x86/kernel/head_64.S",
                             "scripts/basic/fixdep.c"]) == dict.fromkeys(
        ["block/bfq-iosched.c", "block/bfq-cgroup.c", "arch/x86/kernel/head_64.S", "scripts/basic/fixdep.c"],
        "compiled")
    # Not configured: never built.
    assert states(evidence, ["block/partitions/mac.c", "drivers/usb/hub.c", "arch/x86/kvm/x86.c"]) == dict.fromkeys(
        ["block/partitions/mac.c", "drivers/usb/hub.c", "arch/x86/kvm/x86.c"], "not_compiled")
    # Headers: compiled when a unit's deps_ names them; a header nothing includes is not compiled.
    assert evidence.verdict("block/bfq-iosched.h").state == "compiled"
    assert evidence.verdict("include/uapi/linux/io_uring.h").state == "not_compiled"
    # A .c file #included by a compiled unit appears in its deps_.
    assert evidence.verdict("drivers/foo/foo_tables.c").state == "compiled"
    # Files the build does not record, and files not in this tree (a rename?), stay undecided.
    assert evidence.verdict("block/Kconfig").state == "unknown"
    assert evidence.verdict("block/renamed-since.c").state == "unknown"
    # The toolchain's own headers are outside every tree and are not recorded as kernel files.
    assert evidence.verdict("usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h").state != "compiled"


def test_cmd_evidence_from_a_moved_build_infers_the_source_root(tmp_path: Path, source: Path) -> None:
    """Absolute paths recorded at build time still map when the tree now lives elsewhere."""
    build = make_build_dir(tmp_path / "build", source_dir=Path("/builder/tmp/work-shared/qemux86-64/kernel-source"))
    (build / "source").unlink()
    evidence = load_cmd_evidence(build)
    assert evidence is not None and evidence.source_dir is None
    assert evidence.verdict("block/bfq-iosched.c").state == "compiled"
    assert evidence.verdict("block/bfq-iosched.h").state == "compiled"
    assert evidence.verdict("block/partitions/mac.c").state == "not_compiled"
    assert any("source tree unknown" in note for note in evidence.info.notes)


def test_an_unfinished_build_never_says_not_compiled(tmp_path: Path, source: Path) -> None:
    build = make_build_dir(tmp_path / "build", source_dir=source, linked=("block/bfq.o",))
    evidence = load_cmd_evidence(build)
    assert evidence is not None and not evidence.info.complete
    assert evidence.verdict("block/bfq-iosched.c").state == "compiled"
    assert evidence.verdict("block/partitions/mac.c").state == "unknown"
    assert "no vmlinux" in " ".join(evidence.info.notes)


def test_kernel_build_artifacts_is_not_a_build_directory(tmp_path: Path) -> None:
    """Yocto's work-shared kernel-build-artifacts holds only a few host-tool .cmd files."""
    artifacts = tmp_path / "kernel-build-artifacts"
    write(artifacts / "scripts" / "basic" / ".fixdep.cmd",
          "savedcmd_scripts/basic/fixdep := gcc -o scripts/basic/fixdep scripts/basic/fixdep.c\n"
          "source_scripts/basic/fixdep := scripts/basic/fixdep.c\n\ndeps_scripts/basic/fixdep := \\\n  "
          "/usr/include/stdio.h \\\n")
    evidence = load_cmd_evidence(artifacts)
    assert evidence is not None and not evidence.info.complete
    assert evidence.verdict("block/partitions/mac.c").state == "unknown"
    assert load_cmd_evidence(tmp_path / "empty" if (tmp_path / "empty").mkdir() is None else tmp_path) is None


def test_oversized_and_unreadable_cmd_files_keep_their_targets(tmp_path: Path, source: Path) -> None:
    build = make_build_dir(tmp_path / "build", source_dir=source)
    big = build / "block" / ".bfq-iosched.o.cmd"
    big.write_text(big.read_text() + "  include/linux/pad.h \\\n" * 20000)
    evidence = load_cmd_evidence(build, limits=WalkLimits(max_file_bytes=64 * 1024))
    assert evidence is not None
    # The name says it was built; its dependencies are unknown, so no header is called unused.
    assert evidence.verdict("block/bfq-iosched.c").state == "compiled"
    assert evidence.verdict("include/uapi/linux/io_uring.h").state == "unknown"
    assert evidence.verdict("block/partitions/mac.c").state == "not_compiled"
    assert any("too large or unreadable" in note for note in evidence.info.notes)


def test_hostile_build_tree_symlink_loops_depth_and_entry_limits(tmp_path: Path, source: Path) -> None:
    build = make_build_dir(tmp_path / "build", source_dir=source)
    os.symlink(build, build / "drivers" / "loop")  # followed, this would never end
    os.symlink("/", build / "root")
    write(build / "outside.cmd.target", "x")
    evidence = load_cmd_evidence(build)
    assert evidence is not None and evidence.info.complete  # links are not followed, nothing is lost
    deep = build
    for level in range(12):
        deep = deep / f"d{level}"
    write(deep / ".x.o.cmd", "savedcmd_x.o := true\n")
    shallow = load_cmd_evidence(build, limits=WalkLimits(max_depth=6))
    assert shallow is not None and not shallow.info.complete
    assert shallow.verdict("block/partitions/mac.c").state == "unknown"
    truncated = load_cmd_evidence(build, limits=WalkLimits(max_entries=10))
    assert truncated is not None and not truncated.info.complete
    assert any("stopped after" in note for note in truncated.info.notes)


def test_cmd_files_that_are_symlinks_or_fifos_are_not_read(tmp_path: Path, source: Path) -> None:
    build = make_build_dir(tmp_path / "build", source_dir=source)
    os.symlink("/etc/passwd", build / "block" / ".evil.o.cmd")
    os.mkfifo(build / "block" / ".fifo.o.cmd")  # a read would block forever
    evidence = load_cmd_evidence(build)
    assert evidence is not None and evidence.info.counts["cmd files"] == len(COMPILED) + len(LINKED)


# --- SPDX ------------------------------------------------------------------------------------------------------

def spdx3_with_sources(path: Path, names: list[str]) -> Path:
    prefix = "http://spdx.org/spdxdocs/linux-yocto-0000/1111"
    graph = [{"type": "software_Package", "spdxId": f"{prefix}/package/kernel-6_6_21-yocto-standard",
              "name": "kernel-6.6.21-yocto-standard", "software_packageVersion": "6.6.21",
              "externalIdentifier": [{"type": "ExternalIdentifier", "externalIdentifierType": "cpe23",
                                      "identifier": "cpe:2.3:*:*:linux_kernel:6.6.21:*:*:*:*:*:*:*"}]},
             {"type": "build_Build", "spdxId": f"{prefix}/build/recipe", "name": "linux-yocto:do_create_spdx:recipe"}]
    graph += [{"type": "software_File", "spdxId": f"{prefix}/sourcefile/{i}", "name": name,
               "software_primaryPurpose": "source"} for i, name in enumerate(names, 1)]
    # Another recipe's sources are not the kernel's.
    graph.append({"type": "software_File", "spdxId": "http://spdx.org/spdxdocs/busybox-1/2/sourcefile/1",
                  "name": "busybox-1.36.1/block/partitions/mac.c", "software_primaryPurpose": "source"})
    path.write_text(json.dumps({"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": graph}))
    return path


def test_spdx3_compiled_sources(tmp_path: Path) -> None:
    evidence, note = load_spdx_evidence(spdx3_with_sources(tmp_path / "recipe-linux-yocto.spdx.json", [
        "linux-6.6.21/block/bfq-iosched.c", "linux-6.6.21/block/bfq-iosched.h", "linux-6.6.21/arch/x86/kernel/head_64.S",
        "linux-6.6.21/Makefile"]))
    assert evidence is not None and evidence.info.complete and evidence.info.kernel_version == "6.6.21"
    assert "4 kernel sources" in note
    assert evidence.verdict("block/bfq-iosched.c").state == "compiled"
    assert evidence.verdict("block/bfq-iosched.h").state == "compiled"
    assert evidence.verdict("block/partitions/mac.c").state == "not_compiled"
    assert evidence.verdict("include/linux/blkdev.h").state == "unknown"  # debug info need not name headers


def test_an_unfiltered_spdx_source_list_only_keeps(tmp_path: Path) -> None:
    evidence, _ = load_spdx_evidence(spdx3_with_sources(tmp_path / "all.spdx.json", [
        "linux-6.6.21/arch/x86/kernel/setup.c", "linux-6.6.21/arch/arm64/kernel/setup.c"]))
    assert evidence is not None and not evidence.info.complete
    assert evidence.verdict("block/partitions/mac.c").state == "unknown"


def test_real_walnascar_spdx3_has_no_compiled_sources() -> None:
    """The real walnascar image document was built without SPDX_INCLUDE_COMPILED_SOURCES: no claims."""
    evidence, note = load_spdx_evidence(SPDX3_FIXTURE)
    assert evidence is None and "SPDX_INCLUDE_COMPILED_SOURCES" in note


def test_spdx2_source_files_and_bad_documents(tmp_path: Path) -> None:
    doc = {"spdxVersion": "SPDX-2.2", "packages": [{"name": "linux-yocto", "versionInfo": "6.6.21"}],
           "files": [{"fileName": "linux-6.6.21/block/bfq-iosched.c", "fileTypes": ["SOURCE"]},
                     {"fileName": "linux-6.6.21/COPYING", "fileTypes": ["TEXT"]}]}
    path = tmp_path / "recipe-linux-yocto.spdx.json"
    path.write_bytes(gzip.compress(json.dumps(doc).encode()))
    evidence, _ = load_spdx_evidence(path)
    assert evidence is not None and evidence.verdict("block/bfq-iosched.c").state == "compiled"
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(EvidenceError, match="bad.json: not a JSON SPDX document"):
        load_spdx_evidence(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text("[]")
    with pytest.raises(EvidenceError, match="not an SPDX 3 JSON-LD or SPDX 2 JSON document"):
        load_spdx_evidence(tmp_path / "other.json")


# --- .config against Kbuild ------------------------------------------------------------------------------------

@pytest.mark.parametrize("top_kbuild", [True, False], ids=["6.1+ top Kbuild", "older top Makefile lists"])
def test_kbuild_evaluation(tmp_path: Path, top_kbuild: bool) -> None:
    source = make_source_tree(tmp_path / "src", with_top_kbuild=top_kbuild)
    config = read_kernel_config(write(tmp_path / ".config", config_text()))
    assert (config.srcarch, config.version, config.generated) == ("x86", "6.6.21", True)
    evidence = load_kbuild_evidence(source, config)
    assert evidence.info.complete and evidence.info.strength == "weak"
    compiled = ["block/bfq-iosched.c", "block/bfq-cgroup.c",  # composite bfq.o, one part conditional
                "block/partitions/msdos.c",  # ifeq ($(CONFIG_MSDOS_PARTITION),y)
                "arch/x86/kernel/head_64.S",  # head_$(BITS).o
                "arch/x86/kernel/acpi/boot.c", "arch/x86/pci/common.c",  # drivers-$(CONFIG_PCI) in the arch Makefile
                "arch/x86/boot/main.c",  # $(build)=$(boot) in a recipe
                "lib/string.c", "net/socket.c", "drivers/foo/foo.c"]  # lib-y, obj-$(CONFIG_NET) += net/, obj-m
    assert states(evidence, compiled) == dict.fromkeys(compiled, "compiled")
    absent = ["block/partitions/mac.c",  # obj-$(CONFIG_MAC_PARTITION), unset
              "block/partitions/atari.c",  # the else branch
              "arch/x86/kernel/head_32.S", "arch/arm64/kernel/setup.c", "drivers/usb/hub.c",
              "kernel/bpf/syscall.c", "samples/hello.c", "arch/x86/kvm/x86.c", "block/blk-zoned.c"]
    assert states(evidence, absent) == dict.fromkeys(absent, "not_compiled")
    undecided = ["drivers/foo/foo_tables.c",  # #include'd by foo.c
                 "block/bfq-iosched.h",  # headers: never from .config
                 "tools/perf/builtin-top.c", "block/renamed.c", "block/Makefile"]
    assert states(evidence, undecided) == dict.fromkeys(undecided, "unknown")


def test_kbuild_what_it_cannot_resolve_widens_compiled(tmp_path: Path) -> None:
    source = make_source_tree(tmp_path / "src")
    write(source / "block" / "partitions" / "Makefile",
          "obj-y := core.o\nobj-$(SOMEVAR_FROM_ELSEWHERE) += mac.o\nobj-y += $(shell ls *.o)\n")
    write(source / "drivers" / "Makefile", "obj-y += base/\n$(foreach d,usb,$(eval obj-y += $(d)/))\n")
    write(source / "net" / "Makefile", "ifeq ($(shell uname),Linux)\nobj-y := socket.o\nelse\nobj-y := other.o\n"
                                       "endif\n")
    write(source / "net" / "other.c", "int x;\n")
    evidence = load_kbuild_evidence(source, read_kernel_config(write(tmp_path / ".config", config_text())))
    assert evidence.verdict("block/partitions/mac.c").state == "compiled"  # obj-$(UNKNOWN) += mac.o may build it
    assert evidence.verdict("block/partitions/atari.c").state == "unknown"  # $(shell ...) could list anything
    assert evidence.verdict("drivers/usb/hub.c").state == "unknown"  # $(eval ...) in drivers/Makefile
    assert evidence.verdict("net/socket.c").state == "compiled"  # an undecidable condition takes both branches
    assert evidence.verdict("net/other.c").state == "compiled"


def test_kbuild_refuses_a_defconfig_fragment_and_another_version(tmp_path: Path) -> None:
    source = make_source_tree(tmp_path / "src")
    fragment = read_kernel_config(write(tmp_path / "defconfig", config_text(header=False)))
    assert not fragment.generated and fragment.srcarch == "x86"
    evidence = load_kbuild_evidence(source, fragment)
    assert not evidence.info.complete and evidence.verdict("block/partitions/mac.c").state == "unknown"
    assert evidence.verdict("block/bfq-iosched.c").state == "compiled"
    other = load_kbuild_evidence(source, read_kernel_config(write(tmp_path / "c", config_text(version="6.1.125"))))
    assert not other.info.complete and "is for 6.1.125, the source tree is 6.6.21" in " ".join(other.info.notes)
    with pytest.raises(EvidenceError, match="not a kernel source tree"):
        load_kbuild_evidence(tmp_path, fragment)


def test_kbuild_hostile_makefiles_terminate(tmp_path: Path) -> None:
    source = make_source_tree(tmp_path / "src")
    write(source / "block" / "Makefile", "obj-y += partitions/ ./ ../block/\nx = $(x) $(x)\nobj-y += $(x)\n"
                                          "include $(srctree)/block/Makefile\ninclude /etc/passwd\n")
    write(source / "block" / "partitions" / "Makefile", "obj-y := " + "a.o " * 200000 + "\n")
    evidence = load_kbuild_evidence(source, read_kernel_config(write(tmp_path / ".config", config_text())))
    # An include that leaves the tree makes block/ and everything under it undecided...
    assert evidence.verdict("block/bfq-iosched.c").state == "unknown"
    assert evidence.verdict("block/partitions/mac.c").state == "unknown"
    # ... and the rest of the tree is still evaluated.
    assert evidence.verdict("kernel/bpf/syscall.c").state == "not_compiled"
    assert evidence.verdict("kernel/fork.c").state == "compiled"


# --- discovery -------------------------------------------------------------------------------------------------

def test_load_evidence_prefers_cmd_and_falls_back_to_kbuild(tmp_path: Path, source: Path) -> None:
    build = make_build_dir(tmp_path / "build", source_dir=source)
    loaded = load_evidence(KernelInputs(build_dir=build))
    assert [info.kind for info in loaded.evidence.infos] == ["kbuild-cmd"]
    # rm_work removed the build directory's contents; the sources and the .config remain.
    empty = tmp_path / "cleaned"
    empty.mkdir()
    write(empty / ".config", config_text())
    loaded = load_evidence(KernelInputs(build_dir=empty, source_dir=source))
    assert [info.kind for info in loaded.evidence.infos] == ["kconfig-kbuild"]
    assert any("no .cmd files" in note for note in loaded.notes)
    with pytest.raises(EvidenceError, match="Kbuild evaluation needs both"):
        load_evidence(KernelInputs(source_dir=source))
    with pytest.raises(EvidenceError, match="--kernel-build-dir: not a directory"):
        load_evidence(KernelInputs(build_dir=tmp_path / "nope"))
    with pytest.raises(EvidenceError, match="--kernel-config: file not found"):
        load_evidence(KernelInputs(config=tmp_path / "nope"))
    with pytest.raises(EvidenceError, match="give --kernel-build-dir"):
        load_evidence(KernelInputs())

"""Synthetic kernel source trees and build directories, laid out as Kbuild lays them out.

The source tree is a small but structurally real kernel: a top Makefile with the version
and the `core-y`/`drivers-y`/`libs-y` lists of older kernels, a top `Kbuild` with the
`obj-y += dir/` lists of 6.1+, an arch Makefile, composite objects (`bfq-y`), a module
directory reached through `obj-m`, conditionals, and a `.c` file included by another.
The build directory holds the `.cmd` files Kbuild and fixdep write for what the
`.config` selects: `savedcmd_` (6.2+) or `cmd_` (older), with `source_` and `deps_`
lines, in-tree or out-of-tree (absolute source paths, as Yocto's `B` has them).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping, Optional

FIXTURES = Path(__file__).parent / "fixtures" / "kernel"

TOP_MAKEFILE = """\
# SPDX-License-Identifier: GPL-2.0
VERSION = 6
PATCHLEVEL = 6
SUBLEVEL = 21
EXTRAVERSION =
NAME = Hurr durr I'ma ninja sloth

ifeq ($(KBUILD_EXTMOD),)
core-y		:=
drivers-y	:=
libs-y		:= lib/
endif # KBUILD_EXTMOD

include $(srctree)/arch/$(SRCARCH)/Makefile

ifdef CONFIG_SAMPLES
drivers-y += samples/
endif

scripts_basic:
\t$(Q)$(MAKE) $(build)=scripts/basic

$(vmlinux-dirs): prepare
\t$(Q)$(MAKE) $(build)=$@ need-builtin=1
"""

TOP_KBUILD = """\
# SPDX-License-Identifier: GPL-2.0
bounds-file := include/generated/bounds.h
targets := kernel/bounds.s
$(bounds-file): kernel/bounds.s FORCE
\t$(call filechk,offsets,__LINUX_BOUNDS_H__)

obj-y			+= init/
obj-y			+= arch/$(SRCARCH)/
obj-y			+= $(ARCH_CORE)
obj-y			+= kernel/
obj-$(CONFIG_BLOCK)	+= block/
obj-$(CONFIG_IO_URING)	+= io_uring/
obj-y			+= $(ARCH_LIB)
obj-y			+= drivers/
obj-$(CONFIG_NET)	+= net/
"""

ARCH_MAKEFILE = """\
# SPDX-License-Identifier: GPL-2.0
ifeq ($(CONFIG_X86_32),y)
        BITS := 32
else
        BITS := 64
endif
boot := arch/x86/boot
libs-y  += arch/x86/lib/
drivers-$(CONFIG_PCI)            += arch/x86/pci/

bzImage: vmlinux
\t$(Q)$(MAKE) $(build)=$(boot) $(KBUILD_IMAGE)
"""

FILES: dict[str, str] = {
    "Kconfig": "mainmenu \"Linux/$(ARCH) $(KERNELVERSION) Kernel Configuration\"\n",
    "arch/x86/Kbuild": "obj-y += kernel/\nobj-$(CONFIG_KVM) += kvm/\n",
    "arch/x86/kernel/Makefile": "obj-y := head_$(BITS).o process_$(BITS).o\nobj-$(CONFIG_ACPI) += acpi/\n",
    "arch/x86/kernel/acpi/Makefile": "obj-y := boot.o\n",
    "arch/x86/kvm/Makefile": "kvm-y += x86.o\nobj-$(CONFIG_KVM) += kvm.o\n",
    "arch/x86/lib/Makefile": "lib-y := delay.o\n",
    "arch/x86/pci/Makefile": "obj-y := common.o\n",
    "arch/x86/boot/Makefile": "setup-y += main.o\ntargets += $(setup-y)\n",
    "arch/arm64/kernel/Makefile": "obj-y := setup.o\n",
    "init/Makefile": "obj-y := main.o\n",
    "kernel/Makefile": "obj-y = fork.o\nobj-$(CONFIG_BPF_SYSCALL) += bpf/\n",
    "kernel/bpf/Makefile": "obj-y := syscall.o\n",
    "block/Makefile": (
        "obj-y := bdev.o\n"
        "obj-y += partitions/\n"
        "obj-$(CONFIG_IOSCHED_BFQ) += bfq.o\n"
        "bfq-y := bfq-iosched.o bfq-wf2q.o\n"
        "bfq-$(CONFIG_BFQ_GROUP_IOSCHED) += bfq-cgroup.o\n"
        "obj-$(CONFIG_BLK_DEV_ZONED) += blk-zoned.o\n"
    ),
    "block/partitions/Makefile": (
        "obj-$(CONFIG_BLOCK) := core.o\n"
        "obj-$(CONFIG_MAC_PARTITION) += mac.o\n"
        "obj-$(CONFIG_EFI_PARTITION) += efi.o\n"
        "ifeq ($(CONFIG_MSDOS_PARTITION),y)\n"
        "obj-y += msdos.o\n"
        "else\n"
        "obj-$(CONFIG_ATARI_PARTITION) += atari.o\n"
        "endif\n"
    ),
    "lib/Makefile": "lib-y := string.o\nobj-y += crc32.o\n",
    "io_uring/Makefile": "obj-y := io_uring.o\n",
    "net/Makefile": "obj-y := socket.o\n",
    "drivers/Makefile": "obj-y += base/\nobj-$(CONFIG_USB) += usb/\nobj-$(CONFIG_FOO_DRIVER) += foo/\n",
    "drivers/base/Makefile": "obj-y := core.o\n",
    "drivers/usb/Makefile": "obj-$(CONFIG_USB) += usbcore.o\nusbcore-objs := usb.o hub.o\n",
    "drivers/foo/Makefile": "obj-m += foo.o\n",
    "samples/Makefile": "obj-y += hello.o\n",
    "scripts/basic/Makefile": "hostprogs-always-y += fixdep\n",
}
SOURCES = (
    "arch/x86/kernel/head_64.S", "arch/x86/kernel/head_32.S", "arch/x86/kernel/process_64.c",
    "arch/x86/kernel/process_32.c", "arch/x86/kernel/acpi/boot.c", "arch/x86/kvm/x86.c", "arch/x86/lib/delay.c",
    "arch/x86/pci/common.c", "arch/x86/boot/main.c", "arch/arm64/kernel/setup.c", "init/main.c", "kernel/fork.c",
    "kernel/bpf/syscall.c", "block/bdev.c", "block/bfq-iosched.c", "block/bfq-wf2q.c", "block/bfq-cgroup.c",
    "block/blk-zoned.c", "block/partitions/core.c", "block/partitions/mac.c", "block/partitions/efi.c",
    "block/partitions/msdos.c", "block/partitions/atari.c", "lib/string.c", "lib/crc32.c", "io_uring/io_uring.c",
    "net/socket.c", "drivers/base/core.c", "drivers/usb/usb.c", "drivers/usb/hub.c", "drivers/foo/foo.c",
    "drivers/foo/foo_tables.c", "samples/hello.c", "scripts/basic/fixdep.c", "tools/perf/builtin-top.c",
    "Documentation/example.c",
)
HEADERS = ("include/linux/kernel.h", "include/linux/blkdev.h", "include/linux/usb.h", "block/bfq-iosched.h",
           "block/partitions/check.h", "include/uapi/linux/io_uring.h")
# drivers/foo/foo.c #includes foo_tables.c, as some drivers do.
INCLUDES = {"drivers/foo/foo.c": ['"foo_tables.c"']}

CONFIG = {
    "CONFIG_X86": "y", "CONFIG_X86_64": "y", "CONFIG_64BIT": "y", "CONFIG_BLOCK": "y", "CONFIG_IOSCHED_BFQ": "y",
    "CONFIG_BFQ_GROUP_IOSCHED": "y", "CONFIG_EFI_PARTITION": "y", "CONFIG_MSDOS_PARTITION": "y", "CONFIG_NET": "y",
    "CONFIG_PCI": "y", "CONFIG_ACPI": "y", "CONFIG_FOO_DRIVER": "m", "CONFIG_LOCALVERSION": '"-yocto-standard"',
}
UNSET = ("CONFIG_MAC_PARTITION", "CONFIG_ATARI_PARTITION", "CONFIG_USB", "CONFIG_KVM", "CONFIG_BPF_SYSCALL",
         "CONFIG_IO_URING", "CONFIG_SAMPLES", "CONFIG_BLK_DEV_ZONED", "CONFIG_X86_32")

# What Kbuild compiles with CONFIG: (object, source, headers it includes).
COMPILED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("arch/x86/kernel/head_64.o", "arch/x86/kernel/head_64.S", ()),
    ("arch/x86/kernel/process_64.o", "arch/x86/kernel/process_64.c", ("include/linux/kernel.h",)),
    ("arch/x86/kernel/acpi/boot.o", "arch/x86/kernel/acpi/boot.c", ("include/linux/kernel.h",)),
    ("arch/x86/lib/delay.o", "arch/x86/lib/delay.c", ()),
    ("arch/x86/pci/common.o", "arch/x86/pci/common.c", ()),
    ("arch/x86/boot/main.o", "arch/x86/boot/main.c", ()),
    ("init/main.o", "init/main.c", ("include/linux/kernel.h",)),
    ("kernel/fork.o", "kernel/fork.c", ("include/linux/kernel.h",)),
    ("block/bdev.o", "block/bdev.c", ("include/linux/blkdev.h",)),
    ("block/bfq-iosched.o", "block/bfq-iosched.c", ("include/linux/blkdev.h", "block/bfq-iosched.h")),
    ("block/bfq-wf2q.o", "block/bfq-wf2q.c", ("block/bfq-iosched.h",)),
    ("block/bfq-cgroup.o", "block/bfq-cgroup.c", ("block/bfq-iosched.h",)),
    ("block/partitions/core.o", "block/partitions/core.c", ("block/partitions/check.h",)),
    ("block/partitions/efi.o", "block/partitions/efi.c", ("block/partitions/check.h",)),
    ("block/partitions/msdos.o", "block/partitions/msdos.c", ("block/partitions/check.h",)),
    ("lib/string.o", "lib/string.c", ()),
    ("lib/crc32.o", "lib/crc32.c", ()),
    ("net/socket.o", "net/socket.c", ("include/linux/kernel.h",)),
    ("drivers/base/core.o", "drivers/base/core.c", ("include/linux/kernel.h",)),
    ("drivers/foo/foo.o", "drivers/foo/foo.c", ("drivers/foo/foo_tables.c",)),
    ("scripts/basic/fixdep", "scripts/basic/fixdep.c", ()),
)
# Objects linked from others (no source_ line): composites, built-in archives, the image.
LINKED = ("block/bfq.o", "block/built-in.a", "vmlinux.a", "vmlinux.o", "vmlinux", "drivers/foo/foo.ko")


def config_text(values: Mapping[str, str] = CONFIG, unset: Iterable[str] = UNSET, *,
                header: bool = True, version: str = "6.6.21") -> str:
    lines = ["#", "# Automatically generated file; DO NOT EDIT.", f"# Linux/x86 {version} Kernel Configuration", "#"] \
        if header else []
    lines += [f"{name}={value}" for name, value in values.items()]
    lines += [f"# {name} is not set" for name in unset]
    return "\n".join(lines) + "\n"


def make_source_tree(root: Path, *, version: str = "6.6.21", with_top_kbuild: bool = True) -> Path:
    """The kernel sources (as `tmp/work-shared/<machine>/kernel-source` or `$(O)/build/linux-*`)."""
    major, minor, sub = version.split(".")
    top = TOP_MAKEFILE.replace("PATCHLEVEL = 6", f"PATCHLEVEL = {minor}").replace("SUBLEVEL = 21", f"SUBLEVEL = {sub}")
    if not with_top_kbuild:  # before 6.1 the top Makefile itself lists the top directories
        top = top.replace("core-y\t\t:=\n", "core-y\t\t:= init/ kernel/ arch/$(SRCARCH)/\n")
        top = top.replace("drivers-y\t:=\n", "drivers-y\t:= drivers/\nnet-$(CONFIG_NET) := net/\n"
                                              "core-$(CONFIG_BLOCK) += block/\n")
        top = top.replace("libs-y\t\t:= lib/", "libs-y\t\t:= lib/\n")
    files = dict(FILES, Makefile=top.replace("VERSION = 6", f"VERSION = {major}"), **{"arch/x86/Makefile": ARCH_MAKEFILE})
    if with_top_kbuild:
        files["Kbuild"] = TOP_KBUILD
    for relative, text in files.items():
        write(root / relative, text)
    for relative in SOURCES:
        includes = "".join(f"#include {name}\n" for name in INCLUDES.get(relative, ()))
        write(root / relative, f"// SPDX-License-Identifier: GPL-2.0\n{includes}int f(void) {{ return 0; }}\n")
    for relative in HEADERS:
        write(root / relative, "/* SPDX-License-Identifier: GPL-2.0 */\n")
    return root


def cmd_text(target: str, source: Optional[str], deps: Iterable[str], *, saved: bool = True,
             source_prefix: str = "") -> str:
    """A `.cmd` file as Kbuild and fixdep write it."""
    prefix = "savedcmd_" if saved else "cmd_"
    text = f"{prefix}{target} := gcc -Wp,-MMD,{target}.d -nostdinc -c -o {target} {source_prefix}{source or ''}\n\n"
    if source is not None:
        text += f"source_{target} := {source_prefix}{source}\n\n"
        text += f"deps_{target} := \\\n"
        for dep in deps:
            text += f"  {source_prefix}{dep} \\\n"
            text += "    $(wildcard include/config/CC_VERSION_TEXT) \\\n"
        text += "  include/generated/autoconf.h \\\n  /usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h \\\n"
        text += f"\n{target}: $(deps_{target})\n\n$(deps_{target}):\n"
    return text


def make_build_dir(build: Path, *, source_dir: Optional[Path] = None, saved: bool = True,
                   compiled: Iterable[tuple[str, str, tuple[str, ...]]] = COMPILED,
                   linked: Iterable[str] = LINKED, release: str = "6.6.21-yocto-standard") -> Path:
    """The build directory: in-tree when `source_dir` is None or the same, else out-of-tree (absolute paths)."""
    build.mkdir(parents=True, exist_ok=True)
    prefix = "" if source_dir is None or source_dir == build else f"{source_dir}/"
    for target, source, headers in compiled:
        directory, _, name = target.rpartition("/")
        write(build / directory / f".{name}.cmd", cmd_text(target, source, headers, saved=saved,
                                                           source_prefix=prefix))
    for target in linked:
        directory, _, name = target.rpartition("/")
        write(build / directory / f".{name}.cmd", cmd_text(target, None, (), saved=saved))
    write(build / ".config", config_text())
    write(build / "include" / "config" / "kernel.release", release + "\n")
    if prefix:
        (build / "source").symlink_to(source_dir)
    return build


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path



def kernel_cna_record(cve_id: str, files: Iterable[str], *, fixed_in_6_6: str = "6.6.79", score: float = 7.8,
                      template: str = "CVE-2025-21772") -> dict:
    """A Linux kernel CNA record shaped as the real ones (`template`, a real record of the fixtures): the pair of
    affected entries (git commit ranges, then semver with the stable-branch `unaffected` entries), `programFiles`,
    the per-branch `cpeApplicability`, and a CISA-ADP container with the CVSS score the kernel CNA does not give.
    `fixed_in_6_6`: where the 6.6 stable branch got the fix (6.6.21 is affected below it)."""
    import copy
    import json

    record = copy.deepcopy(json.loads((FIXTURES / f"{template}.json").read_text()))
    record["cveMetadata"]["cveId"] = cve_id
    cna = record["containers"]["cna"]
    for entry in cna["affected"]:
        entry["programFiles"] = list(files)
        for version in entry["versions"]:
            if version.get("lessThanOrEqual") == "6.6.*":
                version["version"] = fixed_in_6_6
    for node in (node for applicability in cna.get("cpeApplicability", []) for node in applicability["nodes"]):
        for match in node["cpeMatch"]:  # the per-branch criterion says the same: < the 6.6 fix
            if str(match.get("versionEndExcluding", "")).startswith("6.6."):
                match["versionEndExcluding"] = fixed_in_6_6
    severity = "CRITICAL" if score >= 9 else "HIGH" if score >= 7 else "MEDIUM" if score >= 4 else "LOW"
    record["containers"]["adp"] = [{
        "providerMetadata": {"orgId": "134c704f-9b21-4f2e-91b3-4a467353bcc0", "shortName": "CISA-ADP",
                             "dateUpdated": record["cveMetadata"]["dateUpdated"]},
        "title": "CISA ADP Vulnrichment",
        "metrics": [{"cvssV3_1": {"version": "3.1", "baseScore": score, "baseSeverity": severity,
                                  "vectorString": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"}}]}]
    return record

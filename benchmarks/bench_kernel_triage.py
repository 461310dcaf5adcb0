#!/usr/bin/env python3
"""Kernel triage on a realistic synthetic kernel build: how many kernel CVEs match, how many are set aside, why.

What it does (deterministic: the tree from ``SUBSYSTEMS``, the records from ``--seed``; all under ``--work``)
-----------------------------------------------------------------------
1. Writes a kernel source tree (fixed by ``SUBSYSTEMS``) shaped like Linux 6.6: the top ``Makefile``/``Kbuild``, every ``arch/``
   directory, and the subsystems of ``SUBSYSTEMS`` below (``kernel/``, ``mm/``, 40 filesystems, 30 network
   protocols, ~90 driver directories with their vendor subdirectories, sound, crypto, security, ...) with
   ``Makefile`` s in the Kbuild idiom: ``obj-$(CONFIG_X) += dir/`` descent, ``obj-$(CONFIG_X) += file.o``,
   composite objects (``foo-y := a.o b.o``), feature options per file, and headers under ``include/linux/``.
2. Configures it as an arm64 embedded board: the core kernel, ext4/vfat/squashfs/overlayfs/NFS client, IPv4/6
   and netfilter, the board's Ethernet, one Wi-Fi vendor, MMC, USB, serial, I2C/SPI/GPIO, an SoC's pinctrl,
   clocks and sound codecs, a display bridge -- and none of the desktop/server drivers (amdgpu, i915,
   InfiniBand, most SCSI HBAs, the other arches' code, btrfs/xfs/smb/nfsd, ...). It writes the ``.config`` and the
   build directory Kbuild leaves: a ``.<target>.cmd`` (``savedcmd_``, ``source_``, ``deps_``) per compiled unit,
   the linked objects, ``vmlinux``, ``include/config/kernel.release``.
3. Writes ``--records`` Linux kernel CNA records in the real record shape (the fixture CVE-2025-21772's
   containers: git ranges, the semver entry with the stable-branch ``unaffected`` entries, ``programFiles``;
   a CISA-ADP CVSS). Their files are drawn across subsystems with the weights of ``SUBSYSTEMS`` (the kernel
   CNA's CVEs fall mostly in drivers, net and fs); about 5 % name headers, 2 % files no longer in the tree, 3 %
   no files at all; about 85 % are fixed in 6.6 after 6.6.21, so a 6.6.21 kernel matches them.
4. Imports them (``import_paths``, as ``service import-vulns``/``db update`` do) into a fresh data dir and runs
   ``timesys-ci upload`` of a kernel-only Vigiles manifest (linux-yocto 6.6.21) against the embedded service
   (``--local``) as a subprocess: without triage, with ``--kernel-build-dir`` (the ``.cmd`` files), and with
   ``--kernel-source-dir --kernel-config`` (the Kbuild fallback), ``--fail-on high``; prints what each JSON
   result says (matched, set aside, kept and why, failing) and the wall time of each command.

Run (from the repository root, with the ``service`` extra installed)::

    python3 benchmarks/bench_kernel_triage.py                   # 6,000 records (a minute or two)
    python3 benchmarks/bench_kernel_triage.py --records 600     # quick
    python3 benchmarks/bench_kernel_triage.py --json-out figures.json --keep

Nothing here asserts anything; it is a measurement, not a test, and never runs in CI. The README's
"Kernel CVEs" section quotes its output.

Figures measured on this machine (2 cores, shared; Python 3.11), ``python3 benchmarks/bench_kernel_triage.py``
----------------------------------------------------------------------------------------------------------
Tree: 11,718 units in 292 directories, 2,081 compiled (tree, build dir and records written in 8 s); records:
6,000 (308 naming headers, 122 files no longer in the tree, 172 without files), 5,072 affecting 6.6.21, imported
in 2.6 s. ``upload --local --fail-on high``:

* no triage: 5,072 kernel findings, 2,027 failing, 4.2 s;
* ``--kernel-build-dir``: 3,030 set aside, kept 1,791 compiled / 103 undecidable / 148 without file data,
  817 failing, 4.8 s;
* ``--kernel-source-dir --kernel-config``: 2,903 set aside, kept 1,662 / 359 / 148, 872 failing, 9.8 s.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.kernel_support import cmd_text, kernel_cna_record, write  # noqa: E402

KERNEL_VERSION = "6.6.21"
# (directory, compilation units, share of its units this board compiles, share of kernel CVEs in it).
# Unit counts follow Linux 6.6 loosely (scaled to about half); CVE shares follow the kernel CNA's 2024-2025
# records by directory, roughly (here: drivers 46 %, net 17 %, fs 14 %, kernel 8 %, arch 4 %, mm 3 %, the rest 8 %).
# A directory with several vendor/protocol children is a "family": ("drivers/net/ethernet", 40, ...) makes 40
# children of it, `enabled` of them compiled.
SUBSYSTEMS: Tuple[Tuple[str, int, float, float], ...] = (
    ("kernel", 260, 0.85, 3.2), ("kernel/bpf", 40, 0.7, 1.6), ("kernel/sched", 30, 1.0, 0.9),
    ("kernel/trace", 60, 0.5, 1.0), ("kernel/events", 10, 1.0, 0.4), ("mm", 150, 0.85, 2.6),
    ("block", 70, 0.7, 1.0), ("io_uring", 25, 1.0, 0.8), ("crypto", 160, 0.45, 0.8), ("lib", 240, 0.6, 0.6),
    ("security/selinux", 25, 0.0, 0.2), ("security/apparmor", 20, 0.0, 0.2), ("security/keys", 20, 1.0, 0.2),
    ("security/integrity", 25, 0.0, 0.2), ("ipc", 15, 1.0, 0.2), ("virt/kvm", 20, 0.0, 0.3),
    ("arch/arm64/kernel", 90, 0.9, 0.6), ("arch/arm64/mm", 20, 1.0, 0.2), ("arch/arm64/kvm", 60, 0.0, 0.4),
    ("arch/x86/kernel", 250, 0.0, 0.8), ("arch/x86/kvm", 60, 0.0, 0.9), ("arch/x86/events", 40, 0.0, 0.2),
    ("arch/arm/kernel", 120, 0.0, 0.1), ("arch/powerpc/kernel", 160, 0.0, 0.2), ("arch/riscv/kernel", 60, 0.0, 0.1),
    ("arch/mips/kernel", 90, 0.0, 0.05), ("arch/s390/kernel", 70, 0.0, 0.1), ("arch/loongarch/kernel", 40, 0.0, 0.05),
    ("fs", 70, 0.9, 1.0), ("fs/ext4", 45, 1.0, 1.0), ("fs/fat", 10, 1.0, 0.1), ("fs/proc", 25, 1.0, 0.2),
    ("fs/squashfs", 15, 1.0, 0.1), ("fs/overlayfs", 12, 1.0, 0.2), ("fs/nfs", 60, 0.8, 0.7), ("fs/jbd2", 6, 1.0, 0.2),
    ("fs/btrfs", 90, 0.0, 1.2), ("fs/xfs", 130, 0.0, 0.6), ("fs/f2fs", 25, 0.0, 0.9), ("fs/smb/client", 55, 0.0, 0.9),
    ("fs/smb/server", 30, 0.0, 0.7), ("fs/nfsd", 40, 0.0, 0.6), ("fs/ocfs2", 50, 0.0, 0.4), ("fs/ntfs3", 20, 0.0, 0.5),
    ("fs/gfs2", 35, 0.0, 0.3), ("fs/ceph", 25, 0.0, 0.2), ("fs/jfs", 30, 0.0, 0.5), ("fs/hfsplus", 20, 0.0, 0.2),
    ("fs/erofs", 20, 0.0, 0.2), ("fs/udf", 15, 0.0, 0.1), ("fs/nilfs2", 25, 0.0, 0.3), ("fs/bcachefs", 90, 0.0, 0.6),
    ("net/core", 60, 1.0, 2.0), ("net/ipv4", 90, 0.85, 1.6), ("net/ipv6", 70, 0.8, 1.2), ("net/unix", 8, 1.0, 0.3),
    ("net/packet", 4, 1.0, 0.2), ("net/netlink", 6, 1.0, 0.2), ("net/sched", 90, 0.3, 1.4),
    ("net/netfilter", 160, 0.35, 2.0), ("net/mac80211", 60, 1.0, 0.7), ("net/wireless", 30, 1.0, 0.4),
    ("net/bluetooth", 40, 0.0, 0.9), ("net/can", 20, 0.0, 0.3), ("net/tipc", 30, 0.0, 0.4), ("net/sctp", 30, 0.0, 0.4),
    ("net/rds", 30, 0.0, 0.2), ("net/smc", 25, 0.0, 0.4), ("net/mptcp", 20, 0.0, 0.4), ("net/xfrm", 15, 0.0, 0.3),
    ("net/bridge", 35, 0.6, 0.4), ("net/vmw_vsock", 12, 0.0, 0.3), ("net/openvswitch", 12, 0.0, 0.2),
    ("net/nfc", 20, 0.0, 0.2), ("net/ax25", 15, 0.0, 0.1), ("net/9p", 8, 0.0, 0.1), ("net/l2tp", 8, 0.0, 0.1),
    ("drivers/base", 50, 1.0, 0.5), ("drivers/tty/serial", 60, 0.15, 0.5), ("drivers/tty", 30, 0.8, 0.3),
    ("drivers/mmc/host", 60, 0.1, 0.3), ("drivers/mmc/core", 20, 1.0, 0.2), ("drivers/usb/core", 20, 1.0, 0.6),
    ("drivers/usb/host", 50, 0.2, 0.4), ("drivers/usb/gadget", 60, 0.3, 0.8), ("drivers/usb/serial", 50, 0.0, 0.2),
    ("drivers/usb/storage", 30, 0.5, 0.1), ("drivers/usb/typec", 40, 0.0, 0.4), ("drivers/usb/dwc3", 20, 1.0, 0.3),
    ("drivers/i2c/busses", 90, 0.05, 0.2), ("drivers/spi", 100, 0.05, 0.3), ("drivers/gpio", 120, 0.05, 0.2),
    ("drivers/pinctrl", 120, 0.05, 0.3), ("drivers/clk", 150, 0.05, 0.3), ("drivers/regulator", 100, 0.05, 0.1),
    ("drivers/net/phy", 60, 0.2, 0.3), ("drivers/net", 40, 0.4, 0.8), ("drivers/net/ethernet", 40, 0.05, 3.5),
    ("drivers/net/wireless", 16, 0.0625, 2.4), ("drivers/net/can", 30, 0.0, 0.2), ("drivers/net/usb", 30, 0.1, 0.3),
    ("drivers/gpu/drm", 90, 0.6, 1.4), ("drivers/gpu/drm/amd", 700, 0.0, 3.8), ("drivers/gpu/drm/i915", 400, 0.0, 1.4),
    ("drivers/gpu/drm/nouveau", 300, 0.0, 0.5), ("drivers/gpu/drm/msm", 120, 0.0, 0.5),
    ("drivers/gpu/drm/panel", 100, 0.02, 0.2), ("drivers/gpu/drm/bridge", 60, 0.05, 0.3),
    ("drivers/gpu/drm/xe", 150, 0.0, 0.5), ("drivers/media", 400, 0.03, 2.0), ("drivers/scsi", 300, 0.04, 2.0),
    ("drivers/infiniband", 250, 0.0, 1.6), ("drivers/nvme", 30, 0.5, 0.6), ("drivers/md", 80, 0.2, 0.6),
    ("drivers/block", 50, 0.15, 0.6), ("drivers/input", 200, 0.05, 0.4), ("drivers/hid", 120, 0.1, 0.8),
    ("drivers/iio", 250, 0.01, 0.3), ("drivers/hwmon", 200, 0.02, 0.3), ("drivers/thermal", 40, 0.2, 0.1),
    ("drivers/power", 80, 0.05, 0.2), ("drivers/staging", 200, 0.0, 0.4), ("drivers/platform/x86", 120, 0.0, 0.5),
    ("drivers/acpi", 100, 0.0, 0.5), ("drivers/firmware", 50, 0.2, 0.3), ("drivers/crypto", 150, 0.03, 0.5),
    ("drivers/virtio", 15, 0.6, 0.2), ("drivers/vhost", 10, 0.0, 0.3), ("drivers/xen", 40, 0.0, 0.3),
    ("drivers/hv", 15, 0.0, 0.2), ("drivers/vfio", 30, 0.0, 0.3), ("drivers/bluetooth", 40, 0.0, 0.5),
    ("drivers/misc", 80, 0.05, 0.3), ("drivers/soc", 60, 0.1, 0.2), ("drivers/remoteproc", 30, 0.1, 0.2),
    ("drivers/pci", 90, 0.2, 0.5), ("drivers/iommu", 40, 0.2, 0.5), ("drivers/dma", 70, 0.05, 0.3),
    ("drivers/mtd", 80, 0.1, 0.2), ("drivers/watchdog", 90, 0.02, 0.1), ("drivers/rtc", 100, 0.02, 0.1),
    ("drivers/leds", 50, 0.05, 0.1), ("drivers/mailbox", 20, 0.1, 0.1), ("drivers/phy", 80, 0.05, 0.2),
    ("drivers/cpufreq", 50, 0.1, 0.2), ("drivers/ufs", 20, 0.0, 0.3), ("drivers/nfc", 30, 0.0, 0.1),
    ("drivers/accel", 40, 0.0, 0.3), ("drivers/edac", 40, 0.0, 0.1), ("drivers/android", 5, 0.0, 0.2),
    ("sound/core", 40, 0.8, 0.5), ("sound/soc", 300, 0.02, 1.0), ("sound/pci", 120, 0.0, 0.6),
    ("sound/usb", 30, 0.0, 0.3),
)
# Families: these directories hold vendor/protocol children, a few of which the board builds.
FAMILIES = {"drivers/net/ethernet": 40, "drivers/net/wireless": 16, "drivers/media": 20, "drivers/scsi": 25,
            "drivers/gpu/drm/amd": 6, "drivers/infiniband": 8, "sound/soc": 30}
HEADER_SHARE, RENAMED_SHARE, NO_FILES_SHARE, AFFECTED_SHARE = 0.05, 0.02, 0.03, 0.85
SCORES = ((5.5, 0.55), (7.8, 0.33), (7.1, 0.06), (4.7, 0.04), (9.8, 0.02))


@dataclass
class Unit:
    path: str  # drivers/net/ethernet/vendor07/v07_main.c
    symbol: str  # the CONFIG_ option that builds it
    compiled: bool
    header: str  # the directory's header, which the unit includes


@dataclass
class Tree:
    units: List[Unit] = field(default_factory=list)
    headers: Dict[str, bool] = field(default_factory=dict)  # header -> included by a compiled unit
    weights: Dict[str, float] = field(default_factory=dict)  # leaf directory -> share of CVEs
    leaves: Dict[str, List[Unit]] = field(default_factory=dict)
    config: Dict[str, str] = field(default_factory=dict)
    makefiles: Dict[str, List[str]] = field(default_factory=dict)


def _symbol(path: str) -> str:
    return "CONFIG_" + "".join(ch if ch.isalnum() else "_" for ch in path.upper())


def _descend(tree: Tree, directory: str, symbol: str) -> None:
    """`obj-y += child/` from the top down to `directory`, whose own line is `obj-$(CONFIG_X) += name/`."""
    parts = directory.split("/")
    for depth in range(1, len(parts)):
        parent, child = "/".join(parts[:depth]), parts[depth]
        entry = f"obj-$({symbol})\t+= {child}/" if depth == len(parts) - 1 else f"obj-y\t\t+= {child}/"
        if entry not in tree.makefiles.setdefault(parent, []):
            tree.makefiles[parent].append(entry)


def _leaf(tree: Tree, directory: str, units: int, share: float, weight: float) -> None:
    """One directory: its Makefile (a composite object of the first units, one option per further unit), its
    units and its header. `share` of the units are built (the composite ones whenever the directory is)."""
    enabled = share > 0
    symbol = _symbol(directory)
    tree.config[symbol] = "y" if enabled else ""
    _descend(tree, directory, symbol)
    stem = directory.rsplit("/", 1)[-1].replace("-", "_")
    header = f"include/linux/{directory.replace('/', '_')}.h"
    composite = [f"{stem}_core{n}" for n in range(min(4, units))]
    lines = ["# SPDX-License-Identifier: GPL-2.0", f"obj-$({symbol})\t+= {stem}.o",
             f"{stem}-y\t:= " + " ".join(f"{name}.o" for name in composite)]
    features = max(0, round(units * share) - len(composite)) if enabled else 0
    made = [Unit(f"{directory}/{name}.c", symbol, enabled, header) for name in composite]
    for index in range(len(composite), units):
        name, feature = f"{stem}_{index:03d}", f"{symbol}_F{index:03d}"
        compiled = enabled and index - len(composite) < features
        tree.config[feature] = "y" if compiled else ""
        lines.append(f"obj-$({feature})\t+= {name}.o")
        made.append(Unit(f"{directory}/{name}.c", feature, compiled, header))
    tree.makefiles.setdefault(directory, []).extend(lines)
    tree.units += made
    tree.leaves[directory] = made
    tree.headers[header] = any(unit.compiled for unit in made)
    tree.weights[directory] = weight


def build_tree() -> Tree:
    tree = Tree()
    for directory, units, share, weight in SUBSYSTEMS:
        children = FAMILIES.get(directory)
        if children is None:
            _leaf(tree, directory, units, share, weight)
            continue
        on = max(1, round(children * share)) if share > 0 else 0
        for index in range(children):
            vendor = f"{directory}/vendor{index:02d}"
            # Vendor directories are not equally buggy: a few take most of the family's CVEs.
            _leaf(tree, vendor, max(3, units // children), 0.9 if index < on else 0.0,
                  weight * (0.5 ** (index % 8)) / sum(0.5 ** (i % 8) for i in range(children)))
    for symbol in ("CONFIG_ARM64", "CONFIG_64BIT", "CONFIG_BLOCK", "CONFIG_NET", "CONFIG_MMU"):
        tree.config[symbol] = "y"
    return tree


TOP_MAKEFILE = """# SPDX-License-Identifier: GPL-2.0
VERSION = 6
PATCHLEVEL = 6
SUBLEVEL = 21
EXTRAVERSION =
NAME = Hurr durr I'ma ninja sloth

include $(srctree)/arch/$(SRCARCH)/Makefile
"""


def write_source(tree: Tree, source: Path) -> None:
    write(source / "Makefile", TOP_MAKEFILE)
    write(source / "Kconfig", 'mainmenu "Linux/$(ARCH) $(KERNELVERSION) Kernel Configuration"\n')
    tops = sorted({d.split("/")[0] for d in tree.makefiles} - {"arch"})
    top_kbuild = [f"obj-y\t\t+= {top}/" for top in tops] + ["obj-y\t\t+= arch/$(SRCARCH)/"]
    write(source / "Kbuild", "# SPDX-License-Identifier: GPL-2.0\n" + "\n".join(top_kbuild) + "\n")
    for directory, lines in tree.makefiles.items():
        if directory == "arch":
            continue
        arch_top = directory.startswith("arch/") and directory.count("/") == 1
        # An arch's top directory: `Kbuild` lists its subdirectories, the `Makefile` is the arch Makefile.
        write(source / directory / ("Kbuild" if arch_top else "Makefile"), "\n".join(lines) + "\n")
        if arch_top:
            write(source / directory / "Makefile", f"# SPDX-License-Identifier: GPL-2.0\nboot := {directory}/boot\n")
    for unit in tree.units:
        write(source / unit.path, f"// SPDX-License-Identifier: GPL-2.0\n#include <{unit.header[8:]}>\n"
                                  f"int f(void) {{ return 0; }}\n")
    for header in tree.headers:
        write(source / header, "/* SPDX-License-Identifier: GPL-2.0 */\n")
    write(source / "include" / "linux" / "kernel.h", "/* SPDX-License-Identifier: GPL-2.0 */\n")


def config_lines(tree: Tree) -> str:
    lines = ["#", "# Automatically generated file; DO NOT EDIT.", f"# Linux/arm64 {KERNEL_VERSION} Kernel Configuration",
             "#"]
    for name, value in sorted(tree.config.items()):
        lines.append(f"{name}={value}" if value else f"# {name} is not set")
    return "\n".join(lines) + "\n"


def write_build(tree: Tree, source: Path, build: Path) -> int:
    """The out-of-tree build directory (Yocto's B): a .cmd per compiled unit, the links, the release."""
    compiled = 0
    prefix = f"{source}/"
    linked = set()
    for unit in tree.units:
        if not unit.compiled:
            continue
        target = unit.path[:-2] + ".o"
        directory, _, name = target.rpartition("/")
        write(build / directory / f".{name}.cmd", cmd_text(target, unit.path, (unit.header, "include/linux/kernel.h"),
                                                           source_prefix=prefix))
        linked.add(f"{directory}/built-in.a")
        compiled += 1
    for target in sorted(linked) + ["vmlinux.a", "vmlinux.o", "vmlinux"]:
        directory, _, name = target.rpartition("/")
        write(build / directory / f".{name}.cmd", cmd_text(target, None, ()))
    write(build / ".config", config_lines(tree))
    write(build / "include" / "config" / "kernel.release", f"{KERNEL_VERSION}-yocto-standard\n")
    (build / "source").symlink_to(source)
    return compiled


def _weighted(rng: random.Random, pairs: Sequence[Tuple[Any, float]]) -> Any:
    total = sum(weight for _, weight in pairs)
    pick = rng.random() * total
    for value, weight in pairs:
        pick -= weight
        if pick <= 0:
            return value
    return pairs[-1][0]


def write_records(tree: Tree, out: Path, count: int, seed: int) -> Dict[str, int]:
    rng = random.Random(seed + 1)
    leaves = [(directory, weight) for directory, weight in tree.weights.items() if tree.leaves[directory]]
    stats: Counter = Counter()
    for number in range(count):
        cve_id = f"CVE-2024-{50000 + number}"
        directory = _weighted(rng, leaves)
        roll = rng.random()
        if roll < NO_FILES_SHARE:
            files: List[str] = []
            stats["no_files"] += 1
        elif roll < NO_FILES_SHARE + HEADER_SHARE:
            files = [tree.leaves[directory][0].header]
            stats["header"] += 1
        elif roll < NO_FILES_SHARE + HEADER_SHARE + RENAMED_SHARE:
            files = [f"{directory}/removed_{number}.c"]
            stats["renamed"] += 1
        else:
            units = tree.leaves[directory]
            files = sorted({rng.choice(units).path for _ in range(_weighted(rng, ((1, 0.7), (2, 0.22), (3, 0.08))))})
            stats["units"] += 1
        affected = rng.random() < AFFECTED_SHARE
        stats["affecting_6.6.21"] += affected
        fixed = f"6.6.{rng.randint(22, 110)}" if affected else f"6.6.{rng.randint(2, 21)}"
        record = kernel_cna_record(cve_id, files, fixed_in_6_6=fixed, score=_weighted(rng, SCORES))
        write(out / f"{cve_id}.json", json.dumps(record))
    stats["records"] = count
    return dict(stats)


def write_manifest(path: Path) -> None:
    manifest = {"manifest_name": "bench-kernel", "manifest_version": "1.19", "distro": "scarthgap",
                "image": "bench-kernel", "machine": "bench-arm64", "date": "2025-07-28T17:09:52+00:00",
                "packages": {"linux-yocto": {
                    "name": "linux-yocto", "version": f"{KERNEL_VERSION}+git", "cve_product": "linux_kernel",
                    "cve_version": KERNEL_VERSION, "license": "GPL-2.0-only", "patched_cves": {},
                    "cpe_id": [f"cpe:2.3:*:*:linux_kernel:{KERNEL_VERSION}:*:*:*:*:*:*:*"]}}}
    write(path, json.dumps(manifest))


def run_upload(work: Path, data: Path, manifest: Path, name: str, *extra: str) -> Dict[str, Any]:
    out = work / f"{name}.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), TIMESYS_CI_CACHE=str(work / "cache"))
    for variable in ("TIMESYS_CI_KERNEL_BUILD_DIR", "TIMESYS_CI_KERNEL_SOURCE_DIR", "TIMESYS_CI_KERNEL_CONFIG"):
        env.pop(variable, None)
    command = [sys.executable, "-m", "timesys_ci", "-q", "upload", str(manifest), "--local", "--local-data", str(data),
               "--fail-on", "high", "--json", str(out), *extra]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if completed.returncode not in (0, 1):
        raise SystemExit(f"{name}: upload exit {completed.returncode}: {completed.stderr.strip()}")
    document = json.loads(out.read_text())
    kernel = [f for f in document["findings"] if f["scope"] == "kernel"]
    triage = document["kernel_triage"]
    result = {"seconds": round(seconds, 2), "exit": completed.returncode,
              "kernel_findings": len(kernel),
              "failing": document["gate"]["failing"],
              "command": " ".join(["timesys-ci", *command[4:]])}
    if triage:
        result["triage"] = triage["counts"]
        result["evidence"] = triage["evidence"][:1]
        aside_dirs = Counter("/".join(cve["reason"].split(": ", 1)[1].split(" ")[0].split("/")[:2])
                             for cve in triage["set_aside"])
        result["set_aside_by_directory"] = dict(aside_dirs.most_common(8))
    return result


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=int, default=6000, help="kernel CNA records (default %(default)s)")
    parser.add_argument("--seed", type=int, default=14, help="draws the records (the tree is fixed by SUBSYSTEMS)")
    parser.add_argument("--work", type=Path, help="where to write everything (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep --work (default: removed at the end)")
    parser.add_argument("--json-out", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-kernel-triage-"))
    if work.exists() and any(work.iterdir()):
        raise SystemExit(f"--work {work}: not empty")
    try:
        started = time.perf_counter()
        tree = build_tree()
        source, build = work / "kernel-source", work / "build"
        write_source(tree, source)
        compiled = write_build(tree, source, build)
        config = write(work / "linux.config", config_lines(tree))
        records = write_records(tree, work / "records", args.records, args.seed)
        manifest = work / "bench-kernel.json"
        write_manifest(manifest)
        generated = time.perf_counter() - started
        from timesys_ci.vulndb.importer import import_paths
        from timesys_ci.vulndb.store import VulnStore

        data = work / "data"
        started = time.perf_counter()
        store = VulnStore(data / "vulndb.sqlite3")
        import_paths(store, [work / "records"])
        store.close()
        imported = time.perf_counter() - started
        figures = {
            "tree": {"units": len(tree.units), "directories": len(tree.leaves), "compiled": compiled,
                     "headers": len(tree.headers), "generated_seconds": round(generated, 1)},
            "records": records, "import_seconds": round(imported, 1),
            "no_triage": run_upload(work, data, manifest, "no-triage"),
            "cmd_files": run_upload(work, data, manifest, "cmd-files", "--kernel-build-dir", str(build)),
            "kbuild": run_upload(work, data, manifest, "kbuild", "--kernel-source-dir", str(source),
                                 "--kernel-config", str(config)),
        }
        print(json.dumps(figures, indent=2))
        if args.json_out:
            args.json_out.write_text(json.dumps(figures, indent=2) + "\n")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The local service at full size: import, database size, upload + scan, service memory.

What it does
------------
1. Generates -- deterministically from ``--seed``, cached under ``--cache`` -- a vulnerability data set of
   NVD's real size in the real feed shapes (``/work/shared/vuln-feeds.md``):

   * ``nvd/nvdcve-2.0-YYYY.json.gz`` (+ ``.meta``): NVD CVE API 2.0 yearly feeds, the real envelope
     (``resultsPerPage``, ``startIndex``, ``totalResults``, ``format``, ``version``, ``timestamp``,
     ``vulnerabilities[{cve}]``). At ``--scale 1``: 260,000 records (3 % Rejected) in 25 feeds
     (2002-2026, the 2002 feed holding 1999-2002), over 1,000,000 ``cpeMatch`` entries on ~20,000 products.
     openssl, busybox, glibc, curl, zlib, systemd, ... get realistic counts; ``linux_kernel`` gets 16,500
     CVEs, the 2024-2026 ones (kernel CNA era) with one range per stable branch plus mainline rc entries,
     so that the Yocto scarthgap kernel 6.6.21 matches well over 5,000. NVD's backlog is modelled:
     about a third of 2024-2026 records are ``Awaiting Analysis``/``Received`` with no ``configurations``.
   * ``cve5/YYYY-MM-DD_all_CVEs_at_midnight.zip.zip``: the CVE List V5 baseline as published (a zip holding
     ``cves.zip``, holding ``cves/<YYYY>/<N>xxx/CVE-….json``), one record per CVE id, PUBLISHED or REJECTED.
     CNA ``affected[]``/``versions[]`` as the CNAs write them: MITRE's ``n/a``, vendor ``semver``/``custom``
     ranges (also for the CVEs NVD has not analysed), OpenSSL's ``custom`` ranges, and the Linux kernel CNA's
     pair of entries (``git`` commit ranges and ``semver`` with ``lessThanOrEqual: 6.6.*``) with
     ``programFiles``; ADP containers (CVE Program, CISA-ADP).
   * ``osv/<ECOSYSTEM>/all.zip`` (+ ``modified_id.csv``, ``ecosystems.txt``): Debian, Ubuntu, Alpine,
     Linux (Kernel) and OSS-Fuzz records, about 0.4 per NVD record, with ECOSYSTEM and GIT ranges.
   * ``kev/known_exploited_vulnerabilities.json`` (CISA KEV, ~1,500 entries) and
     ``epss/epss_scores-YYYY-MM-DD.csv.gz`` (one score per published CVE; a plain ``.csv`` copy too).
   * ``manifests/``: Vigiles manifests (Yocto flavour, manifest_version 1.19) of 500 and 5,000 packages
     and a kernel-only one (linux-yocto 6.6.21 with ~300 ``patched_cves``). The images hold the named embedded
     packages, then products drawn with a weight growing with their CVE count, then packages without CVEs.

2. Imports it with ``timesys-ci service import-vulns`` as a subprocess into a new data directory:
   wall time and peak RSS (``os.wait4``), then the size of the data directory. Each data format is first
   offered to ``import-vulns`` as a tiny probe file of the same shape; a format it refuses is skipped with a
   printed note (today ``import-vulns`` reads NVD only; CVE JSON 5 and OSV arrive with the vulndb rework).
3. Starts ``timesys-ci service start`` as a subprocess on the imported data, adds a user with
   ``service add-user``, and uploads each manifest ``--repeat`` times with the ``timesys`` client over
   HTTP (upload + scan is one request): median/min/max seconds, and the service's RSS (``/proc``) after
   each scan and its peak (VmHWM). The service is restarted for each manifest so each peak is its own.
   A summary of each report (CVE ids, categories, counts) is written next to the results, so a later
   run can be compared with this one for identical verdicts (``--compare DIR``).

Run (from the repository root, with the ``service`` extra installed)::

    python3 benchmarks/bench_vulndb_scale.py                      # full size (~20-60 min on this machine)
    python3 benchmarks/bench_vulndb_scale.py --scale 0.05         # a quick run (a minute or two)
    python3 benchmarks/bench_vulndb_scale.py --cache /var/tmp/vulndb-scale --repeat 3 --json-out r.json
    python3 benchmarks/bench_vulndb_scale.py --reuse-db           # skip the import, scan the cached db again
    python3 benchmarks/bench_vulndb_scale.py --generate-only      # only write (or verify) the data set

Nothing here asserts a time; it is a measurement, not a test, and never runs in CI.

Figures measured on this machine (2 cores shared with other jobs, load 5-7; Python 3.11)
-------------------------------------------------------------------------------------
BEFORE the store redesign, 2026-12-01, ``python3 benchmarks/bench_vulndb_scale.py --repeat 3`` (seed 10, scale 1):

* data set (generated in 345 s): 260,002 NVD records (7,705 Rejected) in 25 yearly feeds, 1,181,889 ``cpeMatch``
  entries (413,201 with version bounds) over 20,000 products; linux_kernel 15,991 CVEs, 5,986 of them holding
  6.6.21 by their NVD ranges; CVE JSON 5: 260,002 records, 144,557 with CNA versions (20,900 of those without NVD
  configurations), 11,194 kernel records with ``programFiles``; OSV: 99,369 records (Debian 41,600, Ubuntu 34,315,
  Alpine 10,910, Linux 9,399, OSS-Fuzz 3,145); KEV 1,500; EPSS 252,297.
* import (NVD + KEV + EPSS; CVE JSON 5 and OSV skipped, not accepted by ``import-vulns`` yet): 132.4 s,
  peak RSS 1,158 MB, data directory 868 MB.
* upload + scan, median of 3 (min-max), findings, service RSS after each scan and peak:

  ====================  ======================  ========  ==========================  =========
  manifest              seconds                 findings  RSS after scans 1, 2, 3     peak RSS
  ====================  ======================  ========  ==========================  =========
  500 packages          12.64 (12.11-12.70)     19,854    416, 506, 598 MB            645 MB
  5,000 packages        44.27 (41.01-50.20)     59,673    1,121, 1,320, 1,459 MB      1,459 MB
  kernel 6.6.21 only    3.85 (3.65-4.77)        6,172     165, 250, 332 MB            376 MB
  ====================  ======================  ========  ==========================  =========

  The machine is noisy: a scan-only rerun (``--reuse-db --repeat 5``) half an hour later took 48-101 s for the
  500 packages. The report digests were identical in every run.
* service memory grows with each scan until each of waitress's 8 worker threads has run one, then stays: the
  Python heap does not grow (tracemalloc: 7.3 MB after scan 1 and after scan 10); each thread's own glibc malloc
  arena keeps the freed peak of its scans, and each thread has its own SQLite connection and page cache (at
  scale 0.05: 82 -> 160 MB over 8 scans, flat at 85 MB with one worker thread, 77 -> 90 MB with
  ``MALLOC_ARENA_MAX=1`` and a small SQLite cache).

AFTER the store redesign (schema 3: prepared spans, fastmatch; scans on one scan thread with malloc_trim),
2026-12-02, scan figures only, on the data imported earlier (import then: 424.5 s, peak RSS 543 MB, data
directory 823 MB, NVD + CVE JSON 5 + OSV + KEV + EPSS)::

    python3 benchmarks/bench_vulndb_scale.py --cache /work/bench-cache --reuse-db --run-name run-scale2 \
        --repeat 3 --compare /work/bench-cache/main-full-ref

  ====================  ======================  ========  ==========================  =========
  manifest              seconds                 findings  RSS after scans 1, 2, 3     peak RSS
  ====================  ======================  ========  ==========================  =========
  500 packages          4.53 (4.15-19.10)       21,876    181, 187, 191 MB            269 MB
  5,000 packages        11.39 (9.85-44.34)      65,349    336, 359, 360 MB            529 MB
  kernel 6.6.21 only    2.11 (1.99-2.27)        6,859     122, 125, 127 MB            178 MB
  ====================  ======================  ========  ==========================  =========

  The first upload of each manifest ran on a cold page cache (the file had just been rebuilt for schema 3);
  load 5-7. Reports identical to the reference run of main (same CVEs, categories, counts). Still short of the
  targets (2 s / 0.5 s / 1 s, 400 MB peak): the scan itself, not memory growth, is what remains.
"""
from __future__ import annotations

import argparse
import bisect
import datetime as dt
import gzip
import hashlib
import io
import json
import math
import os
import random
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
CODE = ROOT  # the source tree measured (--code): this one, or another checkout for a before/after pair

GENERATOR_VERSION = "2"
FULL_RECORDS = 260_000
FULL_PRODUCTS = 20_000
FULL_KERNEL = 16_500
FULL_KEV = 1_500
REJECTED_SHARE = 0.03
TODAY = dt.date(2026, 3, 1)  # the data set's "now": fixed, so the output does not depend on the clock
# Thousands of CVEs in each NVD yearly feed (2002 holds 1999-2002), roughly NVD's own history.
YEAR_WEIGHTS = {2002: 6.7, 2003: 1.5, 2004: 2.7, 2005: 4.7, 2006: 7.0, 2007: 6.5, 2008: 7.0, 2009: 5.0,
                2010: 5.1, 2011: 4.6, 2012: 5.8, 2013: 6.6, 2014: 8.9, 2015: 8.5, 2016: 10.4, 2017: 18.1,
                2018: 18.1, 2019: 17.3, 2020: 18.9, 2021: 21.0, 2022: 25.1, 2023: 29.1, 2024: 40.0,
                2025: 45.0, 2026: 8.0}
# Share of each year's records NVD has not analysed yet (no configurations).
BACKLOG = {2024: 0.30, 2025: 0.40, 2026: 0.60}
KERNEL_CNA = "416baaa9-dc9f-4396-8d5f-8c081fb06d67"
MITRE = "8254265b-2729-46b6-b9e3-3dfca2d5bfca"
CVE_PROGRAM = "af854a3a-2127-422b-91ae-364da2661108"
CISA_ADP = "134c704f-9b21-4f2e-91b3-4a467353bcc0"
MANIFEST_SIZES = (500, 5000)

# (vendor, product, CVEs at full size, release style, Yocto recipe name, Debian source package)
NAMED_PRODUCTS: List[Tuple[str, str, int, str, str, Optional[str]]] = [
    ("openssl", "openssl", 280, "openssl", "openssl", "openssl"),
    ("busybox", "busybox", 70, "busybox", "busybox", "busybox"),
    ("gnu", "glibc", 160, "glibc", "glibc", "glibc"),
    ("haxx", "curl", 170, "semver", "curl", "curl"),
    ("zlib", "zlib", 12, "semver", "zlib", "zlib"),
    ("systemd_project", "systemd", 70, "integer", "systemd", "systemd"),
    ("gnu", "bash", 25, "two", "bash", "bash"),
    ("sqlite", "sqlite", 200, "semver", "sqlite3", "sqlite3"),
    ("xmlsoft", "libxml2", 120, "semver", "libxml2", "libxml2"),
    ("openbsd", "openssh", 130, "openssh", "openssh", "openssh"),
    ("dropbear_ssh_project", "dropbear_ssh", 20, "integer", "dropbear", "dropbear"),
    ("thekelleys", "dnsmasq", 30, "two", "dnsmasq", "dnsmasq"),
    ("gnu", "ncurses", 30, "two", "ncurses", "ncurses"),
    ("tukaani", "xz", 5, "semver", "xz", "xz-utils"),
    ("kernel", "util-linux", 20, "two", "util-linux", "util-linux"),
    ("e2fsprogs_project", "e2fsprogs", 10, "semver", "e2fsprogs", "e2fsprogs"),
    ("libexpat_project", "libexpat", 40, "semver", "expat", "expat"),
    ("freedesktop", "dbus", 30, "semver", "dbus", "dbus"),
    ("denx", "u-boot", 40, "date", "u-boot", "u-boot"),
    ("w1.fi", "wpa_supplicant", 40, "two", "wpa-supplicant", "wpa"),
    ("libjpeg-turbo", "libjpeg-turbo", 30, "semver", "libjpeg-turbo", "libjpeg-turbo"),
    ("libpng", "libpng", 60, "semver", "libpng", "libpng1.6"),
    ("python", "python", 200, "semver", "python3", "python3.11"),
    ("perl", "perl", 90, "semver", "perl", "perl"),
    ("gnu", "binutils", 150, "two", "binutils", "binutils"),
    ("gnu", "gnutls", 60, "semver", "gnutls", "gnutls28"),
    ("libarchive", "libarchive", 60, "semver", "libarchive", "libarchive"),
    ("gnu", "coreutils", 10, "two", "coreutils", "coreutils"),
    ("gnu", "tar", 12, "two", "tar", "tar"),
    ("gnu", "gzip", 5, "two", "gzip", "gzip"),
    ("bzip", "bzip2", 8, "semver", "bzip2", "bzip2"),
    ("openldap", "openldap", 40, "semver", "openldap", "openldap"),
    ("isc", "bind", 130, "semver", "bind", "bind9"),
    ("libssh", "libssh", 30, "semver", "libssh", "libssh"),
    ("libtiff", "libtiff", 150, "semver", "tiff", "tiff"),
    ("freetype", "freetype", 70, "semver", "freetype", "freetype"),
    ("gnome", "glib", 40, "semver", "glib-2.0", "glib2.0"),
    ("lighttpd", "lighttpd", 25, "semver", "lighttpd", "lighttpd1.4"),
    ("tcpdump", "tcpdump", 170, "semver", "tcpdump", "tcpdump"),
    ("samba", "samba", 180, "semver", "samba", "samba"),
]
KERNEL = ("linux", "linux_kernel")
# Stable branches: (base, release date, patch level reached per week, end of life)
KERNEL_BRANCHES = [
    ("4.19", dt.date(2018, 10, 22), 1.45, dt.date(2024, 12, 5)),
    ("5.4", dt.date(2019, 11, 24), 1.30, dt.date(2025, 12, 1)),
    ("5.10", dt.date(2020, 12, 13), 1.25, dt.date(2026, 12, 1)),
    ("5.15", dt.date(2021, 10, 31), 1.20, dt.date(2026, 12, 1)),
    ("6.1", dt.date(2022, 12, 11), 0.92, dt.date(2027, 12, 1)),
    ("6.6", dt.date(2023, 10, 30), 0.95, dt.date(2027, 12, 1)),
    ("6.12", dt.date(2024, 11, 17), 0.95, dt.date(2028, 12, 1)),
]
YOCTO_KERNEL = "6.6.21"
SYLLABLES = ("ab", "al", "am", "an", "ar", "as", "ba", "be", "bi", "bo", "ca", "ce", "ci", "co", "da", "de", "di",
             "do", "el", "en", "er", "es", "fa", "fe", "fi", "fo", "ga", "ge", "gi", "go", "ha", "he", "hi", "ho",
             "in", "is", "ka", "ke", "ki", "ko", "la", "le", "li", "lo", "ma", "me", "mi", "mo", "na", "ne", "ni",
             "no", "or", "pa", "pe", "pi", "po", "ra", "re", "ri", "ro", "sa", "se", "si", "so", "ta", "te", "ti",
             "to", "un", "va", "ve", "vi", "vo", "xa", "xe", "za", "ze", "zi", "zo")
SUFFIXES = ("", "", "", "", "d", "lib", "utils", "_server", "_client", "-core", "js", "db", "_manager", "kit")
CWES = ("CWE-787", "CWE-79", "CWE-89", "CWE-20", "CWE-125", "CWE-78", "CWE-416", "CWE-22", "CWE-352", "CWE-434",
        "CWE-476", "CWE-190", "CWE-119", "CWE-200", "CWE-400", "CWE-362", "CWE-401", "CWE-617", "NVD-CWE-Other",
        "NVD-CWE-noinfo")
WORDS = ("buffer", "overflow", "crafted", "input", "remote", "attacker", "denial", "service", "memory",
         "corruption", "function", "parser", "request", "header", "length", "validation", "pointer", "handling",
         "allows", "local", "users", "privileges", "arbitrary", "code", "execution", "via", "improper", "check",
         "sensitive", "information", "disclosure", "integer", "heap", "stack", "read", "write", "use-after-free",
         "race", "condition", "authentication", "bypass", "file", "path", "traversal", "configuration")
KERNEL_SUBSYSTEMS = ("net", "drm/amdgpu", "drm/i915", "wifi: mt76", "wifi: ath11k", "bpf", "ext4", "btrfs", "f2fs",
                     "nfsd", "usb: gadget", "scsi: ufs", "block", "mm", "sched", "netfilter", "io_uring", "tty",
                     "ALSA: hda", "media: uvcvideo", "iommu", "RDMA/mlx5", "net/mlx5", "smb: client", "xfs",
                     "bluetooth", "can: j1939", "tipc", "vsock", "crypto")
KERNEL_FILES = ("net/core/dev.c", "drivers/gpu/drm/amd/amdgpu/amdgpu_vm.c", "drivers/gpu/drm/i915/i915_gem.c",
                "drivers/net/wireless/mediatek/mt76/mac80211.c", "kernel/bpf/verifier.c", "fs/ext4/inode.c",
                "fs/btrfs/inode.c", "fs/f2fs/segment.c", "fs/nfsd/nfs4state.c", "drivers/usb/gadget/function/f_fs.c",
                "drivers/ufs/core/ufshcd.c", "block/blk-mq.c", "mm/memory.c", "kernel/sched/core.c",
                "net/netfilter/nf_tables_api.c", "io_uring/io_uring.c", "drivers/tty/serial/serial_core.c",
                "sound/pci/hda/patch_realtek.c", "drivers/media/usb/uvc/uvc_driver.c", "drivers/iommu/iommu.c",
                "drivers/infiniband/hw/mlx5/main.c", "drivers/net/ethernet/mellanox/mlx5/core/main.c",
                "fs/smb/client/connect.c", "fs/xfs/xfs_inode.c", "net/bluetooth/hci_event.c", "net/can/j1939/socket.c",
                "net/tipc/node.c", "net/vmw_vsock/af_vsock.c", "crypto/algapi.c")


# ---------------------------------------------------------------------------------------------------------------
# The catalog: every CVE and product, decided once; the feed writers only serialise it.

@dataclass
class Product:
    vendor: str
    name: str
    part: str  # a / o (firmware)
    releases: Tuple[str, ...]
    style: str
    recipe: Optional[str] = None  # Yocto recipe name (named products)
    debian: Optional[str] = None  # distro source package, when the distros ship it
    target_sw: str = "*"
    hardware: Optional[str] = None  # firmware: the device it runs on (an AND configuration)
    cves: List[int] = field(default_factory=list)  # catalog indexes


@dataclass
class Range:
    start: Optional[str] = None
    start_excluding: bool = False
    end: Optional[str] = None
    end_including: bool = False
    exact: Optional[str] = None  # a criterion naming one version (no bounds); "*" = every version
    update: str = "*"


@dataclass
class Affect:
    product: int
    ranges: List[Range]


@dataclass
class Cve:
    id: str
    year: int
    published: dt.datetime
    modified: dt.datetime
    status: str  # NVD vulnStatus
    affects: List[Affect]
    cvss: Tuple[float, str, str]  # score, vector, severity
    cwe: str
    seed: int
    kernel: Optional[Dict[str, Any]] = None
    kev: bool = False

    @property
    def analysed(self) -> bool:
        return self.status in ("Analyzed", "Modified")


def _rng(seed: int, *parts: Any) -> random.Random:
    return random.Random(":".join([str(seed), *map(str, parts)]))


def _releases(rng: random.Random, style: str) -> Tuple[str, ...]:
    versions: List[str] = []
    if style == "openssl":
        for base, letters in (("0.9.6", 13), ("0.9.7", 12), ("0.9.8", 26 + 8), ("1.0.0", 20), ("1.0.1", 21),
                              ("1.0.2", 26 + 11), ("1.1.0", 12), ("1.1.1", 23)):
            versions.append(base)
            for n in range(letters):
                versions.append(base + ("z" + "abcdefghijklmnopqrstuvwxyz"[n - 25] if n >= 25 else
                                        "abcdefghijklmnopqrstuvwxyz"[n]))
        for minor, patches in ((0, 16), (1, 8), (2, 4), (3, 3), (4, 2), (5, 1)):
            versions += [f"3.{minor}.{p}" for p in range(patches)]
        return tuple(versions)
    if style == "busybox":
        return tuple(f"1.{minor}.{p}" for minor in range(0, 38) for p in range(0, 4 if minor > 10 else 2))
    if style == "glibc":
        return tuple(f"2.{minor}" for minor in range(0, 42))
    if style == "openssh":
        return tuple(f"{major}.{minor}" for major in range(3, 10) for minor in range(0, 10)) + ("10.0",)
    if style == "integer":
        start = rng.randint(1, 200)
        return tuple(str(n) for n in range(start, start + rng.randint(20, 60)))
    if style == "date":
        return tuple(f"{year}.{month:02d}" for year in range(2010, 2026) for month in (1, 4, 7, 10))
    first = rng.choice((0, 0, 1, 1, 1, 2, 3, 4, 5, 7, 9))
    for major in range(first, first + rng.randint(1, 3)):
        for minor in range(rng.randint(1, 9)):
            if style == "two":
                versions.append(f"{major}.{minor}")
            else:
                versions += [f"{major}.{minor}.{patch}" for patch in range(rng.randint(1, 7))]
    return tuple(versions)


def _kernel_releases() -> Tuple[str, ...]:
    mainline = [f"2.6.{n}" for n in range(0, 40)] + [f"3.{n}" for n in range(0, 20)] + \
        [f"4.{n}" for n in range(0, 21)] + [f"5.{n}" for n in range(0, 20)] + [f"6.{n}" for n in range(0, 19)]
    return tuple(mainline)


def _version_key(text: str) -> Tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _kernel_level(branch: Tuple[str, dt.date, float, dt.date], when: dt.date) -> int:
    _, released, rate, _ = branch
    return max(1, int((when - released).days / 7 * rate))


def _name(rng: random.Random, taken: set) -> str:
    while True:
        text = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        if rng.random() < 0.2:
            text = "lib" + text
        text += rng.choice(SUFFIXES)
        if text not in taken:
            taken.add(text)
            return text


@dataclass
class Catalog:
    products: List[Product]
    cves: List[Cve]
    kernel: int  # product index of linux_kernel


def build_catalog(seed: int, scale: float) -> Catalog:
    rng = _rng(seed, "products")
    taken: set = {name for _, name, *_ in NAMED_PRODUCTS} | {KERNEL[1]}
    vendors = [_name(rng, taken) for _ in range(max(50, int(6000 * scale)))]
    products: List[Product] = []
    for vendor, name, _, style, recipe, debian in NAMED_PRODUCTS:
        products.append(Product(vendor, name, "a", _releases(rng, style), style, recipe=recipe, debian=debian))
    products.append(Product(KERNEL[0], KERNEL[1], "o", _kernel_releases(), "kernel", recipe="linux-yocto",
                            debian="linux"))
    kernel_index = len(products) - 1
    n_products = max(len(products) + 200, int(FULL_PRODUCTS * scale))
    while len(products) < n_products:
        name = _name(rng, taken)
        roll = rng.random()
        style = rng.choice(("semver", "semver", "semver", "two", "integer"))
        product = Product(name if rng.random() < 0.5 else rng.choice(vendors), name, "a", _releases(rng, style), style)
        if roll < 0.10:  # IoT firmware: runs on one device model
            product.name = name + "_firmware"
            product.part = "o"
            product.hardware = name
            product.releases = _releases(rng, "two")
        elif roll < 0.17:
            product.target_sw = "wordpress"
        elif rng.random() < 0.2:
            product.debian = name  # shipped by the distributions
        products.append(product)

    # How many CVEs each feed year holds, and who gets them.
    total = int(FULL_RECORDS * scale)
    weight_sum = sum(YEAR_WEIGHTS.values())
    per_year = {year: max(20, round(total * weight / weight_sum)) for year, weight in YEAR_WEIGHTS.items()}
    kernel_total = int(FULL_KERNEL * scale)
    kernel_per_year = _kernel_share(per_year, kernel_total)
    named_weights = {index: count * scale for index, (_, _, count, *_) in enumerate(NAMED_PRODUCTS)}
    others = list(range(kernel_index + 1, len(products)))
    # Zipf over the other products (rank 1 ~ a few thousand CVEs at full size, the tail 1-3).
    other_weights = [1.0 / (rank + 8) ** 1.05 for rank in range(len(others))]
    other_cumulative = _cumulative(other_weights)
    named_budget = sum(named_weights.values())
    cves: List[Cve] = []
    for year in sorted(per_year):
        yrng = _rng(seed, "cves", year)
        count = per_year[year]
        kernel_ids = set(yrng.sample(range(count), kernel_per_year[year]))
        named_share = named_budget / max(1, total - kernel_total)
        number = 0
        for position in range(count):
            number += yrng.randint(1, 3)
            id_year = year if year != 2002 else yrng.choice((1999, 2000, 2001, 2002))
            cve_id = f"CVE-{id_year}-{number:04d}"
            published = _when(yrng, year)
            modified = min(published + dt.timedelta(days=yrng.randint(0, 900)), _dt(TODAY))
            status = "Rejected" if yrng.random() < REJECTED_SHARE else (
                yrng.choice(("Awaiting Analysis", "Received", "Undergoing Analysis"))
                if yrng.random() < BACKLOG.get(year, 0.01) else yrng.choice(("Analyzed", "Analyzed", "Modified")))
            cve = Cve(cve_id, id_year, published, modified, status, [], _cvss(yrng, year), yrng.choice(CWES),
                      yrng.getrandbits(32))
            if position in kernel_ids:
                if status not in ("Analyzed", "Modified", "Rejected") and yrng.random() < 0.75:
                    cve.status = "Analyzed"  # NVD has kept up with most kernel CVEs
                cve.affects, cve.kernel = _kernel_affects(yrng, kernel_index, products[kernel_index], published)
            else:
                if yrng.random() < named_share:
                    index = yrng.choices(list(named_weights), weights=list(named_weights.values()))[0]
                else:
                    index = others[bisect.bisect_left(other_cumulative, yrng.random() * other_cumulative[-1])]
                cve.affects = [_generic_affect(yrng, index, products[index])]
                if yrng.random() < 0.12:  # the same flaw in a second (bundling or forked) product
                    extra = others[bisect.bisect_left(other_cumulative, yrng.random() * other_cumulative[-1])]
                    if extra != index:
                        cve.affects.append(_generic_affect(yrng, extra, products[extra]))
            cves.append(cve)
    for position, cve in enumerate(cves):
        if cve.status != "Rejected":
            for affect in cve.affects:
                products[affect.product].cves.append(position)
    krng = _rng(seed, "kev")
    kev_wanted = max(5, int(FULL_KEV * scale))
    candidates = [i for i, cve in enumerate(cves) if cve.status != "Rejected" and cve.year >= 2010]
    for index in krng.sample(candidates, min(kev_wanted, len(candidates))):
        cves[index].kev = True
    return Catalog(products, cves, kernel_index)


def _kernel_share(per_year: Dict[int, int], kernel_total: int) -> Dict[int, int]:
    """Kernel CVEs per year: a trickle before 2024, then the kernel CNA's flood."""
    weights = {year: (0.25 if year < 2017 else 0.6 if year < 2024 else 0.0) for year in per_year}
    weights.update({2024: 0.0, 2025: 0.0, 2026: 0.0})
    early = int(kernel_total * 0.30)
    early_weight = sum(weights.values())
    shares = {year: int(early * weight / early_weight) for year, weight in weights.items()}
    late = kernel_total - sum(shares.values())
    for year, part in ((2024, 0.47), (2025, 0.45), (2026, 0.08)):
        shares[year] = int(late * part)
    return {year: min(shares[year], per_year[year] // 2) for year in per_year}


def _cumulative(weights: Sequence[float]) -> List[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _dt(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def _when(rng: random.Random, year: int) -> dt.datetime:
    start = dt.datetime(year, 1, 1)
    days = 365 if year != TODAY.year else (TODAY - dt.date(year, 1, 1)).days
    return start + dt.timedelta(days=rng.randint(0, max(0, days - 1)), seconds=rng.randint(0, 86399),
                                milliseconds=rng.randint(0, 999))


_AV = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC = {"L": 0.77, "H": 0.44}
_UI = {"N": 0.85, "R": 0.62}
_CIA = {"H": 0.56, "L": 0.22, "N": 0.0}


def _cvss(rng: random.Random, year: int) -> Tuple[float, str, str]:
    """A CVSS 3.1 vector and its real base score (FIRST's formula)."""
    av, ac, ui = rng.choice("NNNNALLP"), rng.choice("LLLH"), rng.choice("NNR")
    pr, scope = rng.choice("NNLH"), rng.choice("UUUUC")
    c, i, a = rng.choice("HHLN"), rng.choice("HHLN"), rng.choice("HHHLN")
    pr_value = {"N": 0.85, "L": 0.62 if scope == "U" else 0.68, "H": 0.27 if scope == "U" else 0.5}[pr]
    iss = 1 - (1 - _CIA[c]) * (1 - _CIA[i]) * (1 - _CIA[a])
    impact = 6.42 * iss if scope == "U" else 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    exploitability = 8.22 * _AV[av] * _AC[ac] * pr_value * _UI[ui]
    if impact <= 0:
        score = 0.0
    elif scope == "U":
        score = _roundup(min(impact + exploitability, 10))
    else:
        score = _roundup(min(1.08 * (impact + exploitability), 10))
    if score == 0.0:
        c, score = "L", 3.3
    severity = "CRITICAL" if score >= 9 else "HIGH" if score >= 7 else "MEDIUM" if score >= 4 else "LOW"
    vector = f"CVSS:3.1/AV:{av}/AC:{ac}/PR:{pr}/UI:{ui}/S:{scope}/C:{c}/I:{i}/A:{a}"
    return score, vector, severity


def _roundup(value: float) -> float:
    scaled = round(value * 100000)
    return scaled / 100000.0 if scaled % 10000 == 0 else (math.floor(scaled / 10000) + 1) / 10.0


def _generic_affect(rng: random.Random, index: int, product: Product) -> Affect:
    releases = product.releases
    n = len(releases)
    roll = rng.random()
    ranges: List[Range] = []
    if n < 3 or roll < 0.04:
        ranges.append(Range(exact=rng.choice(releases) if n and rng.random() < 0.5 else "*"))
    elif roll < 0.32:  # everything before the fix
        fix = rng.randint(1, n - 1)
        start = releases[rng.randint(0, fix - 1)] if rng.random() < 0.35 else None
        ranges.append(Range(start=start, end=releases[fix]))
    elif roll < 0.42:  # up to and including the last affected release
        last = rng.randint(0, n - 2)
        ranges.append(Range(end=releases[last], end_including=True))
    elif roll < 0.78:  # fixed on several maintained branches
        points = sorted(rng.sample(range(n), min(n, rng.randint(2, 5) * 2)))
        for low, high in zip(points[0::2], points[1::2]):
            ranges.append(Range(start=releases[low], end=releases[high]))
    else:  # the old style: each affected release listed
        last = rng.randint(0, n - 1)
        first = max(0, last - rng.randint(1, 45))
        ranges += [Range(exact=version) for version in releases[first:last + 1]]
    return Affect(index, ranges)


def _kernel_affects(rng: random.Random, index: int, product: Product,
                    published: dt.datetime) -> Tuple[List[Affect], Dict[str, Any]]:
    mainline = product.releases
    when = published.date()
    files = sorted(set(rng.sample(KERNEL_FILES, rng.randint(1, 3))))
    facts: Dict[str, Any] = {"files": files, "subsystem": rng.choice(KERNEL_SUBSYSTEMS), "branches": []}
    if published.year < 2024:  # before the kernel CNA: few ranges, or listed versions
        if published.year < 2012 or rng.random() < 0.25:
            last = rng.randint(5, 38)
            first = max(0, last - rng.randint(1, 40))
            ranges = [Range(exact=version) for version in mainline[first:last + 1]]
        else:
            fixed_at = mainline.index("3.0") + rng.randint(0, len(mainline) - mainline.index("3.0") - 30)
            ranges = [Range(end=mainline[fixed_at])]
            if rng.random() < 0.4:
                ranges[0].start = mainline[max(0, fixed_at - rng.randint(3, 30))]
        facts["mainline_fix"] = None
        return [Affect(index, ranges)], facts
    # Kernel CNA era: fixed in mainline M, back-ported to every maintained branch it affects.
    months = (when.year - 2024) * 12 + when.month - 2
    fix = mainline.index("6.8") + max(0, min(10, months // 2))
    fix_version = mainline[min(fix, len(mainline) - 1)]
    if rng.random() < 0.22:
        introduced = "2.6.12"  # "since the beginning of git"
    else:
        span = mainline.index(fix_version)  # skewed towards recent releases, as kernel regressions are
        introduced = mainline[min(span - 1, int(span * (1 - rng.random() ** 2.2)))]
    ranges: List[Range] = []
    for branch in KERNEL_BRANCHES:
        base = branch[0]
        if _version_key(base) >= _version_key(fix_version) or when > branch[3] or when < branch[1]:
            continue
        if _version_key(introduced) > _version_key(base) and not introduced.startswith(base + "."):
            continue
        if rng.random() < 0.14:
            continue  # not back-ported to this branch
        level = max(1, _kernel_level(branch, when) + rng.randint(-3, 2))
        start = introduced if _version_key(introduced) > _version_key(base) else base
        if not ranges and _version_key(introduced) < _version_key(base):
            start = introduced
        ranges.append(Range(start=start, end=f"{base}.{level}"))
        facts["branches"].append((base, f"{base}.{level}"))
    latest = max((b[0] for b in KERNEL_BRANCHES if _version_key(b[0]) < _version_key(fix_version)),
                 key=_version_key, default=None)
    after = mainline[mainline.index(latest) + 1] if latest in mainline else introduced
    if _version_key(after) < _version_key(fix_version):
        ranges.append(Range(start=after if _version_key(after) > _version_key(introduced) else introduced,
                            end=fix_version))
    ranges += [Range(exact=fix_version, update=f"rc{n}") for n in range(1, rng.randint(2, 8))]
    facts.update(introduced=introduced, mainline_fix=fix_version)
    return [Affect(index, ranges)], facts


# ---------------------------------------------------------------------------------------------------------------
# NVD CVE API 2.0 yearly feeds

def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper()


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _description(rng: random.Random, cve: Cve, catalog: Catalog) -> str:
    if cve.kernel is not None and cve.year >= 2024:
        lines = [f"    {_sentence(rng, rng.randint(8, 14))}" for _ in range(rng.randint(3, 25))]
        return ("In the Linux kernel, the following vulnerability has been resolved:\n\n"
                f"{cve.kernel['subsystem']}: fix {_sentence(rng, 5)}\n\n" + "\n".join(lines))
    product = catalog.products[cve.affects[0].product] if cve.affects else None
    name = product.name if product else "the product"
    text = f"A {rng.choice(WORDS)} issue in {name} allows {_sentence(rng, rng.randint(10, 30))}."
    return text + "".join(f" {_sentence(rng, rng.randint(8, 20)).capitalize()}." for _ in range(rng.randint(0, 4)))


def _criteria(product: Product, version: str = "*", update: str = "*", part: Optional[str] = None) -> str:
    return (f"cpe:2.3:{part or product.part}:{product.vendor}:{product.name}:{version}:{update}:*:*:*:"
            f"{product.target_sw}:*:*")


def _cpe_matches(rng: random.Random, catalog: Catalog, affect: Affect) -> List[Dict[str, Any]]:
    product = catalog.products[affect.product]
    matches = []
    for item in affect.ranges:
        if item.exact is not None:
            match: Dict[str, Any] = {"vulnerable": True, "criteria": _criteria(product, item.exact, item.update)}
        else:
            match = {"vulnerable": True, "criteria": _criteria(product)}
            if item.start is not None:
                match["versionStartExcluding" if item.start_excluding else "versionStartIncluding"] = item.start
            if item.end is not None:
                match["versionEndIncluding" if item.end_including else "versionEndExcluding"] = item.end
        match["matchCriteriaId"] = _uuid(rng)
        matches.append(match)
    return matches


def nvd_record(cve: Cve, catalog: Catalog) -> Dict[str, Any]:
    rng = random.Random(cve.seed)
    kernel_era = cve.kernel is not None and cve.year >= 2024
    record: Dict[str, Any] = {
        "id": cve.id,
        "sourceIdentifier": _source(rng, cve, catalog, kernel_era),
        "published": _stamp(cve.published),
        "lastModified": _stamp(cve.modified),
        "vulnStatus": cve.status,
        "cveTags": [],
    }
    if cve.status == "Rejected":
        record["descriptions"] = [{"lang": "en", "value": "Rejected reason: This CVE ID has been rejected or "
                                   "withdrawn by its CVE Numbering Authority."}]
        record["metrics"] = {}
        record["references"] = []
        return record
    record["descriptions"] = [{"lang": "en", "value": _description(rng, cve, catalog)}]
    if cve.year >= 2022 and rng.random() < 0.3:
        record["descriptions"].append({"lang": "es", "value": _sentence(rng, rng.randint(20, 40))})
    score, vector, severity = cve.cvss
    metrics: Dict[str, Any] = {}
    if cve.year >= 2016 and (cve.analysed or rng.random() < 0.5):
        parts = dict(part.split(":") for part in vector.split("/")[1:])
        names = {"N": "NETWORK", "A": "ADJACENT_NETWORK", "L": "LOCAL", "P": "PHYSICAL"}
        level = {"H": "HIGH", "L": "LOW", "N": "NONE", "R": "REQUIRED", "U": "UNCHANGED", "C": "CHANGED"}
        data = {"version": "3.1", "vectorString": vector, "baseScore": score, "baseSeverity": severity,
                "attackVector": names[parts["AV"]], "attackComplexity": level[parts["AC"]],
                "privilegesRequired": level[parts["PR"]], "userInteraction": level[parts["UI"]],
                "scope": level[parts["S"]], "confidentialityImpact": level[parts["C"]],
                "integrityImpact": level[parts["I"]], "availabilityImpact": level[parts["A"]]}
        entries = []
        if cve.analysed:
            entries.append({"source": "nvd@nist.gov", "type": "Primary", "cvssData": data,
                            "exploitabilityScore": round(rng.uniform(1.0, 3.9), 1),
                            "impactScore": round(rng.uniform(1.4, 6.0), 1)})
        if rng.random() < 0.5 or not entries:
            entries.append({"source": record["sourceIdentifier"], "type": "Secondary", "cvssData": dict(data),
                            "exploitabilityScore": 3.9, "impactScore": 3.6})
        metrics["cvssMetricV31"] = entries
    if cve.year < 2023 and cve.analysed:
        v2 = round(min(10.0, max(1.9, score - rng.uniform(0, 1.5))), 1)
        metrics["cvssMetricV2"] = [{"source": "nvd@nist.gov", "type": "Primary", "cvssData": {
            "version": "2.0", "vectorString": "AV:N/AC:L/Au:N/C:P/I:P/A:P", "baseScore": v2,
            "accessVector": "NETWORK", "accessComplexity": "LOW", "authentication": "NONE",
            "confidentialityImpact": "PARTIAL", "integrityImpact": "PARTIAL", "availabilityImpact": "PARTIAL"},
            "baseSeverity": "HIGH" if v2 >= 7 else "MEDIUM" if v2 >= 4 else "LOW", "exploitabilityScore": 10.0,
            "impactScore": 6.4, "acInsufInfo": False, "obtainAllPrivilege": False, "obtainUserPrivilege": False,
            "obtainOtherPrivilege": False, "userInteractionRequired": False}]
    record["metrics"] = metrics
    if cve.kev:
        record.update(cisaExploitAdd=cve.published.strftime("%Y-%m-%d"), cisaActionDue=(
            cve.published + dt.timedelta(days=21)).strftime("%Y-%m-%d"),
            cisaRequiredAction="Apply mitigations per vendor instructions or discontinue use of the product if "
                               "mitigations are unavailable.", cisaVulnerabilityName=f"{cve.id} vulnerability")
    if cve.analysed:
        record["weaknesses"] = [{"source": "nvd@nist.gov", "type": "Primary",
                                 "description": [{"lang": "en", "value": cve.cwe}]}]
        configurations = []
        for affect in cve.affects:
            product = catalog.products[affect.product]
            node = {"operator": "OR", "negate": False, "cpeMatch": _cpe_matches(rng, catalog, affect)}
            if product.hardware is not None:  # firmware AND the device it runs on
                device = {"operator": "OR", "negate": False, "cpeMatch": [
                    {"vulnerable": False, "criteria": f"cpe:2.3:h:{product.vendor}:{product.hardware}"
                     f"{'' if n == 0 else '_' + 'abcdefgh'[n]}:-:*:*:*:*:*:*:*", "matchCriteriaId": _uuid(rng)}
                    for n in range(rng.randint(1, 4))]}
                configurations.append({"operator": "AND", "nodes": [node, device]})
            else:
                configurations.append({"nodes": [node]})
        record["configurations"] = configurations
    record["references"] = _references(rng, cve, catalog)
    return record


def _source(rng: random.Random, cve: Cve, catalog: Catalog, kernel_era: bool) -> str:
    """The CNA: MITRE for most old CVEs, vendor CNAs later, the kernel and OpenSSL CNAs for their own."""
    if kernel_era:
        return KERNEL_CNA
    if cve.affects and catalog.products[cve.affects[0].product].name == "openssl" and cve.year >= 2016:
        return "openssl-security@openssl.org"
    mitre = 0.85 if cve.year < 2016 else 0.6 if cve.year < 2021 else 0.25
    if rng.random() < mitre:
        return "cve@mitre.org"
    return rng.choice(("secalert@redhat.com", "security-advisories@github.com", "security@wordfence.com",
                       "cna@vuldb.com", "psirt@us.ibm.com"))


def _references(rng: random.Random, cve: Cve, catalog: Catalog) -> List[Dict[str, Any]]:
    if cve.kernel is not None and cve.year >= 2024:
        return [{"url": f"https://git.kernel.org/stable/c/{rng.getrandbits(160):040x}", "source": KERNEL_CNA,
                 **({"tags": ["Patch"]} if cve.analysed else {})} for _ in range(len(cve.kernel["branches"]) + 1)]
    product = catalog.products[cve.affects[0].product]
    tags = (["Vendor Advisory"], ["Patch", "Third Party Advisory"], ["Issue Tracking"], ["Mailing List"], [])
    return [{"url": f"https://{product.vendor}.example.org/security/{cve.id.lower()}/{n}",
             "source": "cve@mitre.org", "tags": list(rng.choice(tags))} for n in range(rng.randint(1, 8))]


def write_nvd(catalog: Catalog, out: Path) -> Dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    by_year: Dict[int, List[Cve]] = {}
    for cve in catalog.cves:
        by_year.setdefault(2002 if cve.year <= 2002 else cve.year, []).append(cve)
    stats = {"records": 0, "rejected": 0, "cpe_match": 0, "cpe_match_ranges": 0, "feeds": 0}
    for year, cves in sorted(by_year.items()):
        items = []
        for cve in cves:
            record = nvd_record(cve, catalog)
            stats["records"] += 1
            stats["rejected"] += cve.status == "Rejected"
            for config in record.get("configurations", []):
                for node in config["nodes"]:
                    for match in node["cpeMatch"]:
                        stats["cpe_match"] += 1
                        stats["cpe_match_ranges"] += any(key.startswith("version") for key in match)
            items.append({"cve": record})
        document = {"resultsPerPage": len(items), "startIndex": 0, "totalResults": len(items), "format": "NVD_CVE",
                    "version": "2.0", "timestamp": _stamp(_dt(TODAY)), "vulnerabilities": items}
        raw = json.dumps(document, separators=(",", ":")).encode("utf-8")
        packed = gzip.compress(raw, compresslevel=6, mtime=0)
        name = f"nvdcve-2.0-{year}"
        _atomic_write(out / f"{name}.json.gz", packed)
        meta = (f"lastModifiedDate:{TODAY.isoformat()}T03:00:01-05:00\r\nsize:{len(raw)}\r\nzipSize:{len(packed)}\r\n"
                f"gzSize:{len(packed)}\r\nsha256:{hashlib.sha256(raw).hexdigest().upper()}\r\n")
        _atomic_write(out / f"{name}.meta", meta.encode("ascii"))
        stats["feeds"] += 1
    return stats


# ---------------------------------------------------------------------------------------------------------------
# CVE List V5 (cvelistV5 baseline zip)

_CNA_NAMES = {"cve@mitre.org": ("mitre", MITRE), "secalert@redhat.com": ("redhat", "53f830b8-0a3f-465b-8143-3b8a9948e749"),
              "security-advisories@github.com": ("GitHub_M", "a0819718-46f1-4df5-94e2-005712e83aaa"),
              "security@wordfence.com": ("Wordfence", "b15e7b5b-3da4-40ae-a43c-f7aa60e62599"),
              "cna@vuldb.com": ("VulDB", "1af790b2-7ee1-4545-860a-a788eba489b5"),
              "psirt@us.ibm.com": ("ibm", "9a959283-ebb5-44b6-b705-dcc2bbced522"),
              "openssl-security@openssl.org": ("openssl", "3a12439a-ef3a-4c79-92e6-6081a721f1e5"),
              KERNEL_CNA: ("Linux", KERNEL_CNA)}


def cve5_record(cve: Cve, catalog: Catalog) -> Dict[str, Any]:
    rng = random.Random(cve.seed)
    nvd = nvd_record(cve, catalog)  # the same facts, in the other shape
    short, org = _CNA_NAMES[nvd["sourceIdentifier"]]
    reserved = cve.published - dt.timedelta(days=rng.randint(1, 120))
    meta: Dict[str, Any] = {"cveId": cve.id, "assignerOrgId": org, "state": "PUBLISHED", "assignerShortName": short,
                            "dateReserved": _stamp(reserved) + "Z", "datePublished": _stamp(cve.published) + "Z",
                            "dateUpdated": _stamp(cve.modified) + "Z"}
    provider = {"orgId": org, "shortName": short, "dateUpdated": _stamp(cve.modified) + "Z"}
    if cve.status == "Rejected":
        meta["state"] = "REJECTED"
        meta["dateRejected"] = meta.pop("datePublished")
        return {"dataType": "CVE_RECORD", "dataVersion": "5.1", "cveMetadata": meta, "containers": {"cna": {
            "providerMetadata": provider, "rejectedReasons": [{"lang": "en", "value": "DO NOT USE THIS CANDIDATE "
                                                               "NUMBER. Reason: This candidate was withdrawn."}]}}}
    cna: Dict[str, Any] = {"providerMetadata": provider, "descriptions": nvd["descriptions"][:1],
                           "affected": _cve5_affected(rng, cve, catalog, short),
                           "references": [{"url": ref["url"]} for ref in nvd["references"]]}
    if short != "mitre" or rng.random() < 0.3:
        cna["problemTypes"] = [{"descriptions": [{"type": "CWE", "cweId": cve.cwe, "lang": "en",
                                                  "description": f"{cve.cwe} {_sentence(rng, 3)}"}]}]
    if short not in ("mitre", "Linux") and cve.year >= 2018:
        score, vector, severity = cve.cvss
        cna["metrics"] = [{"format": "CVSS", "scenarios": [{"lang": "en", "value": "GENERAL"}],
                           "cvssV3_1": {"version": "3.1", "vectorString": vector, "baseScore": score,
                                        "baseSeverity": severity}}]
    if cve.kernel is not None and cve.year >= 2024:
        cna["title"] = cna["descriptions"][0]["value"].split("\n")[2][:120]
        cna["x_generator"] = {"engine": "bippy-1.2.0"}
        if "configurations" in nvd:
            cna["cpeApplicability"] = [{"nodes": config["nodes"]} for config in nvd["configurations"]]
    containers: Dict[str, Any] = {"cna": cna}
    adp = []
    if cve.year < 2023 or rng.random() < 0.3:
        adp.append({"providerMetadata": {"orgId": CVE_PROGRAM, "shortName": "CVE", "dateUpdated": meta["dateUpdated"]},
                    "title": "CVE Program Container",
                    "references": [{"url": ref["url"], "tags": ["x_transferred"]} for ref in nvd["references"][:3]]})
    if cve.year >= 2023 and rng.random() < 0.5:
        adp.append({"providerMetadata": {"orgId": CISA_ADP, "shortName": "CISA-ADP",
                                         "dateUpdated": meta["dateUpdated"]}, "title": "CISA ADP Vulnrichment",
                    "metrics": [{"other": {"type": "ssvc", "content": {
                        "timestamp": meta["dateUpdated"], "id": cve.id, "role": "CISA Coordinator", "version": "2.0.3",
                        "options": [{"Exploitation": "none"}, {"Automatable": rng.choice(("no", "yes"))},
                                    {"Technical Impact": rng.choice(("partial", "total"))}]}}}]})
    if adp:
        containers["adp"] = adp
    return {"dataType": "CVE_RECORD", "dataVersion": "5.1", "cveMetadata": meta, "containers": containers}


def _cve5_affected(rng: random.Random, cve: Cve, catalog: Catalog, cna: str) -> List[Dict[str, Any]]:
    if cve.kernel is not None and cve.year >= 2024:
        return _kernel_cve5_affected(rng, cve)
    if cna == "mitre" and (cve.year < 2021 or rng.random() < 0.6):
        return [{"vendor": "n/a", "product": "n/a", "versions": [{"version": "n/a", "status": "affected"}]}]
    affected = []
    for affect in cve.affects:
        product = catalog.products[affect.product]
        versions = []
        version_type = "custom" if product.style in ("openssl", "date", "integer") else "semver"
        for item in affect.ranges:
            if item.exact == "*":
                versions.append({"version": "0", "lessThan": "*", "status": "affected", "versionType": version_type})
            elif item.exact is not None:
                versions.append({"version": item.exact, "status": "affected"})
            elif item.end_including:
                versions.append({"version": item.start or "0", "lessThanOrEqual": item.end, "status": "affected",
                                 "versionType": version_type})
            else:
                versions.append({"version": item.start or "0", "lessThan": item.end, "status": "affected",
                                 "versionType": version_type})
        entry = {"vendor": product.vendor if cna != "openssl" else "OpenSSL",
                 "product": product.name if cna != "openssl" else "OpenSSL",
                 "defaultStatus": "unaffected", "versions": versions}
        if rng.random() < 0.2:
            entry["cpes"] = [_criteria(product)]
        affected.append(entry)
    return affected


def _kernel_cve5_affected(rng: random.Random, cve: Cve) -> List[Dict[str, Any]]:
    facts = cve.kernel or {}
    repo = "https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git"
    introduced_commit = f"{rng.getrandbits(160):040x}"
    git_versions = [{"version": introduced_commit, "lessThan": f"{rng.getrandbits(160):040x}", "status": "affected",
                     "versionType": "git"} for _ in range(len(facts.get("branches", [])) + 1)]
    introduced = facts.get("introduced") or "2.6.12"
    semver = [{"version": introduced, "status": "affected"},
              {"version": "0", "lessThan": introduced, "status": "unaffected", "versionType": "semver"}]
    semver += [{"version": fixed, "lessThanOrEqual": f"{base}.*", "status": "unaffected", "versionType": "semver"}
               for base, fixed in facts.get("branches", [])]
    if facts.get("mainline_fix"):
        semver.append({"version": facts["mainline_fix"], "lessThanOrEqual": "*", "status": "unaffected",
                       "versionType": "original_commit_for_fix"})
    common = {"product": "Linux", "vendor": "Linux", "repo": repo, "programFiles": facts.get("files", [])}
    return [dict(common, defaultStatus="unaffected", versions=git_versions),
            dict(common, defaultStatus="affected", versions=semver)]


def write_cve5(catalog: Catalog, out: Path) -> Dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    inner = out / "cves.zip.tmp"
    stats = {"records": 0, "rejected": 0, "with_versions": 0, "kernel_program_files": 0, "without_nvd_config": 0}
    with zipfile.ZipFile(inner, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for cve in catalog.cves:
            record = cve5_record(cve, catalog)
            number = int(cve.id.rsplit("-", 1)[1])
            info = zipfile.ZipInfo(f"cves/{cve.year}/{number // 1000}xxx/{cve.id}.json",
                                   date_time=cve.modified.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, json.dumps(record, indent=2))
            stats["records"] += 1
            stats["rejected"] += cve.status == "Rejected"
            affected = record["containers"]["cna"].get("affected", [])
            if any(version.get("version") != "n/a" for entry in affected for version in entry.get("versions", [])):
                stats["with_versions"] += 1
                stats["without_nvd_config"] += not cve.analysed
            stats["kernel_program_files"] += any("programFiles" in entry for entry in affected)
    name = f"{(TODAY - dt.timedelta(days=1)).isoformat()}_all_CVEs_at_midnight.zip.zip"
    outer = out / (name + ".tmp")
    with zipfile.ZipFile(outer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.write(inner, "cves.zip")
    inner.unlink()
    os.replace(outer, out / name)
    return stats


# ---------------------------------------------------------------------------------------------------------------
# OSV (per-ecosystem all.zip, as the exporter writes them)

DEBIAN_RELEASES = (("10", "deb10u"), ("11", "deb11u"), ("12", "deb12u"), ("13", ""))
UBUNTU_RELEASES = ("20.04:LTS", "22.04:LTS", "24.04:LTS", "Pro:18.04:LTS")
ALPINE_RELEASES = ("v3.18", "v3.19", "v3.20", "v3.21")


def osv_records(cve: Cve, catalog: Catalog) -> Iterator[Tuple[str, Dict[str, Any]]]:
    """(ecosystem directory, record) for each OSV record the distributions and OSS-Fuzz publish for `cve`."""
    if cve.status == "Rejected":
        return
    rng = random.Random(cve.seed ^ 0x5A5A5A)
    shipped = [catalog.products[a.product] for a in cve.affects if catalog.products[a.product].debian]
    modified = _stamp(cve.modified) + "Z"
    published = _stamp(cve.published) + "Z"
    details = _description(random.Random(cve.seed), cve, catalog)
    if shipped and cve.year >= 2005 and rng.random() < 0.75:
        product = shipped[0]
        affected = []
        for release, suffix in DEBIAN_RELEASES:
            if rng.random() < 0.3:
                continue
            fixed = rng.choice(product.releases) + ("-1" + (f"+{suffix}{rng.randint(1, 9)}" if suffix else ""))
            affected.append({"package": {"ecosystem": f"Debian:{release}", "name": product.debian},
                             "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
                             "versions": [], "database_specific": {"source": "https://storage.googleapis.com/"
                                                                              "debian-osv/debian-cve-osv/"
                                                                              f"DEBIAN-{cve.id}.json"}})
        if affected:
            yield "Debian", {"id": f"DEBIAN-{cve.id}", "summary": "", "details": details, "modified": modified,
                             "published": published, "upstream": [cve.id], "affected": affected,
                             "schema_version": "1.7.3"}
    if shipped and cve.year >= 2012 and rng.random() < 0.7:
        product = shipped[0]
        affected = []
        for release in UBUNTU_RELEASES:
            if rng.random() < 0.35:
                continue
            versions = [f"{version}-{n}ubuntu{m}" for version in product.releases[-rng.randint(1, 8):]
                        for n in range(1, 3) for m in range(1, rng.randint(2, 4))]
            affected.append({"package": {"ecosystem": f"Ubuntu:{release}", "name": product.debian,
                                         "purl": f"pkg:deb/ubuntu/{product.debian}@{versions[-1]}?arch=source"},
                             "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                             "versions": versions, "ecosystem_specific": {"binaries": [{product.debian: versions[-1]}]}})
        if affected:
            yield "Ubuntu", {"schema_version": "1.7.3", "id": f"UBUNTU-{cve.id}", "details": details, "aliases": [],
                             "upstream": [cve.id], "related": [], "severity": [
                                 {"type": "Ubuntu", "score": rng.choice(("low", "medium", "high"))}],
                             "published": published, "modified": modified, "affected": affected,
                             "references": [{"type": "REF", "url": f"https://ubuntu.com/security/{cve.id}"}]}
    if shipped and cve.year >= 2016 and cve.kernel is None and rng.random() < 0.35:
        product = shipped[0]
        fixed = rng.choice(product.releases) + f"-r{rng.randint(0, 3)}"
        yield "Alpine", {"id": f"ALPINE-{cve.id}", "modified": modified, "published": published,
                         "upstream": [cve.id], "details": details, "schema_version": "1.7.3", "affected": [
                             {"package": {"ecosystem": f"Alpine:{release}", "name": product.debian,
                                          "purl": f"pkg:apk/alpine/{product.debian}?arch=source"},
                              "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}
                             for release in ALPINE_RELEASES if rng.random() < 0.7] or [
                             {"package": {"ecosystem": "Alpine:v3.21", "name": product.debian},
                              "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]}
    if cve.kernel is not None and cve.year >= 2024 and cve.kernel.get("branches"):
        events: List[Dict[str, str]] = []
        for base, fixed in cve.kernel["branches"]:
            events += [{"introduced": cve.kernel["introduced"] if not events else base}, {"fixed": fixed}]
        git = [{"introduced": f"{rng.getrandbits(160):040x}"}, {"fixed": f"{rng.getrandbits(160):040x}"}]
        yield "Linux", {"id": cve.id, "modified": modified, "published": published, "details": details,
                        "schema_version": "1.7.3", "affected": [{
                            "package": {"ecosystem": "Linux", "name": "Kernel"},
                            "ranges": [{"type": "ECOSYSTEM", "events": events},
                                       {"type": "GIT", "repo": "https://git.kernel.org/pub/scm/linux/kernel/git/"
                                                               "stable/linux.git", "events": git}],
                            "database_specific": {"programFiles": cve.kernel["files"]}}]}
    if cve.year >= 2016 and cve.kernel is None and rng.random() < 0.02:
        product = catalog.products[cve.affects[0].product]
        tags = [f"v{version}" for version in product.releases[:rng.randint(1, len(product.releases))]][-30:]
        yield "OSS-Fuzz", {"id": f"OSV-{cve.year}-{rng.randint(1, 1500)}", "summary": f"Heap-buffer-overflow in "
                           f"{product.name}", "details": "OSS-Fuzz report: https://bugs.chromium.org/p/oss-fuzz/"
                           f"issues/detail?id={rng.randint(10000, 70000)}\n\nCrash type: Heap-buffer-overflow READ 1",
                           "modified": modified, "published": published, "aliases": [cve.id],
                           "schema_version": "1.7.3", "affected": [{
                               "package": {"name": product.name, "ecosystem": "OSS-Fuzz",
                                           "purl": f"pkg:generic/{product.name}"},
                               "ranges": [{"type": "GIT", "repo": f"https://github.com/{product.vendor}/{product.name}",
                                           "events": [{"introduced": f"{rng.getrandbits(160):040x}"},
                                                      {"fixed": f"{rng.getrandbits(160):040x}"}]}],
                               "versions": tags, "ecosystem_specific": {"severity": "HIGH"}}]}


def write_osv(catalog: Catalog, out: Path) -> Dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    archives: Dict[str, zipfile.ZipFile] = {}
    modified: Dict[str, List[Tuple[str, str]]] = {}
    stats: Dict[str, int] = {"records": 0}
    seen: set = set()
    try:
        for cve in catalog.cves:
            for ecosystem, record in osv_records(cve, catalog):
                if (ecosystem, record["id"]) in seen:
                    continue  # OSS-Fuzz ids are drawn at random: keep the first
                seen.add((ecosystem, record["id"]))
                if ecosystem not in archives:
                    (out / ecosystem).mkdir(exist_ok=True)
                    archives[ecosystem] = zipfile.ZipFile(out / ecosystem / "all.zip.tmp", "w",
                                                          compression=zipfile.ZIP_DEFLATED, compresslevel=6)
                info = zipfile.ZipInfo(f"{record['id']}.json", date_time=cve.modified.timetuple()[:6])
                info.compress_type = zipfile.ZIP_DEFLATED
                archives[ecosystem].writestr(info, json.dumps(record, indent=2))
                modified.setdefault(ecosystem, []).append((record["modified"], record["id"]))
                stats[ecosystem] = stats.get(ecosystem, 0) + 1
                stats["records"] += 1
    finally:
        for archive in archives.values():
            archive.close()
    for ecosystem in archives:
        os.replace(out / ecosystem / "all.zip.tmp", out / ecosystem / "all.zip")
        rows = sorted(modified[ecosystem], key=lambda row: (row[0], row[1]), reverse=True)
        _atomic_write(out / ecosystem / "modified_id.csv",
                      "".join(f"{when},{record_id}\n" for when, record_id in rows).encode())
    _atomic_write(out / "ecosystems.txt", "".join(f"{name}\n" for name in sorted(archives)).encode())
    return stats


# ---------------------------------------------------------------------------------------------------------------
# KEV, EPSS, manifests

def write_kev_epss(catalog: Catalog, out: Path, seed: int) -> Dict[str, int]:
    rng = _rng(seed, "kev-epss")
    entries = []
    for cve in catalog.cves:
        if not cve.kev:
            continue
        product = catalog.products[cve.affects[0].product]
        added = max(cve.published.date(), dt.date(2021, 11, 3))
        entries.append({"cveID": cve.id, "vendorProject": product.vendor.capitalize(),
                        "product": product.name.capitalize(), "vulnerabilityName": f"{product.name} vulnerability",
                        "dateAdded": added.isoformat(), "shortDescription": _sentence(rng, 25),
                        "requiredAction": "Apply mitigations per vendor instructions or discontinue use of the "
                                          "product if mitigations are unavailable.",
                        "dueDate": (added + dt.timedelta(days=21)).isoformat(),
                        "knownRansomwareCampaignUse": rng.choice(("Known", "Unknown", "Unknown")), "notes": "",
                        "cwes": [cve.cwe] if cve.cwe.startswith("CWE") else []})
    entries.sort(key=lambda entry: entry["dateAdded"], reverse=True)
    kev = {"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": TODAY.strftime("%Y.%m.%d"),
           "dateReleased": f"{TODAY.isoformat()}T14:01:50.6145Z", "count": len(entries), "vulnerabilities": entries}
    (out / "kev").mkdir(parents=True, exist_ok=True)
    _atomic_write(out / "kev" / "known_exploited_vulnerabilities.json", json.dumps(kev, indent=2).encode())
    lines = [f"#model_version:v2025.03.14,score_date:{TODAY.isoformat()}T00:00:00Z", "cve,epss,percentile"]
    published = [cve for cve in catalog.cves if cve.status != "Rejected"]
    scores = sorted((rng.random() ** 6, cve.id) for cve in published)
    for score, cve_id in sorted(scores, key=lambda item: item[1]):
        lines.append(f"{cve_id},{score:.5f},{bisect.bisect_left(scores, (score, cve_id)) / len(scores):.5f}")
    text = ("\n".join(lines) + "\n").encode()
    (out / "epss").mkdir(parents=True, exist_ok=True)
    _atomic_write(out / "epss" / f"epss_scores-{TODAY.isoformat()}.csv", text)
    _atomic_write(out / "epss" / f"epss_scores-{TODAY.isoformat()}.csv.gz", gzip.compress(text, mtime=0))
    return {"kev": len(entries), "epss": len(published)}


def _package(catalog: Catalog, rng: random.Random, product: Product, key: str, version: str,
             patched: Sequence[str]) -> Dict[str, Any]:
    vendor = product.vendor if rng.random() < 0.7 else "*"
    package: Dict[str, Any] = {
        "checksums": [{"algorithm": "SHA256", "checksum_value": f"{rng.getrandbits(256):064x}"}],
        "component_type": ["component"],
        "cpe_id": [f"cpe:2.3:{'a' if product.part == 'a' else 'o'}:{vendor}:{product.name}:{version}:*:*:*:*:*:*:*"],
        "cve_product": f"{product.vendor}:{product.name}" if vendor != "*" else product.name,
        "cve_version": version, "homepage": f"https://{product.vendor}.example.org/", "layer": "meta",
        "license": rng.choice(("MIT", "GPL-2.0-only", "LGPL-2.1-or-later", "BSD-3-Clause", "Apache-2.0")),
        "name": key, "package_supplier": "Organization: OpenEmbedded ()",
        "recipe": f"recipes-{rng.choice(('core', 'support', 'connectivity', 'extended'))}/{key}/{key}_{version}.bb",
        "summary": _sentence(rng, 6), "version": version,
    }
    if patched:
        package["patched_cves"] = {cve: [f"{cve}.patch"] for cve in sorted(patched)}
    return package


def _clean_package(rng: random.Random, key: str) -> Dict[str, Any]:
    version = f"{rng.randint(0, 9)}.{rng.randint(0, 30)}"
    return {"checksums": [], "component_type": ["component"], "cpe_id": [f"cpe:2.3:*:*:{key}:{version}:*:*:*:*:*:*:*"],
            "cve_product": key, "cve_version": version, "license": "MIT", "name": key,
            "package_supplier": "Organization: OpenEmbedded ()", "summary": _sentence(rng, 5), "version": version}


def _manifest(name: str, packages: Dict[str, Any]) -> str:
    return json.dumps({"date": f"{TODAY.isoformat()}T12:00:00+00:00", "distro": "scarthgap", "distro_version": "5.0.8",
                       "image": name, "layers": {}, "machine": "beaglebone-yocto", "manifest_name": name,
                       "manifest_version": "1.19", "packages": packages}, indent=2, sort_keys=True) + "\n"


def write_manifests(catalog: Catalog, out: Path, seed: int, sizes: Sequence[int]) -> Dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    stats = {}
    kernel = catalog.products[catalog.kernel]
    krng = _rng(seed, "manifest-kernel")
    kernel_patched = krng.sample([catalog.cves[i].id for i in kernel.cves], min(300, len(kernel.cves)))
    kernel_package = _package(catalog, krng, kernel, "linux-yocto", YOCTO_KERNEL, kernel_patched)
    kernel_package["cpe_id"] = [f"cpe:2.3:*:*:linux_kernel:{YOCTO_KERNEL}:*:*:*:*:*:*:*"]
    kernel_package["cve_product"] = "linux_kernel"
    _atomic_write(out / "kernel.vigiles.json", _manifest("kernel-only", {"linux-yocto": kernel_package}).encode())
    stats["kernel"] = 1
    with_cves = [index for index, product in enumerate(catalog.products)
                 if product.cves and index != catalog.kernel and product.recipe is None]
    for size in sizes:
        rng = _rng(seed, "manifest", size)
        packages: Dict[str, Any] = {"linux-yocto": kernel_package}
        for product in catalog.products:
            if product.recipe and product is not kernel and len(packages) < size:
                version = product.releases[rng.randint(len(product.releases) // 2, len(product.releases) - 1)]
                patched = rng.sample([catalog.cves[i].id for i in product.cves], min(len(product.cves), rng.randint(0, 6)))
                packages[product.recipe] = _package(catalog, rng, product, product.recipe, version, patched)
        wanted_cves = int(size * 0.6)
        # Widely used software is both more often shipped and more often reported: a product's chance to be
        # in the image grows with its CVE count (weight count**0.6, sampled without replacement the
        # Efraimidis-Spirakis way). At full size the 5,000-package image then holds ~180k candidate records.
        keys = sorted(((rng.random() ** (1.0 / len(catalog.products[index].cves) ** 0.6), index)
                       for index in with_cves),
                      reverse=True)
        chosen = [index for _, index in keys[:max(0, wanted_cves - len(packages))]]
        for index in chosen:
            product = catalog.products[index]
            version = product.releases[rng.randint(int(len(product.releases) * 0.4), len(product.releases) - 1)]
            patched = rng.sample([catalog.cves[i].id for i in product.cves], min(len(product.cves), rng.randint(0, 3))) \
                if rng.random() < 0.15 else []
            packages[product.name] = _package(catalog, rng, product, product.name, version, patched)
        taken = {product.name for product in catalog.products}
        while len(packages) < size:
            key = _name(rng, taken) + rng.choice(("", "-native", "-base", "-conf", "-tools"))
            packages[key] = _clean_package(rng, key)
        _atomic_write(out / f"packages-{size}.vigiles.json", _manifest(f"image-{size}", packages).encode())
        stats[f"packages-{size}"] = len(packages)
    return stats


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def probe_files(catalog: Catalog, out: Path) -> Dict[str, Path]:
    """A tiny file of each format, to ask `import-vulns` whether it reads that format at all."""
    out.mkdir(parents=True, exist_ok=True)
    sample = [cve for cve in catalog.cves if cve.analysed][:3] + [
        cve for cve in catalog.cves if cve.kernel is not None and cve.year >= 2024 and cve.kernel["branches"]][:5]
    small = Catalog(catalog.products, sample, catalog.kernel)
    write_nvd(small, out / "nvd")
    write_cve5(small, out / "cve5")
    write_osv(small, out / "osv")
    return {"nvd": next((out / "nvd").glob("*.json.gz")), "cve5": next((out / "cve5").glob("*.zip.zip")),
            "osv": next((out / "osv").glob("*/all.zip"))}


def generate(dataset: Path, seed: int, scale: float, formats: Sequence[str]) -> Dict[str, Any]:
    marker = dataset / "dataset.json"
    if marker.exists():
        info = json.loads(marker.read_text())
        if all(name in info["stats"] for name in formats):
            return info
    started = time.perf_counter()
    print(f"generating the data set in {dataset} (seed {seed}, scale {scale}) ...", flush=True)
    catalog = build_catalog(seed, scale)
    print(f"  catalog: {len(catalog.cves)} CVEs, {len(catalog.products)} products, "
          f"{len(catalog.products[catalog.kernel].cves)} linux_kernel CVEs ({time.perf_counter() - started:.0f} s)",
          flush=True)
    stats: Dict[str, Any] = {}
    writers = {"nvd": write_nvd, "cve5": write_cve5, "osv": write_osv}
    for name in formats:
        step = time.perf_counter()
        stats[name] = writers[name](catalog, dataset / name)
        print(f"  {name}: {stats[name]} ({time.perf_counter() - step:.0f} s)", flush=True)
    stats.update(write_kev_epss(catalog, dataset, seed))
    stats["manifests"] = write_manifests(catalog, dataset / "manifests", seed, MANIFEST_SIZES)
    stats["kernel_matching_yocto"] = _kernel_matches(catalog, YOCTO_KERNEL)
    probes = probe_files(catalog, dataset / "probe")
    info = {"generator": GENERATOR_VERSION, "seed": seed, "scale": scale, "stats": stats,
            "probes": {name: str(path.relative_to(dataset)) for name, path in probes.items()},
            "seconds": round(time.perf_counter() - started, 1)}
    _atomic_write(marker, json.dumps(info, indent=2).encode())
    print(f"  done in {info['seconds']} s; linux_kernel CVEs whose NVD ranges hold {YOCTO_KERNEL}: "
          f"{stats['kernel_matching_yocto']}", flush=True)
    return info


def _kernel_matches(catalog: Catalog, version: str) -> int:
    """CVEs whose NVD linux_kernel criteria hold `version` (a plain numeric compare, as a sanity check)."""
    key = _version_key(version)
    count = 0
    for index in catalog.products[catalog.kernel].cves:
        cve = catalog.cves[index]
        if not cve.analysed:
            continue
        for affect in cve.affects:
            for item in affect.ranges:
                if item.exact is not None:
                    hit = item.exact == version and item.update == "*"
                else:
                    low = item.start is None or _version_key(item.start) <= key
                    high = item.end is None or (key <= _version_key(item.end) if item.end_including
                                                else key < _version_key(item.end))
                    hit = low and high
                if hit:
                    count += 1
                    break
            else:
                continue
            break
    return count


# ---------------------------------------------------------------------------------------------------------------
# Measuring

def _cli(*args: str) -> List[str]:
    return [sys.executable, "-m", "timesys_ci", *args]


@dataclass
class Measured:
    status: int
    seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str


def run_measured(argv: Sequence[str], cwd: Optional[Path] = None) -> Measured:
    """Run a command; its wall time and peak RSS (ru_maxrss from wait4: this child only)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(list(argv), stdout=out, stderr=err, cwd=cwd, env=_env())
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(process.returncode, elapsed, usage.ru_maxrss / 1024, out.read().decode(errors="replace"),
                        err.read().decode(errors="replace"))


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(CODE) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def accepted_formats(dataset: Path, info: Dict[str, Any], formats: Sequence[str]) -> Dict[str, Optional[str]]:
    """format -> None when `import-vulns` reads it, else the one-line reason it gave."""
    verdicts: Dict[str, Optional[str]] = {}
    for name in formats:
        with tempfile.TemporaryDirectory() as tmp:
            result = run_measured(_cli("service", "import-vulns", "--data", str(Path(tmp) / "data"),
                                       str(dataset / info["probes"][name])))
        lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        verdicts[name] = None if result.status == 0 else (lines[-1] if lines else f"exit status {result.status}")
    return verdicts


def import_inputs(dataset: Path, verdicts: Dict[str, Optional[str]]) -> List[str]:
    files: List[str] = []
    if verdicts.get("nvd") is None and "nvd" in verdicts:
        files += sorted(str(path) for path in (dataset / "nvd").glob("nvdcve-2.0-*.json.gz"))
    if verdicts.get("cve5") is None and "cve5" in verdicts:
        files += sorted(str(path) for path in (dataset / "cve5").glob("*_all_CVEs_at_midnight.zip.zip"))
    if verdicts.get("osv") is None and "osv" in verdicts:
        files += sorted(str(path) for path in (dataset / "osv").glob("*/all.zip"))
    return files


def _epss_argument(dataset: Path) -> List[str]:
    """The EPSS file as downloaded (.csv.gz) when import-vulns reads it, else its plain copy."""
    gz = next((dataset / "epss").glob("*.csv.gz"))
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "epss-probe.csv.gz"
        probe.write_bytes(gzip.compress(b"cve,epss,percentile\nCVE-2024-0001,0.1,0.5\n"))
        result = run_measured(_cli("service", "import-vulns", "--data", str(Path(tmp) / "data"), "--epss", str(probe)))
    if result.status == 0:
        return ["--epss", str(gz)]
    print(f"  note: import-vulns does not read gzip EPSS files yet; importing {gz.stem} (the same rows, plain)")
    return ["--epss", str(gz.with_suffix(""))]


def dir_size(path: Path) -> Dict[str, int]:
    sizes = {}
    for item in sorted(path.rglob("*")):
        if item.is_file():
            sizes[str(item.relative_to(path))] = item.stat().st_size
    return sizes


class Service:
    """`timesys-ci service start` as a subprocess."""

    def __init__(self, data: Path, log: Path) -> None:
        self._log = log.open("ab")
        self.process = subprocess.Popen(_cli("service", "start", "--data", str(data), "--port", "0", "--print-url"),
                                        stdout=subprocess.PIPE, stderr=self._log, env=_env())
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 120)
        line = self.process.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("http"):
            self.stop()
            raise SystemExit(f"service did not start; see {log}")
        self.url = line

    def memory(self) -> Dict[str, float]:
        values = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) / 1024
        return values

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def report_summary(result: Dict[str, Any]) -> Dict[str, Any]:
    findings = sorted([package, entry.get("cve_id"), entry.get("status"), entry.get("category"),
                       entry.get("fixed_version") or "", bool(entry.get("kev"))]
                      for package, entries in result.get("cves", {}).items() for entry in entries)
    return {"counts": result.get("counts"), "findings": findings}


def scan_manifests(data: Path, work: Path, manifests: Dict[str, Path], repeat: int) -> Dict[str, Any]:
    sys.path.insert(0, str(CODE))
    import timesys
    from timesys.core import endpoints

    key_file = work / "bench.key"
    if not key_file.exists():
        made = run_measured(_cli("service", "add-user", "bench@example.com", "--data", str(data), "--key-file",
                                 str(key_file)))
        if made.status != 0:
            raise SystemExit(f"add-user failed: {made.stderr.strip()}")
    results: Dict[str, Any] = {}
    for name, path in manifests.items():
        text = path.read_text()
        service = Service(data, work / "service.log")
        try:
            client = timesys.LLAPI(key_file_path=key_file, url=service.url, timeout=(10.0, 3600.0))
            idle = service.memory()
            times, rss, summaries = [], [], []
            for _ in range(repeat):
                started = time.perf_counter()
                result = endpoints.MANIFEST_UPLOAD.call(client, manifest=text, filter_results=False, upload_only=False)
                times.append(time.perf_counter() - started)
                rss.append(service.memory()["VmRSS"])
                summaries.append(report_summary(result))
            memory = service.memory()
            client.close()
        finally:
            service.stop()
        same = all(summary == summaries[0] for summary in summaries)
        digest = hashlib.sha256(json.dumps(summaries[0], sort_keys=True).encode()).hexdigest()[:16]
        _atomic_write(work / f"report-summary-{name}.json", json.dumps(summaries[0], indent=1).encode())
        results[name] = {
            "packages": len(json.loads(text)["packages"]), "bytes": len(text.encode()),
            "seconds": [round(value, 3) for value in times], "median_s": round(statistics.median(times), 3),
            "rss_after_start_mb": round(idle["VmRSS"], 1), "rss_after_each_mb": [round(value, 1) for value in rss],
            "peak_rss_mb": round(memory["VmHWM"], 1), "findings": len(summaries[0]["findings"]),
            "counts": summaries[0]["counts"], "same_report_every_time": same, "report_digest": digest,
        }
        print(f"  {name}: {results[name]['packages']} packages, upload+scan median {results[name]['median_s']:.2f} s "
              f"(runs {', '.join(f'{t:.2f}' for t in times)}); {results[name]['findings']} findings {digest}; "
              f"service RSS {idle['VmRSS']:.0f} MB idle -> {', '.join(f'{v:.0f}' for v in rss)} MB, "
              f"peak {memory['VmHWM']:.0f} MB", flush=True)
    return results


def compare(work: Path, other: Path) -> List[str]:
    problems = []
    for mine in sorted(work.glob("report-summary-*.json")):
        theirs = other / mine.name
        if not theirs.exists():
            problems.append(f"{mine.name}: missing in {other}")
        elif json.loads(mine.read_text()) != json.loads(theirs.read_text()):
            problems.append(f"{mine.name}: differs from {theirs}")
    return problems


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full size (default 1; e.g. 0.05)")
    parser.add_argument("--seed", type=int, default=10, help="generator seed (default 10)")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                        / "timesys-ci" / "bench-vulndb-scale", help="where generated data sets are kept")
    parser.add_argument("--formats", default="nvd,cve5,osv", help="data formats to generate and import")
    parser.add_argument("--repeat", type=int, default=3, help="uploads of each manifest (median reported)")
    parser.add_argument("--manifests", default="packages-500,packages-5000,kernel",
                        help="which manifests to upload (names under the data set's manifests/)")
    parser.add_argument("--reuse-db", action="store_true", help="scan the data dir imported by an earlier run")
    parser.add_argument("--generate-only", action="store_true", help="write the data set and stop")
    parser.add_argument("--compare", type=Path, metavar="DIR",
                        help="check that the reports equal the summaries an earlier run left in DIR")
    parser.add_argument("--json-out", type=Path, help="write the figures as JSON here too")
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="source tree to measure (default: this checkout; e.g. an unpacked `git archive main`)")
    parser.add_argument("--run-name", default="run",
                        help="directory under the data set for this run's data dir and results (default run)")
    args = parser.parse_args(argv)
    global CODE
    CODE = args.code.resolve()
    formats = [name.strip() for name in args.formats.split(",") if name.strip()]
    dataset = args.cache / f"seed{args.seed}-scale{args.scale:g}-v{GENERATOR_VERSION}"
    info = generate(dataset, args.seed, args.scale, formats)
    if args.generate_only:
        return 0
    figures: Dict[str, Any] = {"date": dt.date.today().isoformat(), "dataset": info["stats"], "scale": args.scale,
                               "seed": args.seed, "python": sys.version.split()[0], "code": str(CODE)}
    work = dataset / args.run_name
    data = work / "data"
    done = work / "imported.json"
    if args.reuse_db and done.exists():
        figures["import"] = json.loads(done.read_text())
        print(f"reusing {data} (imported earlier: {figures['import']})")
    else:
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        verdicts = accepted_formats(dataset, info, formats)
        for name, reason in verdicts.items():
            if reason is not None:
                print(f"  note: skipping {name}: `service import-vulns` does not accept it yet ({reason})")
        files = import_inputs(dataset, verdicts)
        argv_import = _cli("service", "import-vulns", "--data", str(data), *files, "--kev",
                           str(dataset / "kev" / "known_exploited_vulnerabilities.json"), *_epss_argument(dataset))
        print(f"importing {len(files)} files ({', '.join(n for n, r in verdicts.items() if r is None)}) + KEV + EPSS ...",
              flush=True)
        measured = run_measured(argv_import)
        if measured.status != 0:
            print(measured.stdout[-2000:], measured.stderr[-2000:], sep="\n")
            raise SystemExit(f"import-vulns failed with status {measured.status}")
        sizes = dir_size(data)
        figures["import"] = {"seconds": round(measured.seconds, 1), "peak_rss_mb": round(measured.peak_rss_mb, 1),
                             "db_bytes": sum(sizes.values()), "db_files": sizes,
                             "imported": [n for n, r in verdicts.items() if r is None],
                             "skipped": {n: r for n, r in verdicts.items() if r is not None},
                             "last_line": measured.stdout.strip().splitlines()[-1] if measured.stdout.strip() else ""}
        _atomic_write(done, json.dumps(figures["import"], indent=2).encode())
    imp = figures["import"]
    print(f"import: {imp['seconds']:.1f} s, peak RSS {imp['peak_rss_mb']:.0f} MB, data dir "
          f"{imp['db_bytes'] / 1e6:.0f} MB ({imp.get('last_line', '')})", flush=True)
    manifests = {name: dataset / "manifests" / f"{name}.vigiles.json"
                 for name in (item.strip() for item in args.manifests.split(",")) if name}
    print(f"upload + scan, {args.repeat} times each, service restarted per manifest ...", flush=True)
    figures["scans"] = scan_manifests(data, work, manifests, args.repeat)
    if args.compare:
        problems = compare(work, args.compare)
        figures["compare"] = problems or "identical"
        print("reports:", "; ".join(problems) if problems else f"identical to {args.compare}")
    text = json.dumps(figures, indent=2)
    _atomic_write(work / f"figures-{figures['date']}.json", text.encode())
    if args.json_out:
        _atomic_write(args.json_out, text.encode())
    print(f"figures written to {work / ('figures-' + figures['date'] + '.json')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

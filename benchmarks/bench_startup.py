"""Start-up time of the CLI as whole processes, side by side with a bare Python that imports requests.

Issue 10 item 4: `timesys-ci --help` and `timesys-ci heartbeat` should take at most 1.25x a bare
`python -c "import requests, argparse, json, hmac, logging"`. Runs each command N times, alternating
with the bare process, and prints the median wall seconds and the median of the pairwise ratios.
Find where the time goes with `python -X importtime -m timesys_ci --help 2>&1 | sort -t'|' -k2 -n | tail -40`.

Run:  python benchmarks/bench_startup.py [-n 15]

Measured 2026-12-02 on this 2-core machine (medians of 10 alternating pairs, wall seconds):
  before (commit 2484401): --help 1.068 vs bare 0.304 (3.6x; cpu 3.5x)
  after:                   --help 0.096 vs bare 0.192 (0.51x: no requests, settings or pydantic loaded)
                           heartbeat --help 0.283 vs bare 0.167 (1.70x: the client library and command table)
A real `heartbeat` still resolves the pydantic settings (about +0.1-0.15 s): not yet within the goal.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

BARE = [sys.executable, "-c", "import requests, argparse, json, hmac, logging"]
COMMANDS = {"--help": [sys.executable, "-m", "timesys_ci", "--help"],
            "heartbeat --help": [sys.executable, "-m", "timesys_ci", "heartbeat", "--help"]}


def _wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=15, help="pairs per command")
    runs = parser.parse_args().n
    for name, argv in COMMANDS.items():
        _wall(argv), _wall(BARE)  # warm-up
        pairs = [(_wall(argv), _wall(BARE)) for _ in range(runs)]
        ours = statistics.median(a for a, _ in pairs)
        bare = statistics.median(b for _, b in pairs)
        ratio = statistics.median(a / b for a, b in pairs)
        print(f"{name:18} {ours:.3f} s   bare {bare:.3f} s   ratio {ratio:.2f}x")


if __name__ == "__main__":
    main()

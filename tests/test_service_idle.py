"""An idle local service uses (almost) no CPU: its event loop sleeps in select() instead of polling.

Waitress reads `asyncore_loop_timeout` as an integer, so 0.2 once became 0 and the loop spun a
whole core for as long as the service ran (issue 10, item 0). Both ways the service runs are
measured for real over a few seconds, with a keep-alive client connection left open as a CI job
leaves it: `service start` as a process (CPU ticks from /proc/<pid>/stat), and `running_service`
in a thread (that thread's ticks from /proc/self/task/<tid>/stat, and the whole test process).
A busy loop uses ~1 s of CPU per second; the bound is a twentieth of that.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import timesys
from timesys.core import endpoints

from .support.service_process import service_process

IDLE_SECONDS = 3.0
MAX_CPU_SHARE = 0.05  # of one core, over IDLE_SECONDS

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads CPU ticks from /proc")


def cpu_seconds(stat_path: str) -> float:
    """utime + stime of a process or thread, from its /proc stat file."""
    fields = Path(stat_path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_cpu(stat_path: str) -> float:
    before = cpu_seconds(stat_path)
    time.sleep(IDLE_SECONDS)
    return cpu_seconds(stat_path) - before


def test_started_service_process_is_idle(tmp_path: Path) -> None:
    with service_process(tmp_path, "idle@example.com") as service:
        client = timesys.LLAPI(key_file_path=service.key_file, url=service.url)
        assert endpoints.HEARTBEAT.call(client) == {"ok": True}  # leaves a keep-alive connection open
        time.sleep(0.3)  # let the request's own work finish
        used = idle_cpu(f"/proc/{service.pid}/stat")
        assert endpoints.HEARTBEAT.call(client) == {"ok": True}  # still serving after the quiet spell
        client.close()
    assert used <= IDLE_SECONDS * MAX_CPU_SHARE, f"idle service used {used:.2f} s CPU in {IDLE_SECONDS:.0f} s"


def test_running_service_thread_is_idle(tmp_path: Path) -> None:
    from timesys_ci.service.datadir import create_user
    from timesys_ci.service.server import running_service

    with running_service(tmp_path / "data") as service:
        client = timesys.LLAPI(key_file_path=create_user(service.storage, "idle@example.com", tmp_path / "key",
                                                         service.url))
        assert endpoints.HEARTBEAT.call(client) == {"ok": True}
        time.sleep(0.3)
        loop_thread = f"/proc/self/task/{service._thread.native_id}/stat"
        loop_before, process_before = cpu_seconds(loop_thread), time.process_time()
        time.sleep(IDLE_SECONDS)
        loop_used = cpu_seconds(loop_thread) - loop_before
        process_used = time.process_time() - process_before
        assert endpoints.HEARTBEAT.call(client) == {"ok": True}
        client.close()
        service.storage.close()
    limit = IDLE_SECONDS * MAX_CPU_SHARE
    assert loop_used <= limit, f"the service loop thread used {loop_used:.2f} s CPU in {IDLE_SECONDS:.0f} s idle"
    assert process_used <= 2 * limit, f"the test process used {process_used:.2f} s CPU in {IDLE_SECONDS:.0f} s idle"

"""Serving the app: waitress in the foreground for `service start`, or in a thread for tests and `--local`."""
from __future__ import annotations

import ipaddress
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from waitress import wasyncore
from waitress.server import create_server

from timesys_ci.service.app import DEFAULT_MAX_BODY, VigilesService
from timesys_ci.service.datadir import open_data_dir
from timesys_ci.service.storage import Storage

logger = logging.getLogger("timesys_ci.service")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServerLimits:
    """Connection limits and timeouts of the HTTP server (waitress), documented in the README.

    Waitress reads a whole request before a worker thread sees it, so slow
    clients cost a socket, not a thread; these bound the sockets. Its defaults
    (100 connections, 120 s idle) let 100 idle half-open connections shut
    everyone else out for two minutes.
    """

    connection_limit: int = 500  # open connections; further ones wait in the backlog (select() caps near 1000)
    channel_timeout: int = 30  # seconds a connection may be idle (mid-request or between keep-alive requests)
    cleanup_interval: int = 5  # seconds between sweeps closing the idle ones
    backlog: int = 1024  # connections the kernel queues while the limit is reached
    max_header_bytes: int = 256 * 1024  # request line + headers (GET parameters travel in the query string)
    threads: int = 8  # requests handled at once


def make_server(storage: Storage, host: str = "127.0.0.1", port: int = 8000, *, explain_signatures: bool = False,
                max_body: int = DEFAULT_MAX_BODY, limits: ServerLimits = ServerLimits()) -> Any:
    app = VigilesService(storage, explain_signatures=explain_signatures, max_body=max_body)
    return create_server(app, host=host, port=port, threads=limits.threads, max_request_body_size=max_body + 65536,
                         max_request_header_size=limits.max_header_bytes, connection_limit=limits.connection_limit,
                         channel_timeout=limits.channel_timeout, cleanup_interval=limits.cleanup_interval,
                         backlog=limits.backlog, ident="timesys-ci-local-vigiles", clear_untrusted_proxy_headers=True,
                         asyncore_loop_timeout=1)  # waitress reads an int: 0.2 became 0, a busy loop


class RunningService:
    """A service running in a background thread; `url` is its base URL."""

    def __init__(self, storage: Storage, server: Any) -> None:
        self.storage = storage
        self.server = server
        self.url = f"http://{server.effective_host}:{server.effective_port}"
        self._thread = threading.Thread(target=server.run, name="local-vigiles", daemon=True)

    def start(self) -> "RunningService":
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: close every connection, end the loop, join the workers, then close the trigger.

        The trigger (a pipe that wakes the loop) is closed last, once no thread can pull it any more:
        worker threads pull it after each response and this thread pulls it below, and a pull may wake
        the loop (and run `shut_down`) before the puller's own write. Closing it inside the loop made that
        write fail with EBADF, or land in whatever file reused the descriptor.
        """
        trigger = self.server.trigger

        def shut_down() -> None:  # runs in the loop's own thread: no fd is closed under a running select()
            # Closing the listening socket is not enough: the loop runs while client keep-alive
            # connections stay in its socket map, so close those first.
            for channel in list(self.server._map.values()):
                if channel not in (self.server, trigger):
                    channel.close()
            wasyncore.dispatcher.close(self.server)  # the listening socket only (server.close() closes the trigger)
            trigger.del_channel()  # the map is now empty: the loop returns; the pipe stays open

        trigger.pull_trigger(shut_down)
        self._thread.join(timeout=10)
        self.server.task_dispatcher.shutdown()  # joins the worker threads (waits up to 5 s)
        if self._thread.is_alive() or self.server.task_dispatcher.threads:
            logger.warning("local service did not stop within the timeout; its wake-up pipe is left open")
            return
        trigger.close()


@contextmanager
def running_service(data_dir: Path, *, host: str = "127.0.0.1", port: int = 0, seed: bool = True,
                    explain_signatures: bool = False, max_body: int = DEFAULT_MAX_BODY,
                    storage: Optional[Storage] = None, limits: ServerLimits = ServerLimits()) -> Iterator[RunningService]:
    """Start the service on an ephemeral loopback port, yield it, stop it."""
    storage = storage or open_data_dir(data_dir, seed=seed)
    service = RunningService(storage, make_server(storage, host, port, explain_signatures=explain_signatures,
                                                  max_body=max_body, limits=limits)).start()
    try:
        yield service
    finally:
        service.stop()

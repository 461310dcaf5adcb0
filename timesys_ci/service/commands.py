"""`timesys-ci service ...`: run the local service, add users, import vulnerability data.

Registered into the main CLI through `register(subparsers)`; each command's
`func(args)` returns the exit status. The serving modules are imported inside
the commands: the CLI must work without the `service` extra.
"""
from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn

from timesys_ci.exits import UsageError
from timesys_ci.service import address, require_service_extra

DEFAULT_PORT = address.DEFAULT_PORT


def register(subparsers: Any) -> None:
    service = subparsers.add_parser("service", help="run and manage the local Vigiles-compatible service",
                                    description="A local Vigiles-compatible service for offline use and tests.")
    commands = service.add_subparsers(dest="service_command", metavar="COMMAND", required=True)

    start = commands.add_parser("start", help="serve the API in the foreground (Ctrl-C or SIGTERM stops it)")
    start.add_argument("--data", required=True, type=Path, metavar="DIR", help="data directory (created if missing)")
    start.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    start.add_argument("--port", type=address.port_number, default=None,
                       help=f"port (default: the one recorded for the data dir, else {DEFAULT_PORT}; 0: any free); "
                            f"recorded for the data dir")
    start.add_argument("--allow-remote", action="store_true", help="allow listening on a non-loopback address")
    start.add_argument("--explain-signatures", action="store_true",
                       help="401 answers include the canonical message the service signed (never the key)")
    start.add_argument("--max-body", type=int, default=None, metavar="BYTES", help="largest request body accepted")
    start.add_argument("--print-url", action="store_true", help="print the base URL on stdout once listening")
    start.set_defaults(func=start_command)

    add_user = commands.add_parser("add-user", help="create a user and write their key file (mode 0600)")
    add_user.add_argument("email")
    add_user.add_argument("--data", required=True, type=Path, metavar="DIR")
    add_user.add_argument("--key-file", required=True, type=Path, metavar="PATH")
    add_user.add_argument("--url", default=None,
                          help="server_url written into the key file (default: the URL of the service running on "
                               "the data dir, else the one `service start --data DIR` will use)")
    add_user.add_argument("--admin", action="store_true", help="an administrator sees every group")
    add_user.set_defaults(func=add_user_command)

    import_vulns = commands.add_parser(
        "import-vulns", help="import vulnerability data: NVD, CVE JSON 5, OSV, KEV, EPSS (files, dirs, zips; .gz)",
        description="Import vulnerability data files, directories and zip archives into the data dir. The format "
                    "of each file is detected: NVD CVE API 2.0 (records, pages, feeds), CVE JSON 5 (CVE List V5 "
                    "release and delta zips), OSV (records, all.zip), CISA KEV (JSON, CSV), FIRST EPSS (CSV); "
                    "plain or gzip. All or nothing: an error leaves the data as it was.")
    import_vulns.add_argument("files", nargs="*", type=Path, metavar="PATH")
    import_vulns.add_argument("--data", required=True, type=Path, metavar="DIR")
    import_vulns.add_argument("--kev", type=Path, metavar="FILE", help="a CISA KEV catalog (JSON or CSV; also "
                              "detected among the PATHs)")
    import_vulns.add_argument("--epss", type=Path, metavar="FILE", help="a FIRST EPSS scores CSV (also detected "
                              "among the PATHs)")
    import_vulns.set_defaults(func=import_vulns_command)


def _stop(signum: int, frame: Any) -> NoReturn:
    raise SystemExit(0)  # waitress's run loop shuts down cleanly on SystemExit


def _log_requests() -> None:
    """A server logs every request, with a timestamp, whatever the CLI's own log level."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    for name in ("timesys_ci.service", "waitress"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def start_command(args: argparse.Namespace) -> int:
    require_service_extra()
    from timesys_ci.service.app import DEFAULT_MAX_BODY
    from timesys_ci.service.datadir import open_data_dir
    from timesys_ci.service.server import is_loopback, make_server

    if not is_loopback(args.host) and not args.allow_remote:
        raise UsageError(f"--host {args.host} is not a loopback address; add --allow-remote to listen on it")
    data_dir = address.usable_data_dir(args.data)
    already = address.running(data_dir)
    if already is not None:
        raise UsageError(f"--data {data_dir}: a service (pid {already.pid}) already serves it at {already.url}")
    port = args.port if args.port is not None else address.planned(data_dir).port
    _log_requests()
    storage = open_data_dir(data_dir)
    try:
        server = make_server(storage, args.host, port, explain_signatures=args.explain_signatures,
                             max_body=args.max_body or DEFAULT_MAX_BODY)
    except OSError as exc:
        storage.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"port {port} on {args.host} is in use: stop what listens there or choose --port") from None
        raise UsageError(f"cannot listen on {args.host} port {port}: {exc.strerror or exc}") from None
    listening = address.Address(args.host, int(server.effective_port))
    address.record(data_dir, listening.host, listening.port, pid=os.getpid())
    logging.getLogger("timesys_ci.service").info("serving %s from %s", listening.url, data_dir)
    if args.print_url:
        print(listening.url, flush=True)
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.close()
        storage.close()
        address.record(data_dir, listening.host, listening.port)  # not running any more; the port stays its own
        logging.getLogger("timesys_ci.service").info("stopped")
    return 0


def add_user_command(args: argparse.Namespace) -> int:
    require_service_extra()
    from timesys_ci.service.datadir import create_user, open_data_dir

    data_dir = address.usable_data_dir(args.data)
    running = address.running(data_dir)
    url = (args.url or (running or address.planned(data_dir)).url).rstrip("/")
    storage = open_data_dir(data_dir)
    try:
        path = create_user(storage, args.email, args.key_file, url, is_admin=args.admin)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"{args.key_file}: cannot write the key file ({exc.strerror or exc})") from None
    finally:
        storage.close()
    where = ("" if args.url else " (the service running on that data dir)" if running else
             f" (where `service start --data {data_dir}` listens)")
    print(f"created {args.email.strip()}; key file written to {path} (server_url {url}{where})")
    return 0


def import_vulns_command(args: argparse.Namespace) -> int:
    """A front end of `vulndb.update.import_files`: the copy-and-swap import `db update` uses."""
    require_service_extra()
    from timesys_ci.service.datadir import open_data_dir
    from timesys_ci.vulndb.dbfile import record_counts, vulndb_path
    from timesys_ci.vulndb.update import import_files

    paths = [*args.files, *([args.kev] if args.kev else []), *([args.epss] if args.epss else [])]
    if not paths:
        raise UsageError("nothing to import: give files, directories or archives (or --kev / --epss)")
    data_dir = address.usable_data_dir(args.data)
    open_data_dir(data_dir).close()  # a new data dir is created (and seeded) as the service would
    try:
        summary = import_files(data_dir, paths, origin="import-vulns")
    except OSError as exc:
        raise UsageError(f"{exc.filename}: {exc.strerror}") from None
    for skipped in summary.skipped[:20]:
        print(f"skipped (not vulnerability data): {skipped}")
    if len(summary.skipped) > 20:
        print(f"skipped {len(summary.skipped) - 20} more files in no known format")
    print(f"imported {summary.describe()} from {len(paths)} path(s)")
    counts = record_counts(vulndb_path(data_dir))
    records = sum(counts.get(source, 0) for source in ("nvd", "cve5", "osv"))
    print(f"{args.data}: {records} vulnerability records "
          f"({', '.join(f'{source} {count}' for source, count in counts.items() if count)})")
    return 0

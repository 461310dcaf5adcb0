"""Run real BitBake (the `bb` library from the `bitbake-setup` wheel) in tests.

The wheel ships BitBake's library but not its three entry scripts. BitBake finds
them next to the library (`bb/server/process.py` starts `<lib>/../bin/bitbake-server`,
`bb/runqueue.py` starts `<lib>/../bin/bitbake-worker`), so `install_bitbake` lays out
a tree `<dest>/lib/bb` (a copy of the installed package) and writes small launchers
into `<dest>/bin` that call BitBake's own code: `bb.main.bitbake_main`,
`bb.server.process.execServer`, and, in the worker, `CookerDataBuilder.parseRecipe` and
`bb.build.exec_task` for each task, speaking the runqueue's framed-pickle protocol
(`<name>` + 4-byte length + pickle + `</name>` in, `<event>`/`<exitcode>` out).
The parser, datastore, cooker, runqueue, task execution and the UI are BitBake's.
The `bb` library is GPL-2.0-only and a test dependency only; nothing here is shipped.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Optional

BITBAKE_MAIN = '''\
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import bb, bb.cookerdata, bb.main
# Not bb.utils.check_system_locale(): it insists on en_US.UTF-8 being installed; C.UTF-8 does as well.
if sys.getfilesystemencoding() != "utf-8":
    sys.exit("BitBake needs a UTF-8 locale (LC_ALL=C.UTF-8)")
try:
    sys.exit(bb.main.bitbake_main(bb.main.BitBakeConfigParameters(sys.argv), bb.cookerdata.CookerConfiguration()))
except bb.main.BBMainException as error:
    sys.exit(str(error))
except bb.BBHandledException:
    sys.exit(1)
'''

BITBAKE_SERVER = '''\
import ast, logging, os, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import bb, bb.event, bb.server.process
if len(sys.argv) != 11 or not sys.argv[1].startswith("decafbad"):
    sys.exit("bitbake-server is started by bitbake itself")
lockfd, readypipe, logfile, lockname, sockname = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
timeout = float(sys.argv[7]) or None
profile = ast.literal_eval(sys.argv[8])
xmlrpc = (None if sys.argv[9] == "None" else sys.argv[9], int(sys.argv[10]))
with open(os.devnull) as devnull:
    os.dup2(devnull.fileno(), 0)
with open(logfile, "a+") as log:
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
sys.stderr = sys.stdout
logging.getLogger("BitBake").addHandler(bb.event.LogHandler())
bb.server.process.execServer(lockfd, readypipe, lockname, sockname, timeout, xmlrpc, profile)
'''

BITBAKE_WORKER = '''\
import logging, os, pickle, select, signal, sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import bb, bb.build, bb.cookerdata, bb.event, bb.msg, bb.parse, bb.siggen, bb.utils

# The protocol owns the original stdout; anything else printed goes to stderr.
PIPE = os.dup(1)
os.dup2(2, 1)
logging.getLogger("BitBake").addHandler(bb.event.LogHandler())
state = {"children": {}, "hashes": None}


def send(data):
    view = memoryview(data)
    while view:
        try:
            written = os.write(PIPE, view)
        except BlockingIOError:
            select.select([], [PIPE], [], 1)
            continue
        view = view[written:]


def fire(event, d):
    send(b"<event>" + pickle.dumps(event) + b"</event>")


def run_task(task):
    databuilder, workerdata = state["databuilder"], state["workerdata"]
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    bb.event.worker_pid = os.getpid()
    bb.event.worker_fire = fire
    if workerdata.get("umask") is not None:
        os.umask(int(workerdata["umask"], 8))
    bb.msg.loggerDefaultLogLevel = workerdata["logdefaultlevel"]
    bb.msg.loggerDefaultDomains = workerdata["logdefaultdomain"]
    for data in databuilder.mcdata.values():
        for name, value in state["extraconfigdata"].items():
            data.setVar(name, value)
        data.setVar("PRSERV_HOST", workerdata["prhost"])
        data.setVar("BB_HASHSERVE", workerdata["hashservaddr"])
        data.setVar("__bbclasstype", "recipe")
    the_data = databuilder.parseRecipe(task["fn"], task["appends"], task["layername"])
    for name, key in (("BB_TASKHASH", "taskhash"), ("BB_UNIHASH", "unihash")):
        the_data.setVar(name, task[key])
    the_data.setVar("BB_TASKDEPDATA", task["taskdepdata"])
    the_data.setVar("BB_CURRENTTASK", task["taskname"].replace("do_", "", 1))
    the_data.setVar("BUILDNAME", workerdata["buildname"])
    the_data.setVar("DATE", workerdata["date"])
    the_data.setVar("TIME", workerdata["time"])
    bb.parse.siggen = bb.siggen.init(the_data)
    bb.parse.siggen.set_taskdata(workerdata["sigdata"])
    if state["hashes"] is not None:
        bb.parse.siggen.set_taskhashes(state["hashes"])
    if task["dry_run"]:
        return 0
    return bb.build.exec_task(task["fn"], task["taskname"], the_data, state["cookerconfig"].profile)


def start(task):
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = run_task(task)
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            os._exit(code or 0)
    state["children"][pid] = task["task"]


def handle(name, data):
    if name == "cookerconfig":
        state["cookerconfig"] = pickle.loads(data)
        builder = bb.cookerdata.CookerDataBuilder(state["cookerconfig"], worker=True)
        builder.parseBaseConfiguration(worker=True)
        state["databuilder"] = builder
    elif name == "extraconfigdata":
        state["extraconfigdata"] = pickle.loads(data)
    elif name == "workerdata":
        state["workerdata"] = pickle.loads(data)
    elif name == "newtaskhashes":
        state["hashes"] = pickle.loads(data)
    elif name == "runtask":
        start(pickle.loads(data))
    elif name == "finishnow":
        for pid in state["children"]:
            os.kill(pid, signal.SIGTERM)
    elif name == "quit":
        return False
    return True


def reap(block):
    for pid in list(state["children"]):
        done, status = os.waitpid(pid, 0 if block else os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            send(b"<exitcode>" + pickle.dumps((state["children"].pop(pid), code)) + b"</exitcode>")


def main():
    buffer, running = b"", True
    while running:
        ready, _, _ = select.select([0], [], [], 0.2)
        reap(False)
        if not ready:
            continue
        chunk = os.read(0, 65536)
        if not chunk:
            break
        buffer += chunk
        while buffer.startswith(b"<") and b">" in buffer and running:
            name = buffer[1:buffer.index(b">")].decode()
            start_at = len(name) + 2
            if len(buffer) < start_at + 4:
                break
            size = int.from_bytes(buffer[start_at:start_at + 4], "big")
            end = start_at + 4 + size
            closing = ("</" + name + ">").encode()
            if len(buffer) < end + len(closing):
                break
            running = handle(name, buffer[start_at + 4:end])
            buffer = buffer[end + len(closing):]
    reap(True)


main()
'''


# BitBake's library imports two sibling packages the wheel does not ship: the hash equivalence
# server and the PR server. These builds use neither (no BB_HASHSERVE, no PRSERV_HOST), so the
# stand-ins only let `bb` import; asking them to serve fails loudly.
SERVER_STAND_INS = {
    "hashserv/__init__.py": '''\
"""Stand-in for BitBake's hashserv (not in the bitbake-setup wheel): these test builds run without one."""
import re


def is_valid_unihash(unihash):
    return bool(re.fullmatch(r"[0-9a-f]{16,}", unihash or ""))


def _unavailable(*args, **kwargs):
    raise RuntimeError("no hash equivalence server in the test BitBake tree (unset BB_HASHSERVE)")


create_client = create_server = create_async_client = _unavailable
''',
    "hashserv/client.py": "from hashserv import create_client  # noqa: F401\n",
    "prserv/__init__.py": "",
    "prserv/serv.py": '''\
"""Stand-in for BitBake's PR server (not in the bitbake-setup wheel)."""


class PRServiceConfigError(Exception):
    pass


def auto_start(d):
    if d.getVar("PRSERV_HOST"):
        raise PRServiceConfigError("no PR server in the test BitBake tree (unset PRSERV_HOST)")
    return None


def auto_shutdown():
    return None
''',
}


def bb_package() -> Optional[Path]:
    """The installed `bb` package, or None when it cannot be imported on this Python."""
    try:
        import bb  # noqa: F401 - only its location is needed
    except (ImportError, RuntimeError):  # RuntimeError: BitBake refuses this Python version
        return None
    return Path(bb.__file__).parent


def install_bitbake(dest: Path) -> Path:
    """A BitBake tree (`lib/bb` and `bin/bitbake*`) under `dest`; returns the `bitbake` script."""
    package = bb_package()
    if package is None:
        raise RuntimeError("the bb library (bitbake-setup) is not importable")
    lib = dest / "lib" / "bb"
    if not lib.exists():
        shutil.copytree(package, lib, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    for relative, text in SERVER_STAND_INS.items():
        (dest / "lib" / relative).parent.mkdir(parents=True, exist_ok=True)
        (dest / "lib" / relative).write_text(text)
    bindir = dest / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    for name, text in (("bitbake", BITBAKE_MAIN), ("bitbake-server", BITBAKE_SERVER),
                       ("bitbake-worker", BITBAKE_WORKER)):
        script = bindir / name
        script.write_text(f"#!{sys.executable}\n# Test launcher: see tests/support/bitbake.py\n" + text)
        script.chmod(0o755)
    return bindir / "bitbake"


def run_bitbake(bitbake: Path, build_dir: Path, target: str, env: Mapping[str, str],
                timeout: float = 300) -> subprocess.CompletedProcess:
    """`bitbake TARGET` in `build_dir` (with conf/bblayers.conf and conf/local.conf), as a user runs it."""
    child = dict(env)
    child["PATH"] = f"{bitbake.parent}{os.pathsep}{child.get('PATH', '')}"
    child["BBPATH"] = str(build_dir)
    child.setdefault("LANG", "C.UTF-8")
    child.setdefault("LC_ALL", "C.UTF-8")
    return subprocess.run([sys.executable, str(bitbake), target], cwd=build_dir, env=child, capture_output=True,
                          text=True, timeout=timeout, check=False)

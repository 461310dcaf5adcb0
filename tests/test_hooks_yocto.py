"""The Yocto class's Python, run outside bitbake with a stand-in datastore, plus layer metadata checks.

Most tests use the stand-in interpreter to see the exact argv the task builds from
bitbake variables; `test_task_with_real_upload_fails_on_gate` runs the real command
against the local service.
"""
from __future__ import annotations

import os
import re
import sys
import textwrap
import types
from pathlib import Path

import pytest

from .buildsystems_support import IMAGE, REPO, make_meta_timesys_tree, read_fake_log, write_fake_python
from .conftest import LocalVigiles

LAYER = REPO / "hooks" / "yocto"
CLASS = LAYER / "classes" / "timesys-ci.bbclass"


class FatalError(Exception):
    pass


class FakeBB:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def plain(self, msg: str) -> None:
        self.messages.append(("plain", msg))

    def warn(self, msg: str) -> None:
        self.messages.append(("warn", msg))

    def fatal(self, msg: str) -> None:
        self.messages.append(("fatal", msg))
        raise FatalError(msg)


class FakeData:
    """Just getVar with the class's `?=` defaults applied, as bitbake would."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = dict(values)

    def getVar(self, name: str) -> "str | None":
        return self.values.get(name)


def class_defaults() -> dict[str, str]:
    text = CLASS.read_text().replace("\\\n", " ")
    return {m.group(1): " ".join(m.group(2).split()) for m in re.finditer(r'^(\w+) \?= "(.*?)"', text, re.M)}


def load_task(bb: FakeBB) -> types.FunctionType:
    """Compile the class's top-level defs and the python task body into one callable taking `d`."""
    text = CLASS.read_text()
    defs = "\n".join(m.group(0) for m in re.finditer(r"^def .*?(?=^\S)", text, re.M | re.S))
    body = re.search(r"^python do_timesys_ci_check\(\) \{\n(.*?)^\}", text, re.M | re.S).group(1)
    source = defs + "\ndef do_timesys_ci_check(d):\n" + textwrap.indent(textwrap.dedent(body), "    ")
    namespace: dict = {"bb": bb, "os": os}
    exec(compile(source, str(CLASS), "exec"), namespace)
    return namespace["do_timesys_ci_check"]


def datastore(build: Path, tmp_path: Path, **overrides: str) -> FakeData:
    fake = write_fake_python(tmp_path / "bin")
    values = {**class_defaults(), "TOPDIR": str(build), "TMPDIR": str(build / "tmp"), "IMAGE_BASENAME": IMAGE,
              "MACHINE": "beaglebone-yocto", "TIMESYS_CI_PYTHON": str(fake),
              "VIGILES_KEY_FILE": str(tmp_path / "linuxlink_key"), "VIGILES_SUBFOLDER_NAME": "ci"}
    values.update(overrides)
    return FakeData(values)


@pytest.fixture
def fake_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "py.log"
    monkeypatch.setenv("FAKE_PY_LOG", str(log))
    monkeypatch.setenv("TIMESYS_CI_PYTHON", str(write_fake_python(tmp_path / "bin")))
    return log


def test_task_runs_entry_with_bitbake_variables(tmp_path: Path, fake_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = tmp_path / "build"
    vdir = make_meta_timesys_tree(build)
    monkeypatch.setenv("FAKE_UPLOAD_EXIT", "0")
    bb = FakeBB()
    load_task(bb)(datastore(build, tmp_path))
    yocto, upload = read_fake_log(fake_env)
    assert yocto["argv"][3:] == ["--build-dir", str(build), "--image", IMAGE, "--machine", "beaglebone-yocto",
                                 "--tmpdir", str(build / "tmp"), "--on-failure", "fail"]
    assert upload["argv"][3] == str(vdir / f"{IMAGE}-cve.json")
    assert upload["argv"][upload["argv"].index("--subfolder-name") + 1] == "ci"
    assert upload["env"]["VIGILES_KEY_FILE"] == str(tmp_path / "linuxlink_key")
    # The tree has no kernel build: the entry says kernel CVEs are not triaged, then the upload runs.
    assert bb.messages == [("plain", "timesys_ci yocto: kernel triage: no kernel build directory or sources found; "
                                     "kernel CVEs are not triaged (name them with TIMESYS_CI_KERNEL_BUILD_DIR / "
                                     "TIMESYS_CI_KERNEL_SOURCE_DIR)\nfake upload")]


def test_gate_failure_is_fatal_by_default(tmp_path: Path, fake_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build = tmp_path / "build"
    make_meta_timesys_tree(build)
    monkeypatch.setenv("FAKE_UPLOAD_EXIT", "1")
    bb = FakeBB()
    with pytest.raises(FatalError, match=r"timesys-ci check failed for core-image-minimal \(exit 1\)"):
        load_task(bb)(datastore(build, tmp_path))


def test_warn_mode_warns(tmp_path: Path, fake_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In warn mode the entry already turns failures into 0; a missing interpreter still only warns."""
    build = tmp_path / "build"
    make_meta_timesys_tree(build)
    monkeypatch.setenv("FAKE_UPLOAD_EXIT", "3")
    bb = FakeBB()
    load_task(bb)(datastore(build, tmp_path, TIMESYS_CI_ON_FAILURE="warn"))
    assert [kind for kind, _ in bb.messages] == ["plain"] and "WARNING: service error" in bb.messages[0][1]
    broken = tmp_path / "broken-python"
    broken.write_text("#!/bin/sh\necho 'No module named timesys_ci'\nexit 5\n")
    broken.chmod(0o755)
    bb = FakeBB()
    load_task(bb)(datastore(build, tmp_path, TIMESYS_CI_ON_FAILURE="warn", TIMESYS_CI_PYTHON=str(broken)))
    assert bb.messages == [("plain", "No module named timesys_ci"),
                           ("warn", "timesys-ci check failed for core-image-minimal (exit 5)")]


def test_missing_manifest_is_fatal_with_places(tmp_path: Path, fake_env: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    bb = FakeBB()
    with pytest.raises(FatalError, match=r"exit 2"):
        load_task(bb)(datastore(build, tmp_path))
    assert "not found; searched:" in bb.messages[0][1]


def test_bad_on_failure_value(tmp_path: Path) -> None:
    bb = FakeBB()
    with pytest.raises(FatalError, match="must be 'fail' or 'warn'"):
        load_task(bb)(datastore(tmp_path, tmp_path, TIMESYS_CI_ON_FAILURE="maybe"))


def test_layer_and_class_metadata() -> None:
    conf = (LAYER / "conf" / "layer.conf").read_text()
    compat = re.search(r'LAYERSERIES_COMPAT_timesys-ci = "(.*)"', conf).group(1).split()
    assert {"scarthgap", "styhead", "walnascar"} <= set(compat)
    assert 'LAYERRECOMMENDS_timesys-ci = "timesys"' in conf  # optional, not LAYERDEPENDS
    text = CLASS.read_text()
    # Images only (a global INHERIT reaches every recipe): the task is added from anonymous python.
    assert re.search(r"if bb\.data\.inherits_class\('image', d\):\n\s+bb\.build\.addtask\('do_timesys_ci_check', "
                     r"'do_build',\s+'do_vigiles_image ", text)
    assert class_defaults()["TIMESYS_CI_ON_FAILURE"] == "fail"
    assert "VIGILES_KEY " not in class_defaults()["TIMESYS_CI_EXPORT_VARS"] + " "  # only the key *file* path


def test_task_with_real_upload_fails_on_gate(tmp_path: Path, local_vigiles: LocalVigiles,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The real interpreter and upload: bb.fatal on a failed gate, a warning in warn mode."""
    build = tmp_path / "build"
    make_meta_timesys_tree(build, manifest=REPO / "examples" / "core-image-minimal.vigiles.json")
    for name in [n for n in os.environ if n.startswith(("VIGILES_", "LINUXLINK_", "TIMESYS_CI_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    key = local_vigiles.add_user("builder@example.com")
    real = {"TIMESYS_CI_PYTHON": sys.executable, "VIGILES_KEY_FILE": str(key)}
    bb = FakeBB()
    with pytest.raises(FatalError, match=r"timesys-ci check failed for core-image-minimal \(exit 1\)"):
        load_task(bb)(datastore(build, tmp_path, **real))
    assert "CVE-2022-48174" in bb.messages[0][1] and "Gate: FAIL" in bb.messages[0][1]
    bb = FakeBB()
    load_task(bb)(datastore(build, tmp_path, TIMESYS_CI_ON_FAILURE="warn", **real))
    assert [kind for kind, _ in bb.messages] == ["plain"] and "WARNING: gate failed (exit 1)" in bb.messages[0][1]

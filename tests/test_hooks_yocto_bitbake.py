"""hooks/yocto/classes/timesys-ci.bbclass under real BitBake.

A minimal metadata set (a `bitbake.conf`, a `base.bbclass`, a layer with an image recipe
whose stand-in `do_vigiles_image` writes a meta-timesys style manifest), plus the
`hooks/yocto` layer; `bitbake core-image-minimal` runs as a subprocess in a temporary
build directory and uploads to the local service started here.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .kernel_support import make_build_dir
from .support.bitbake import bb_package, install_bitbake, run_bitbake

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_MANIFEST = REPO / "examples" / "core-image-minimal.vigiles.json"  # has a critical CVE
CLEAN_MANIFEST = REPO / "tests" / "fixtures" / "buildsystems" / "meta-timesys-core-image-minimal-cve.json"
IMAGE = "core-image-minimal"

if bb_package() is None:
    pytest.skip(f"BitBake (the bb library of bitbake-setup) cannot be imported on Python "
                f"{sys.version.split()[0]}", allow_module_level=True)
waitress = pytest.importorskip("waitress", reason="the local service needs the service extra")

BITBAKE_CONF = """\
# A minimal bitbake.conf: what BitBake itself needs, and what the image class below uses.
TMPDIR ?= "${TOPDIR}/tmp"
CACHE = "${TMPDIR}/cache"
PERSISTENT_DIR = "${TMPDIR}/persistent"
STAMP = "${TMPDIR}/stamps/${PN}"
WORKDIR = "${TMPDIR}/work/${PN}"
T = "${WORKDIR}/temp"
B = "${WORKDIR}"
PN = "${@bb.parse.vars_from_file(d.getVar('FILE', False), d)[0] or 'defaultpkgname'}"
PV = "1.0"
MACHINE ??= "qemux86-64"
DEPLOY_DIR ?= "${TMPDIR}/deploy"
DEPLOY_DIR_IMAGE ?= "${DEPLOY_DIR}/images/${MACHINE}"
BB_NUMBER_THREADS = "1"
include conf/local.conf
"""

BASE_BBCLASS = """\
# A minimal base class: the build task every target ends with.
do_build[noexec] = "1"
addtask build
"""

IMAGE_BBCLASS = """\
# Stand-in for OE-core's image class: the tasks a real image runs, as no-ops.
IMAGE_BASENAME ?= "${PN}"
do_image_complete[noexec] = "1"
addtask image_complete before do_build
"""

LAYER_CONF = """\
BBPATH .= ":${LAYERDIR}"
BBFILES += "${LAYERDIR}/recipes-*/*/*.bb"
BBFILE_COLLECTIONS += "test"
BBFILE_PATTERN_test := "^${LAYERDIR}/"
BBFILE_PRIORITY_test = "5"
LAYERSERIES_CORENAMES = "walnascar"
LAYERSERIES_COMPAT_test = "walnascar"
"""

IMAGE_RECIPE = """\
SUMMARY = "An image whose stand-in do_vigiles_image writes the manifest meta-timesys would"
LICENSE = "MIT"
inherit image {inherit}

VIGILES_DIR ?= "${{TOPDIR}}/vigiles"
VIGILES_MANIFEST_SOURCE ?= ""

python do_vigiles_image() {{
    import shutil, time
    vigiles_dir = d.getVar('VIGILES_DIR')
    name = d.getVar('IMAGE_BASENAME')
    stamp = time.strftime('%Y-%m-%d_%H.%M.%S')
    image_dir = os.path.join(vigiles_dir, name)
    os.makedirs(image_dir, exist_ok=True)
    manifest = os.path.join(image_dir, '%s-%s-cve.json' % (name, stamp))
    shutil.copy(d.getVar('VIGILES_MANIFEST_SOURCE'), manifest)
    link = os.path.join(vigiles_dir, name + '-cve.json')
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(os.path.relpath(manifest, vigiles_dir), link)
}}
addtask vigiles_image after do_image_complete before do_build
do_vigiles_image[nostamp] = "1"
"""


@pytest.fixture(scope="module")
def bitbake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_bitbake(tmp_path_factory.mktemp("bitbake"))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory):
    from timesys_ci.service.datadir import create_user
    from timesys_ci.service.server import running_service

    data = tmp_path_factory.mktemp("service")
    with running_service(data) as running:
        running.key_file = create_user(running.storage, "builder@example.com", data / "linuxlink_key", running.url)
        group = running.storage.create_group("Builds", "", None, "builder@example.com")
        running.dashboard_config = data / "dashboard_config"
        running.dashboard_config.write_text(json.dumps({"group": group["token"]}))
        yield running


def metadata(top: Path, *, local_conf: str, manifest: Path, global_inherit: bool = False) -> Path:
    """TOPDIR with conf/ and a test layer; the hooks/yocto layer from the repository."""
    layer = top / "meta-test"
    for relative, text in (("conf/layer.conf", LAYER_CONF), ("conf/bitbake.conf", BITBAKE_CONF),
                           ("classes/base.bbclass", BASE_BBCLASS), ("classes/image.bbclass", IMAGE_BBCLASS),
                           (f"recipes-core/images/{IMAGE}.bb",
                            IMAGE_RECIPE.format(inherit="" if global_inherit else "timesys-ci")),
                           ("recipes-core/busybox/busybox_1.36.1.bb", 'LICENSE = "GPL-2.0-only"\n')):
        path = layer / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    build = top / "build"
    (build / "conf").mkdir(parents=True)
    (build / "conf" / "bblayers.conf").write_text(
        f'BBPATH = "${{TOPDIR}}"\nBBFILES ?= ""\nBBLAYERS = "{layer} {REPO / "hooks" / "yocto"}"\n')
    (build / "conf" / "local.conf").write_text(
        f'VIGILES_MANIFEST_SOURCE = "{manifest}"\n'
        f'TIMESYS_CI_PYTHON = "{sys.executable}"\n'
        + ('INHERIT += "timesys-ci"\n' if global_inherit else "") + local_conf)
    return build


def environment() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("VIGILES_", "TIMESYS_CI_", "GITHUB_"))}
    # The task's interpreter must import this checkout's timesys_ci; BitBake cleans the environment.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["BB_ENV_PASSTHROUGH_ADDITIONS"] = "PYTHONPATH"
    return env


def manifests_named(service, name: str) -> list:
    groups = service.storage.visible_groups("builder@example.com", archived=False, include_workspaces=True,
                                            is_admin=False)
    return [row for row in service.storage.manifests(group_tokens=[g["token"] for g in groups]) if row["name"] == name]


def local_conf(service, **settings: str) -> str:
    values = {"VIGILES_KEY_FILE": str(service.key_file), "VIGILES_DASHBOARD_CONFIG": str(service.dashboard_config),
              **settings}
    return "".join(f'{name} = "{value}"\n' for name, value in values.items())


def test_task_uploads_and_passes(tmp_path: Path, bitbake: Path, service) -> None:
    sarif = tmp_path / "vigiles.sarif"
    kernel_build = make_build_dir(tmp_path / "linux-build")
    build = metadata(tmp_path, manifest=CLEAN_MANIFEST, local_conf=local_conf(
        service, VIGILES_MANIFEST_NAME="bitbake-pass", VIGILES_SUBFOLDER_NAME="nightly",
        TIMESYS_CI_FAIL_ON="critical", TIMESYS_CI_SARIF=str(sarif), TIMESYS_CI_KERNEL_BUILD_DIR=str(kernel_build)))
    # meta-timesys names the manifest files after VIGILES_MANIFEST_NAME.
    (build / "conf" / "local.conf").write_text((build / "conf" / "local.conf").read_text()
                                               + 'IMAGE_BASENAME = "bitbake-pass"\n')
    result = run_bitbake(bitbake, build, IMAGE, environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Gate: PASS" in result.stdout
    stored = manifests_named(service, "bitbake-pass")
    assert len(stored) == 1 and stored[0]["folder_token"]  # VIGILES_SUBFOLDER_NAME made a folder
    assert service.storage.folder(stored[0]["folder_token"])["name"] == "nightly"
    assert json.loads(sarif.read_text())["version"] == "2.1.0"  # TIMESYS_CI_SARIF from local.conf
    assert (build / "vigiles" / "bitbake-pass-cve.json").is_file()
    # The kernel evidence setting from local.conf arrives too: the upload triages the kernel CVEs with it.
    assert "kernel triage: " in result.stdout and f"evidence: kbuild-cmd (strong) from {kernel_build}" in result.stdout


def test_failed_gate_fails_the_task(tmp_path: Path, bitbake: Path, service) -> None:
    build = metadata(tmp_path, manifest=EXAMPLE_MANIFEST, local_conf=local_conf(
        service, VIGILES_MANIFEST_NAME=IMAGE, TIMESYS_CI_FAIL_ON="critical"))
    result = run_bitbake(bitbake, build, IMAGE, environment())
    assert result.returncode != 0
    assert "Gate: FAIL" in result.stdout
    assert f"timesys-ci check failed for {IMAGE} (exit 1)" in result.stdout + result.stderr
    assert "do_timesys_ci_check" in result.stdout and "failed" in result.stdout.lower()


def test_warn_mode_only_warns(tmp_path: Path, bitbake: Path, service) -> None:
    build = metadata(tmp_path, manifest=EXAMPLE_MANIFEST, local_conf=local_conf(
        service, VIGILES_MANIFEST_NAME=IMAGE, TIMESYS_CI_FAIL_ON="critical", TIMESYS_CI_ON_FAILURE="warn"))
    result = run_bitbake(bitbake, build, IMAGE, environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Gate: FAIL" in result.stdout
    assert "WARNING" in result.stdout and "continuing because on-failure is 'warn'" in result.stdout


def test_global_inherit_checks_images_only(tmp_path: Path, bitbake: Path, service) -> None:
    """`INHERIT += "timesys-ci"` in local.conf: only image recipes get the check."""
    build = metadata(tmp_path, manifest=CLEAN_MANIFEST, global_inherit=True, local_conf=local_conf(
        service, VIGILES_MANIFEST_NAME=IMAGE, TIMESYS_CI_FAIL_ON="none"))
    result = run_bitbake(bitbake, build, "busybox", environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "timesys_ci_check" not in result.stdout
    result = run_bitbake(bitbake, build, IMAGE, environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Gate: PASS" in result.stdout


def test_bad_setting_in_local_conf_fails_with_its_name(tmp_path: Path, bitbake: Path, service) -> None:
    build = metadata(tmp_path, manifest=CLEAN_MANIFEST, local_conf=local_conf(service, TIMESYS_CI_ON_FAILURE="maybe"))
    result = run_bitbake(bitbake, build, IMAGE, environment())
    assert result.returncode != 0
    assert "TIMESYS_CI_ON_FAILURE must be 'fail' or 'warn', not 'maybe'" in result.stdout + result.stderr


# Suppressed for the whole file, because the rule is about the file name: "timesys-ci" is the name users
# already INHERIT, and OE-core names its own classes the same way (cve-check, create-spdx). The two other
# suppressions are inline in the class, each with its reason.
OELINT_SUPPRESSED = ("oelint.bbclass.underscores",)


def test_oelint_adv_finds_nothing_in_the_class() -> None:
    oelint = Path(sys.executable).parent / "oelint-adv"
    if not oelint.exists():
        found = shutil.which("oelint-adv")
        if found is None:
            pytest.skip("oelint-adv is not installed (it is in the test extra)")
        oelint = Path(found)
    command = [str(oelint), "--quiet", "--mode", "all", "--relpaths", "--jobs", "1"]
    for rule in OELINT_SUPPRESSED:
        command += ["--suppress", rule]
    result = subprocess.run(command + ["classes/timesys-ci.bbclass"], capture_output=True, text=True,
                            cwd=REPO / "hooks" / "yocto", check=False)
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr

"""Kernel triage inside `upload`: against the local service over HTTP (`--local` and as a remote service), with a
synthetic kernel build and real-shaped Linux kernel CNA records; `--apply-triage` writes the statuses back."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import timesys
from timesys.core import endpoints
from timesys.vigiles import cves, manifests

from .cli_helpers import REPO_ROOT, run_cli
from .conftest import LocalVigiles
from .kernel_support import CONFIG, config_text, kernel_cna_record, make_build_dir, make_source_tree, write
from timesys_ci.cli import main
from timesys_ci.outputs.json_report import load_schema

SARIF_SCHEMA = REPO_ROOT / "tests" / "fixtures" / "gate" / "sarif-schema-2.1.0.json"
# Real-shaped kernel CNA records, all affecting 6.6.21 (fixed in 6.6.79), with the files they name.
RECORDS = {
    "CVE-2025-90001": ["block/partitions/mac.c"],  # CONFIG_MAC_PARTITION unset: set aside
    "CVE-2025-90002": ["drivers/usb/hub.c", "drivers/usb/usb.c"],  # CONFIG_USB unset: set aside
    "CVE-2025-90003": ["block/bfq-iosched.c"],  # compiled: kept
    "CVE-2025-90004": ["include/uapi/linux/io_uring.h"],  # a header no compiled unit includes: set aside
    "CVE-2025-90005": ["Documentation/block/mac.rst", "block/partitions/atari.c"],  # undecidable file: kept
}
SET_ASIDE = {"CVE-2025-90001", "CVE-2025-90002", "CVE-2025-90004"}
KERNEL_VERSION = "6.6.21+git"


def kernel_manifest(path: Path) -> Path:
    """A Vigiles manifest of an image whose only package is the kernel."""
    manifest = {"manifest_name": "kernel-image", "manifest_version": "1.19", "distro": "scarthgap",
                "image": "kernel-image", "machine": "qemux86-64", "date": "2025-07-28T17:09:52+00:00",
                "packages": {"linux-yocto": {
                    "name": "linux-yocto", "version": KERNEL_VERSION, "cve_product": "linux_kernel",
                    "cve_version": "6.6.21", "cpe_id": ["cpe:2.3:*:*:linux_kernel:6.6.21:*:*:*:*:*:*:*"],
                    "license": "GPL-2.0-only", "patched_cves": {}, "component_type": ["component"]}}}
    return write(path, json.dumps(manifest))


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A kernel build, the kernel CNA records imported into a data dir (`service import-vulns`), a manifest."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TIMESYS_CI_CACHE", str(tmp_path / "cache"))
    for name in ("TIMESYS_CI_KERNEL_BUILD_DIR", "TIMESYS_CI_KERNEL_SOURCE_DIR", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    source = make_source_tree(tmp_path / "kernel-source")
    records = tmp_path / "records"
    for cve_id, files in RECORDS.items():
        write(records / f"{cve_id}.json", json.dumps(kernel_cna_record(cve_id, files)))
    data = tmp_path / "data"
    from timesys_ci.vulndb.importer import import_paths
    from timesys_ci.vulndb.store import VulnStore

    store = VulnStore(data / "vulndb.sqlite3")  # not empty, so the service does not add the bundled sample
    import_paths(store, [records])
    store.close()
    return {"dir": tmp_path, "source": source, "build": make_build_dir(tmp_path / "build", source_dir=source),
            "records": records, "data": data, "manifest": kernel_manifest(tmp_path / "kernel-image.json")}


def upload(*args: Any) -> int:
    return main(["upload", *map(str, args)])


def test_local_upload_sets_aside_what_was_not_compiled_and_gates_the_rest(
        kernel: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    out = kernel["dir"] / "out"
    common = [kernel["manifest"], "--local", "--local-data", kernel["data"], "--fail-on", "high"]
    assert upload(*common, "--json", out / "before.json") == 1  # every kernel CVE is high
    before = json.loads((out / "before.json").read_text())
    assert {f["cve_id"] for f in before["findings"] if f["outcome"] == "fail"} >= set(RECORDS)
    assert before["kernel_triage"] is None
    capsys.readouterr()

    code = upload(*common, "--kernel-build-dir", kernel["build"], "--json", out / "gate.json",
                  "--sarif", out / "gate.sarif", "--markdown", out / "gate.md", "--save-report", out / "report.json")
    summary = capsys.readouterr().out
    document = json.loads((out / "gate.json").read_text())
    jsonschema.validate(document, load_schema())
    triage = document["kernel_triage"]
    assert {cve["cve_id"] for cve in triage["set_aside"]} == SET_ASIDE
    assert triage["counts"]["set_aside"] == 3 and triage["counts"]["compiled"] == 1
    assert triage["counts"]["unknown"] == 1 and triage["applied"] is None
    assert triage["file_data"] == f"the vulnerability database {kernel['data'] / 'vulndb.sqlite3'}"
    assert triage["evidence"][0].startswith(f"kbuild-cmd (strong) from {kernel['build']}")
    failing = {f["cve_id"] for f in document["findings"] if f["outcome"] == "fail"}
    assert failing & set(RECORDS) == {"CVE-2025-90003", "CVE-2025-90005"}  # the gate counts only the rest
    ignored = {f["cve_id"]: f for f in document["findings"] if f["outcome"] == "ignored"}
    assert SET_ASIDE <= set(ignored) and ignored["CVE-2025-90001"]["vuln_status"] == "not_affected"
    assert code == 1 and f"Gate: FAIL, {len(failing)} finding(s)" in summary
    # The summary says how many and why.
    assert "kernel triage: " in summary and "3 set aside as not_affected (code_not_present)" in summary
    assert "CVE-2025-90001 linux-yocto 6.6.21+git: not compiled: block/partitions/mac.c" in summary
    assert "statuses not written to the service (--apply-triage writes them)" in summary
    # SARIF: the set-aside CVEs are suppressed results with the reason; Markdown lists them.
    sarif = json.loads((out / "gate.sarif").read_text())
    jsonschema.Draft202012Validator(json.loads(SARIF_SCHEMA.read_text())).validate(sarif)
    results = {r["ruleId"]: r for r in sarif["runs"][0]["results"]}
    assert results["CVE-2025-90002"]["suppressions"][0]["justification"].startswith(
        "kernel triage, code_not_present: not compiled: drivers/usb/hub.c, drivers/usb/usb.c")
    assert results["CVE-2025-90003"]["level"] == "error" and "suppressions" not in results["CVE-2025-90003"]
    assert sarif["runs"][0]["properties"]["kernelTriage"]["setAside"] == 3
    markdown = (out / "gate.md").read_text()
    assert "**Kernel triage:**" in markdown and "| [CVE-2025-90004](" in markdown
    # The saved report is the triaged one: `gate` on it agrees with the upload.
    saved = json.loads((out / "report.json").read_text())
    assert saved["kernel_triage"]["counts"]["set_aside"] == 3
    assert main(["gate", str(out / "report.json"), "--fail-on", "high", "--json", str(out / "again.json")]) == 1
    again = json.loads((out / "again.json").read_text())
    assert {f["cve_id"] for f in again["findings"] if f["outcome"] == "fail"} == failing
    assert {cve["cve_id"] for cve in again["kernel_triage"]["set_aside"]} == SET_ASIDE  # and says why
    assert again["kernel_triage"]["counts"] == triage["counts"]


def test_gate_passes_once_the_uncompiled_cves_are_set_aside(kernel: dict[str, Path]) -> None:
    out = kernel["dir"] / "gate.json"
    args = [kernel["manifest"], "--local", "--local-data", kernel["data"], "--fail-on", "high",
            "--kernel-build-dir", kernel["build"], "--json", out]
    # Waive the two kept CVEs: what is left after triage passes.
    policy = write(kernel["dir"] / "policy.toml", "".join(
        f'[[waivers]]\nid = "{cve}"\nreason = "reviewed"\nexpires = 2099-01-01\n\n'
        for cve in ("CVE-2025-90003", "CVE-2025-90005")))
    assert upload(*args, "--policy", policy) == 0
    assert json.loads(out.read_text())["gate"]["waived"] == 2
    assert upload(*args[:6], "--policy", policy, "--json", out) == 1  # without triage it fails
    assert {f["cve_id"] for f in json.loads(out.read_text())["findings"] if f["outcome"] == "fail"} == SET_ASIDE


def test_apply_triage_writes_statuses_and_the_rescan_agrees(kernel: dict[str, Path], local_vigiles: LocalVigiles,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A report from a service that is not the embedded one (the real Vigiles' place), file data from a data dir."""
    # The service must know the records to report them; the client's file data is the separate data dir.
    from timesys_ci.vulndb.importer import import_paths

    import_paths(local_vigiles.storage.vulns, [kernel["records"]])
    key = local_vigiles.add_user("kernel@example.com")
    out = kernel["dir"] / "gate.json"
    base = ["--key-file", str(key), "upload", str(kernel["manifest"]), "--fail-on", "high",
            "--kernel-build-dir", str(kernel["build"]), "--kernel-data", str(kernel["data"]), "--json", str(out)]
    assert main(base) == 1
    first = json.loads(out.read_text())
    token = first["report"]["manifest_token"]
    client = timesys.LLAPI(key_file_path=key)
    previous, timesys.llapi = timesys.llapi, client
    try:
        status = cves.get_vuln_status("CVE-2025-90001", "linux-yocto", KERNEL_VERSION, token)
        assert status["status"] is None  # without --apply-triage nothing is written

        capsys.readouterr()
        assert main(base + ["--apply-triage"]) == 1
        applied = json.loads(out.read_text())
        assert applied["kernel_triage"]["applied"] == 3
        assert "3 status(es) written to the service (--apply-triage)" in capsys.readouterr().out
        token = applied["report"]["manifest_token"]
        for cve_id in SET_ASIDE:
            status = cves.get_vuln_status(cve_id, "linux-yocto", KERNEL_VERSION, token)
            assert (status["status"], status["justification"], status["scope"]) == (
                "not_affected", "code_not_present", "manifest")
            assert status["detail"].startswith("timesys-ci kernel triage: not compiled: ")
            assert "kbuild-cmd (strong)" in status["detail"]
        kept = cves.get_vuln_status("CVE-2025-90003", "linux-yocto", KERNEL_VERSION, token)
        assert kept["status"] is None
        # The next rescan agrees: the dashboard's report has them not affected, whitelisted.
        rescan = manifests.rescan_manifest(token)
        entries = {entry["cve_id"]: entry for entry in rescan["cves"]["linux-yocto"]}
        for cve_id in SET_ASIDE:
            assert (entries[cve_id]["vuln_status"], entries[cve_id]["category"]) == ("not_affected", "whitelisted")
        assert entries["CVE-2025-90003"]["vuln_status"] is None
    finally:
        timesys.llapi = previous
        client.close()
    saved = write(kernel["dir"] / "rescan.json", json.dumps(rescan))
    assert main(["gate", str(saved), "--fail-on", "high", "--json", str(out)]) == 1
    failing = {f["cve_id"] for f in json.loads(out.read_text())["findings"] if f["outcome"] == "fail"}
    assert failing & set(RECORDS) == {"CVE-2025-90003", "CVE-2025-90005"}


def test_no_file_data_is_said_plainly(kernel: dict[str, Path], local_vigiles: LocalVigiles,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from timesys_ci.vulndb.importer import import_paths
    from timesys_ci.vulndb.store import VulnStore

    import_paths(local_vigiles.storage.vulns, [kernel["records"]])
    key = str(local_vigiles.add_user("nodata@example.com"))
    empty = kernel["dir"] / "empty"
    VulnStore(empty / "vulndb.sqlite3").close()
    out = kernel["dir"] / "gate.json"
    args = ["--key-file", key, "upload", str(kernel["manifest"]), "--kernel-build-dir", str(kernel["build"]),
            "--fail-on", "high"]
    assert main(args + ["--kernel-data", str(empty), "--json", str(out)]) == 1
    document = json.loads(out.read_text())
    counts = document["kernel_triage"]["counts"]
    assert counts["no_file_data"] == counts["triaged"] >= len(RECORDS) and counts["set_aside"] == 0
    assert any(warning.startswith(f"kernel triage: no kernel CNA file data in the vulnerability database "
                                  f"{empty / 'vulndb.sqlite3'} for any of the {counts['triaged']} open kernel CVE(s); run "
                                  f"`timesys-ci db update`") for warning in document["warnings"])
    capsys.readouterr()
    # No database at all in the default data dir (a real-service user who never ran `db update`).
    assert main(args) == 1
    summary = capsys.readouterr().out
    assert (f"warning: kernel triage: no vulnerability database (vulndb.sqlite3) in "
            f"{kernel['dir'] / 'cache' / 'local-service'}; run `timesys-ci db update`; no kernel CVE was set "
            f"aside") in summary


def test_kernel_config_evidence_and_a_differing_uploaded_config(kernel: dict[str, Path],
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Without the build directory, the uploaded --kernel-config is the .config evaluated against Kbuild; a config
    that is not the build's is named."""
    config = write(kernel["dir"] / "linux.config", config_text())
    out = kernel["dir"] / "gate.json"
    args = [kernel["manifest"], "--local", "--local-data", kernel["data"], "--fail-on", "none", "--json", out]
    assert upload(*args, "--kernel-source-dir", kernel["source"], "--kernel-config", config) == 0
    document = json.loads(out.read_text())
    assert document["kernel_triage"]["evidence"][0].startswith("kconfig-kbuild (weak)")
    # The service could not filter by the uploaded config; the client's triage did.
    assert any(note.startswith("the service applied no --kernel-config filter: ") and
               note.endswith("(kernel triage here set aside 2)") for note in document["notes"])
    # Kbuild shows mac.c and the USB files are not built; never headers (kept: undecided).
    assert {c["cve_id"] for c in document["kernel_triage"]["set_aside"]} == {"CVE-2025-90001", "CVE-2025-90002"}
    other = write(kernel["dir"] / "other.config", config_text(dict(CONFIG, CONFIG_USB="y")))
    assert upload(*args, "--kernel-build-dir", kernel["build"], "--kernel-config", other) == 0
    warnings = json.loads(out.read_text())["warnings"]
    assert any(f"the uploaded --kernel-config {other} is not the kernel build's {kernel['build'] / '.config'} "
               f"(1 option(s) differ, e.g. CONFIG_USB)" in warning for warning in warnings)


@pytest.mark.parametrize("args, message", [
    (["--apply-triage"], "--apply-triage needs kernel evidence"),
    (["--kernel-data", "{data}"], "--kernel-data needs kernel evidence"),
    (["--kernel-build-dir", "{dir}/missing"], "--kernel-build-dir: not a directory"),
    (["--kernel-build-dir", "{build}", "--kernel-data", "{dir}"], "--kernel-data {dir}: no vulnerability database"),
    (["--kernel-build-dir", "{build}", "--kernel-data", "{data}", "--kernel-cve-records", "{records}"],
     "give one source of kernel file data"),
    (["--kernel-build-dir", "{build}", "--kernel-cve-records", "{dir}/missing"],
     "--cve-records: no such file or directory"),
    (["--kernel-build-dir", "{build}", "--upload-only"], "--kernel-build-dir does nothing with --upload-only"),
])
def test_bad_kernel_options_exit_2_before_anything_is_sent(kernel: dict[str, Path], local_vigiles: LocalVigiles,
                                                          capsys: pytest.CaptureFixture[str], args: list[str],
                                                          message: str) -> None:
    key = local_vigiles.add_user()
    values = {name: str(path) for name, path in kernel.items()}
    assert main(["--key-file", str(key), "upload", str(kernel["manifest"]),
                 *(arg.format(**values) for arg in args)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("timesys-ci: error: ") and message.format(**values) in err and err.count("\n") == 1
    client = timesys.LLAPI(key_file_path=key)
    try:
        assert endpoints.MANIFESTS_LIST.call(client=client) == []  # nothing was uploaded
    finally:
        client.close()


def test_kernel_cve_records_instead_of_a_database(kernel: dict[str, Path]) -> None:
    out = kernel["dir"] / "gate.json"
    assert upload(kernel["manifest"], "--local", "--local-data", kernel["data"], "--fail-on", "none",
                  "--kernel-build-dir", kernel["build"], "--kernel-cve-records", kernel["records"],
                  "--json", out) == 0
    triage = json.loads(out.read_text())["kernel_triage"]
    assert triage["file_data"] == f"5 CVE record file(s) under {kernel['records']}"
    assert triage["counts"]["set_aside"] == 3


def test_subprocess_exit_statuses_and_github_outputs(kernel: dict[str, Path]) -> None:
    outputs, summary = kernel["dir"] / "github-output", kernel["dir"] / "step-summary.md"
    env = {"TIMESYS_CI_CACHE": str(kernel["dir"] / "cache"), "GITHUB_ACTIONS": "true",
           "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary)}
    run = run_cli("upload", str(kernel["manifest"]), "--local", "--local-data", str(kernel["data"]),
                  "--kernel-build-dir", str(kernel["build"]), "--fail-on", "high", home=kernel["dir"], env=env)
    assert run.returncode == 1, run.stderr
    assert "kernel-set-aside=3\n" in outputs.read_text()
    assert "**Kernel triage:** 5 kernel CVE(s) matched, 3 set aside" in summary.read_text()
    usage = run_cli("upload", str(kernel["manifest"]), "--local", "--kernel-build-dir", str(kernel["dir"] / "no"),
                    home=kernel["dir"], env=env)
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def local_data_with_records(cache: Path, records: Path) -> None:
    """The `--local` data dir (`$TIMESYS_CI_CACHE/local-service`) holding the kernel CNA records."""
    from timesys_ci.vulndb.importer import import_paths
    from timesys_ci.vulndb.store import VulnStore

    store = VulnStore(cache / "local-service" / "vulndb.sqlite3")
    import_paths(store, [records])
    store.close()


def test_yocto_entry_triages_the_kernel_it_finds(kernel: dict[str, Path]) -> None:
    """`timesys_ci yocto` finds B and S under tmp/ and passes them to upload, which sets aside what B did not build."""
    from .buildsystems_support import IMAGE, make_meta_timesys_tree
    from .test_kernel_discovery import MACHINE, yocto_kernel_layout

    top = kernel["dir"] / "poky-build"
    layout = yocto_kernel_layout(top)
    make_meta_timesys_tree(top, manifest=kernel["manifest"])
    local_data_with_records(kernel["dir"] / "cache", kernel["records"])
    out = kernel["dir"] / "yocto.json"
    env = {"TIMESYS_CI_CACHE": str(kernel["dir"] / "cache"), "TIMESYS_CI_LOCAL": "1", "TIMESYS_CI_JSON": str(out),
           "TIMESYS_CI_FAIL_ON": "high"}
    run = run_cli("yocto", "--build-dir", str(top), "--image", IMAGE, "--machine", MACHINE, home=kernel["dir"],
                  env=env)
    assert run.returncode == 1, run.stderr  # the kept kernel CVEs are high
    triage = json.loads(out.read_text())["kernel_triage"]
    assert {cve["cve_id"] for cve in triage["set_aside"]} == SET_ASIDE
    assert triage["evidence"][0].startswith(f"kbuild-cmd (strong) from {layout['build']}")
    # Without the kernel's build directory (rm_work), the sources and the uploaded kernel config decide.
    rm_work = kernel["dir"] / "rm-work-build"
    yocto_kernel_layout(rm_work, rm_work=True)
    make_meta_timesys_tree(rm_work, manifest=kernel["manifest"])
    run = run_cli("yocto", "--build-dir", str(rm_work), "--image", IMAGE, "--machine", MACHINE, home=kernel["dir"],
                  env={**env, "VIGILES_KERNEL_CONFIG": "none"})
    assert run.returncode == 1, run.stderr
    triage = json.loads(out.read_text())["kernel_triage"]
    assert triage["evidence"][0].startswith("kconfig-kbuild (weak)")
    assert {cve["cve_id"] for cve in triage["set_aside"]} == {"CVE-2025-90001", "CVE-2025-90002"}  # no headers


def test_buildroot_entry_triages_the_in_tree_kernel_build(kernel: dict[str, Path]) -> None:
    from .buildsystems_support import make_buildroot_output

    home = kernel["dir"] / "br-home"
    br_env = make_buildroot_output(kernel["dir"] / "output", with_manifest=False, home=home)
    linux = kernel["dir"] / "output" / "build" / "linux-custom"
    make_source_tree(linux, version="6.1.44")
    make_build_dir(linux, release="6.1.44")
    local_data_with_records(kernel["dir"] / "cache", kernel["records"])
    out = kernel["dir"] / "buildroot.json"
    env = {**{k: v for k, v in br_env.items() if k != "HOME"}, "TIMESYS_CI_CACHE": str(kernel["dir"] / "cache"),
           "TIMESYS_CI_LOCAL": "1", "TIMESYS_CI_JSON": str(out), "TIMESYS_CI_FAIL_ON": "high",
           "TIMESYS_CI_SHOW_INFO": str(REPO_ROOT / "tests" / "fixtures" / "buildsystems" / "show-info.json")}
    run = run_cli("buildroot", home=home, env=env)
    assert run.returncode == 1, run.stderr  # the kept kernel CVEs are high
    triage = json.loads(out.read_text())["kernel_triage"]
    assert {cve["cve_id"] for cve in triage["set_aside"]} == SET_ASIDE, triage

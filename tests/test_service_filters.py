"""The local service says, in every report, what it did with kernel_config, uboot_config and filter_results."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import timesys
from timesys.vigiles import manifests

from .cli_helpers import REPO_ROOT
from .conftest import LocalVigiles
from .kernel_support import config_text
from timesys_ci.cli import main
from timesys_ci.service.filters import FILTER_RESULTS_REASON, KERNEL_CONFIG_REASON, UBOOT_CONFIG_REASON

EXAMPLE = REPO_ROOT / "examples" / "core-image-minimal.vigiles.json"


def test_every_report_states_the_filters(configured: timesys.LLAPI) -> None:
    text = EXAMPLE.read_text()
    plain = manifests.upload_manifest(text, manifest_name="plain")
    assert plain["filters"] == {
        "kernel_config": {"requested": False, "applied": False, "reason": "no kernel config was uploaded"},
        "uboot_config": {"requested": False, "applied": False, "reason": "no U-Boot config was uploaded"},
        "filter_results": {"requested": False, "applied": False, "reason": "not requested"}}
    configs = manifests.upload_manifest(text, manifest_name="configs", kernel_config=config_text(),
                                        uboot_config="CONFIG_CMD_BOOTM=y\n", filter_results=True)
    assert configs["filters"] == {
        "kernel_config": {"requested": True, "applied": False, "reason": KERNEL_CONFIG_REASON},
        "uboot_config": {"requested": True, "applied": False, "reason": UBOOT_CONFIG_REASON},
        "filter_results": {"requested": True, "applied": False, "reason": FILTER_RESULTS_REASON}}
    # Nothing was filtered: the report is the one without configs, finding for finding.
    assert {p: {e["cve_id"] for e in entries} for p, entries in configs["cves"].items()} == \
        {p: {e["cve_id"] for e in entries} for p, entries in plain["cves"].items()}
    # A rescan and the latest report say it too; filter_results as that request asked.
    token = configs["manifest_token"]
    assert manifests.rescan_manifest(token)["filters"]["kernel_config"]["requested"] is True
    latest = manifests.get_latest_report(token, filter_results=False)
    assert latest["filters"]["filter_results"]["requested"] is False
    assert manifests.get_latest_report(token, filter_results=True)["filters"]["filter_results"] == {
        "requested": True, "applied": False, "reason": FILTER_RESULTS_REASON}


def test_upload_prints_what_the_service_did_not_apply(local_vigiles: LocalVigiles, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    key = str(local_vigiles.add_user())
    config = tmp_path / "linux.config"
    config.write_text(config_text())
    out = tmp_path / "gate.json"
    assert main(["--key-file", key, "upload", str(EXAMPLE), "--kernel-config", str(config), "--fail-on", "none",
                 "--json", str(out)]) == 0
    notes = json.loads(out.read_text())["notes"]
    assert f"the service applied no --kernel-config filter: {KERNEL_CONFIG_REASON}" in notes
    assert not any("--uboot-config" in note or "--filter-results" in note for note in notes)
    assert main(["--key-file", key, "upload", str(EXAMPLE), "--kernel-config", str(config), "--fail-on", "none"]) == 0
    assert f"note: the service applied no --kernel-config filter: {KERNEL_CONFIG_REASON}" in capsys.readouterr().out

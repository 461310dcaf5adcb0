from __future__ import annotations

import json
from pathlib import Path

import pytest

from .buildsystems_support import IMAGE, fixture, make_buildroot_output, make_meta_timesys_tree
from timesys_ci.buildsystems import entry


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], dict]]:
    calls: list[tuple[list[str], dict]] = []

    def fake_run_upload(args: list[str], env_overrides=None) -> int:
        calls.append((list(args), dict(env_overrides or {})))
        return int(__import__("os").environ.get("FAKE_UPLOAD_EXIT", "0"))

    monkeypatch.setattr(entry, "run_upload", fake_run_upload)
    for name in ("TIMESYS_CI_ON_FAILURE", "VIGILES_MANIFEST_NAME", "VIGILES_DIR", "O", "BASE_DIR", "BR2_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return calls


def test_yocto_print_args(tmp_path: Path, captured: list, capsys: pytest.CaptureFixture[str]) -> None:
    vdir = make_meta_timesys_tree(tmp_path)
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE, "--print-args"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed[0] == str(vdir / f"{IMAGE}-cve.json") and captured == []
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE, "--dry-run-args"]) == 0
    assert json.loads(capsys.readouterr().out) == printed


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_yocto_exit_codes_pass_through(tmp_path: Path, captured: list, monkeypatch: pytest.MonkeyPatch,
                                       code: int) -> None:
    make_meta_timesys_tree(tmp_path)
    monkeypatch.setenv("FAKE_UPLOAD_EXIT", str(code))
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE]) == code
    assert captured[0][0][0].endswith(f"{IMAGE}-cve.json")


def test_warn_mode_from_env_and_flag(tmp_path: Path, captured: list, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    make_meta_timesys_tree(tmp_path)
    monkeypatch.setenv("FAKE_UPLOAD_EXIT", "1")
    monkeypatch.setenv("TIMESYS_CI_ON_FAILURE", "warn")
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE]) == 0
    assert "WARNING: gate failed (exit 1)" in capsys.readouterr().err
    assert captured[-1][0][-2:] == ["--on-service-error", "warn"]
    # The flag overrides the environment.
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE, "--on-failure", "fail"]) == 1


def test_yocto_discovery_error_exit_2(tmp_path: Path, captured: list, capsys: pytest.CaptureFixture[str]) -> None:
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE]) == 2
    err = capsys.readouterr().err
    assert err.startswith("timesys_ci yocto: error: Vigiles manifest or SPDX for image 'core-image-minimal' not found")
    assert err.count("\n") == 1 and captured == []
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE, "--on-failure", "warn"]) == 0


def test_yocto_bad_setting_exit_2(tmp_path: Path, captured: list, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    make_meta_timesys_tree(tmp_path)
    monkeypatch.setenv("TIMESYS_CI_ON_FAILURE", "sometimes")
    assert entry.yocto_main(["--build-dir", str(tmp_path), "--image", IMAGE]) == 2
    assert "TIMESYS_CI_ON_FAILURE: expected 'fail' or 'warn'" in capsys.readouterr().err


def test_yocto_usage_error_is_2(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        entry.yocto_main(["--image", IMAGE])
    assert exit_info.value.code == 2


def test_buildroot_main_options_override_env(tmp_path: Path, captured: list,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    make_buildroot_output(out, with_manifest=False, home=tmp_path / "home")
    assert entry.buildroot_main(["--output-dir", str(out), "--br2-config", str(out / ".config"),
                                 "--show-info", str(fixture("show-info.json")), "--print-args"]) == 0
    args = json.loads(capsys.readouterr().out)
    assert args[0] == str(out / "timesys-ci" / "rpi4-raspberrypi4_64-manifest.json")
    assert entry.buildroot_main(["--output-dir", str(out), "--show-info", str(fixture("show-info.json")),
                                 str(out / "images")]) == 0
    assert captured[-1][0] == args


def test_run_upload_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    """The seam: the CLI's `main(["upload", ARGS])` in this process, with the extra environment for its duration."""
    import os

    from timesys_ci import cli

    monkeypatch.delenv("VIGILES_KEY_FILE", raising=False)
    seen: list[tuple[list[str], "str | None"]] = []

    def recording_main(argv: list[str]) -> int:
        seen.append((list(argv), os.environ.get("VIGILES_KEY_FILE")))
        return 3

    monkeypatch.setattr(cli, "main", recording_main)
    assert entry.run_upload(["m.json", "--fail-on", "high"], {"VIGILES_KEY_FILE": "/k.json"}) == 3
    assert seen == [(["upload", "m.json", "--fail-on", "high"], "/k.json")]
    assert "VIGILES_KEY_FILE" not in os.environ  # restored
    monkeypatch.undo()
    # The real command: a missing manifest is its usage error (2), one line, no traceback.
    assert entry.run_upload([str(tmp_path / "absent.json")]) == 2
    err = capsys.readouterr().err
    assert "absent.json" in err and "Traceback" not in err
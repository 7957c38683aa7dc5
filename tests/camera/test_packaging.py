"""The clips reach an installed wheel, not only an editable install."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIPS = ("video1.h264", "video1s.h264", "audio1.ulaw")


def test_editable_install_finds_the_clips() -> None:
    import importlib.resources

    media = importlib.resources.files("truenprobe") / "media"
    for name in CLIPS:
        assert (media / name).read_bytes() == (ROOT / "fixtures" / "media" / name).read_bytes()


@pytest.mark.slow
def test_wheel_contains_the_clips(tmp_path: Path) -> None:
    # setuptools and wheel come with the test extras, so the build needs no network.
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (wheel,) = tmp_path.glob("truenprobe-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in CLIPS:
        assert f"truenprobe/media/{name}" in names
    assert "truenprobe/testing/pytest_plugin.py" in names

"""Passwords stay out of `check --pcap`'s messages, of `analyze`'s report of that capture
(every format), and of `lab run` given --user/--password (every format).

The capture file itself holds what went over the wire: Digest never sends the password,
but a password a user puts in the URL's query travels in clear, as any sniffer would see;
what truenprobe *says* about the capture must not repeat it.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.robustness.test_secrets import assert_secret_free
from tests.support.tools import require_netns

PASSWORD = "Capture-Secret-77"
CAMERA = "127.0.0.2"
SCENARIO = [
    "--client", "vlc", "--transport", "udp", "--client-port", "5000",
    "--camera-side", "public", "--client-side", "public", "--stream", "video1s",
]  # fmt: skip
_count = itertools.count()


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


@pytest.fixture
def camera_ns(tmp_path: Path) -> Iterator[str]:
    """A namespace of our own with the camera on 127.0.0.2 behind Digest (admin / PASSWORD,
    handed over in the environment), so the recording holds this check's packets only."""
    require_netns()
    ns = f"tp-robust-{os.getpid()}-{next(_count)}"
    subprocess.run(["ip", "netns", "add", ns], check=True, timeout=30)
    log = (tmp_path / "camera.log").open("w")
    proc = None
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True, timeout=30)
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-m", "truenprobe", "camera",
             "--host", CAMERA, "--user", "admin"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "TRUENPROBE_PASSWORD": PASSWORD},
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while "Ready" not in (tmp_path / "camera.log").read_text():
            assert proc.poll() is None, (tmp_path / "camera.log").read_text()
            assert time.monotonic() < deadline, "the camera did not start in 30 s"
            time.sleep(0.05)  # a log file has nothing to wait on; bounded by the deadline
        yield ns
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        log.close()
        assert_secret_free((tmp_path / "camera.log").read_text(), PASSWORD)
        subprocess.run(["ip", "netns", "del", ns], check=False, timeout=30)


def report_files(folder: Path, stem: str) -> tuple[list[str], list[Path]]:
    files = [folder / f"{stem}.xml", folder / f"{stem}.md", folder / f"{stem}.html"]
    args = ["--junit", str(files[0]), "--markdown", str(files[1]), "--html", str(files[2])]
    return args, files


@pytest.mark.netns
@pytest.mark.timeout(300)
def test_check_pcap_and_its_analysis_never_show_the_password(
    camera_ns: str, tmp_path: Path
) -> None:
    checks = {
        # The password from the environment: a pass, recorded.
        "env": ([CAMERA, "--user", "admin"], {**os.environ, "TRUENPROBE_PASSWORD": PASSWORD}),
        # In the URL, twice: as user info and in a query (to a path the camera has not).
        "url": ([f"rtsp://admin:{PASSWORD}@{CAMERA}:554/nope?password={PASSWORD}"], None),
    }
    outputs: list[str] = []
    for name, (camera, env) in checks.items():
        pcap = tmp_path / f"{name}.pcap"
        files_args, files = report_files(tmp_path, f"check-{name}")
        done = run(
            "ip", "netns", "exec", camera_ns, sys.executable, "-m", "truenprobe", "check",
            *camera, *SCENARIO, "--timeout", "3", "--pcap", str(pcap), "--format", "json",
            *files_args, env=env,
        )  # fmt: skip
        assert done.returncode == (0 if name == "env" else 1), done.stdout + done.stderr
        assert "recorded " in done.stderr
        outputs += [done.stdout, done.stderr, *(f.read_text() for f in files)]
        for fmt in ("json", "table"):
            files_args, files = report_files(tmp_path, f"analyze-{name}-{fmt}")
            analyzed = run(
                sys.executable, "-m", "truenprobe", "analyze", str(pcap), "--camera", CAMERA,
                *SCENARIO, "--format", fmt, *files_args,
            )  # fmt: skip
            assert analyzed.returncode == done.returncode, analyzed.stdout + analyzed.stderr
            outputs += [analyzed.stdout, analyzed.stderr, *(f.read_text() for f in files)]
    for text in outputs:
        assert_secret_free(text, PASSWORD)


@pytest.mark.netns
@pytest.mark.timeout(300)
@pytest.mark.parametrize("given", ["option", "environment"])
def test_lab_run_never_shows_the_password(given: str, tmp_path: Path) -> None:
    require_netns()
    env = {**os.environ}
    credentials = ["--user", "admin"]
    if given == "option":
        credentials += ["--password", PASSWORD]
    else:
        env["TRUENPROBE_PASSWORD"] = PASSWORD
    files_args, files = report_files(tmp_path, "lab")
    done = run(
        sys.executable, "-m", "truenprobe", "lab", "run", "--client", "vlc", "--transport",
        "tcp", *credentials, "--format", "json", *files_args, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"verdict": "pass"' in done.stdout  # the password reached the camera and the check
    for text in [done.stdout, done.stderr, *(f.read_text() for f in files)]:
        assert_secret_free(text, PASSWORD)

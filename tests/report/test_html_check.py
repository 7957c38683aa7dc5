"""`--html FILE` through the real entry point, against the emulated camera on loopback, then
opened in Chromium: what an installer would attach to a ticket."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.report.html_dom import ARROWS_JS, LAYOUT_JS, rgb
from tests.support.chromium import Chromium
from truenprobe.report.svg import COLOUR, Ink
from truenprobe.testing import running_camera

Cli = Callable[..., subprocess.CompletedProcess[str]]
HOST = "127.0.0.1"
SECRET = "s3cret-pa55"

pytestmark = pytest.mark.peer


@pytest.fixture(scope="module")
def camera() -> Iterator[object]:
    with running_camera(host=HOST, user="admin", password=SECRET) as cam:
        yield cam


def closed_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def drawn(browser: Chromium, page: Path) -> dict[str, str]:
    load = browser.load(page)
    assert load.errors() == []
    assert load.requests == [page.resolve().as_uri()]
    assert browser.evaluate(LAYOUT_JS) == []
    arrows = browser.evaluate(ARROWS_JS)
    for arrow in arrows:
        assert arrow["stroke"] == rgb(COLOUR[Ink(arrow["status"])])
    return {a["flow"]: a["status"] for a in arrows}


def test_check_that_passes(cli: Cli, camera: object, browser: Chromium, artifacts: Path) -> None:
    out = artifacts / "check-vlc-tcp-pass.html"
    done = cli(
        "check", HOST, "--client", "vlc", "--transport", "tcp",
        "--camera-side", "public", "--client-side", "public",
        "--rtsp-port", str(camera.rtsp_port),  # type: ignore[attr-defined]
        "--user", "admin", "--password", SECRET,
        "--timeout", "10", "--format", "json", "--html", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    verdicts = {r["flow"]: r["status"] for r in json.loads(done.stdout)["results"]}
    assert drawn(browser, out) == verdicts
    assert set(verdicts.values()) == {"pass"}
    page = out.read_text(encoding="utf-8")
    assert SECRET not in page
    assert "--password &#x27;&lt;redacted&gt;&#x27;" in page
    browser.screenshot(out.with_suffix(".png"))


def test_check_that_fails_marks_the_forward_to_add(
    cli: Cli, camera: object, browser: Chromium, artifacts: Path
) -> None:
    out = artifacts / "check-web-fail.html"
    base = closed_port()
    done = cli(
        "check", HOST, "--client", "web",
        "--http-port", str(camera.http_port),  # type: ignore[attr-defined]
        "--base-port", str(base),
        "--timeout", "2", "--format", "json", "--html", str(out),
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    results = json.loads(done.stdout)["results"]
    assert drawn(browser, out) == {"http": "pass", "base-control": "fail"}
    failed = next(r for r in results if r["flow"] == "base-control")
    assert failed["forward"]["ports"] == [base, base]
    missing = browser.evaluate(
        "[...document.querySelectorAll('g.forward[data-status=missing] text')]"
        ".map(t => t.textContent)"
    )
    assert missing == [f"✗ #2 TCP {base} → camera", "▲ missing? add this rule"]
    fixes = browser.evaluate("document.querySelector('.fixes').innerText")
    assert f"forward TCP {base} to the camera" in fixes
    browser.screenshot(out.with_suffix(".png"))

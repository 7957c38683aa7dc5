"""Passwords given on the command line or in URLs never appear in any output.

`truenprobe check` against a camera behind Digest, the password given every way a user
can (URL user info, --password, --password=, a secret query parameter, an inventory), with
every output format (table, JSON, JUnit, markdown, HTML) and the error paths; and the
emulated camera's own output (summary, --verbose log, status page) while clients send it
credentials every way they can.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.camera.rtsp_client import RawClient
from tests.probe.probe_helpers import free_rtsp_port
from tests.robustness.camera_load import Target, status_page
from truenprobe.rtsp import DigestChallenge, authorization_for, parse_challenges
from truenprobe.testing.threaded import running_camera

PASSWORD = "Tr0ub4dor&3-Secret"
ODD_PASSWORD = "p@ss:w/rd%Secret"  # needs percent-encoding in a URL
CAMERA = "127.0.13.1"
LOGGING_CAMERA = "127.0.13.2"


def forms_of(password: str) -> list[str]:
    """Every way a password could leak: as is, URL-encoded, in a Basic header."""
    basic = base64.b64encode(f"admin:{password}".encode()).decode()
    return [password, quote(password, safe=""), basic]


def assert_secret_free(text: str, password: str = PASSWORD) -> None:
    for form in forms_of(password):
        assert form not in text, f"{form!r} leaked: ...{text[max(0, text.find(form) - 80) :][:200]}"


def run(
    *args: str, timeout: float = 60, password_env: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    env.pop("TRUENPROBE_PASSWORD", None)
    if password_env is not None:
        env["TRUENPROBE_PASSWORD"] = password_env
    return subprocess.run(
        [sys.executable, "-m", "truenprobe", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )


@pytest.fixture(scope="module")
def digest_camera() -> Iterator[tuple[int, int]]:
    """A camera behind Digest (admin / PASSWORD), and a free client port for VLC plans."""
    with running_camera(host=CAMERA, user="admin", password=PASSWORD) as cam:
        yield cam.rtsp_port, free_rtsp_port()


def check_args(port: int, client_port: int) -> list[str]:
    return [
        "--client", "vlc", "--transport", "udp", "--client-port", str(client_port),
        "--rtsp-port", str(port), "--camera-side", "public", "--timeout", "2",
    ]  # fmt: skip


CREDENTIALS = {
    "url-user-info": lambda port, pw: [f"rtsp://admin:{quote(pw, safe='')}@{CAMERA}:{port}/video1"],
    "password-option": lambda port, pw: [CAMERA, "--user", "admin", "--password", pw],
    "environment": lambda port, pw: [CAMERA, "--user", "admin"],  # TRUENPROBE_PASSWORD
    "password-equals": lambda port, pw: [CAMERA, "--user=admin", f"--password={pw}"],
    "user-colon-password": lambda port, pw: [CAMERA, "--user", f"admin:{pw}", "--password", pw],
    "query-parameter": lambda port, pw: [
        f"rtsp://{CAMERA}:{port}/nope?user=admin&password={quote(pw, safe='')}",
        "--user", "admin", "--password", pw,
    ],
    "wrong-password-in-url": lambda port, pw: [
        f"rtsp://admin:{quote(pw + 'x', safe='')}@{CAMERA}:{port}/video1"
    ],
}  # fmt: skip


# The camera knows one password; one that needs percent-encoding is tried in URLs (where
# the camera rejects it, which is fine: the outputs are what is checked).
CASES = [(form, PASSWORD) for form in CREDENTIALS]
CASES += [("url-user-info", ODD_PASSWORD), ("query-parameter", ODD_PASSWORD)]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("form", "password"),
    CASES,
    ids=[f"{f}-{'odd' if p == ODD_PASSWORD else 'plain'}" for f, p in CASES],
)
def test_check_never_shows_the_password(
    digest_camera: tuple[int, int], tmp_path: Path, form: str, password: str
) -> None:
    port, client_port = digest_camera
    camera_and_credentials = CREDENTIALS[form](port, password)
    files = {fmt: tmp_path / f"report.{fmt}" for fmt in ("xml", "md", "html")}
    base = [*camera_and_credentials, *check_args(port, client_port)]
    env = password if form == "environment" else None
    as_json = run("check", *base, "--format", "json", "--junit", str(files["xml"]),
                  "--markdown", str(files["md"]), "--html", str(files["html"]),
                  password_env=env)  # fmt: skip
    as_table = run("check", *base, "--format", "table", password_env=env)
    assert as_json.returncode in (0, 1, 3), as_json.stderr
    assert "Traceback" not in as_json.stderr + as_table.stderr
    outputs = [as_json.stdout, as_json.stderr, as_table.stdout, as_table.stderr]
    outputs += [path.read_text() for path in files.values()]
    for text in outputs:
        assert_secret_free(text, password)
    if form in ("password-option", "environment"):  # the secret was used, not dropped
        assert as_json.returncode == 0, as_json.stdout


@pytest.mark.parametrize(
    "camera",
    [
        f"rtsp://admin:{PASSWORD}@{CAMERA}:99999/video1",
        f"rtsp://admin:{PASSWORD}@bad_host!/video1",
        f"http://admin:{PASSWORD}@{CAMERA}/video1",
        f"rtsp://admin:{PASSWORD}@/video1",
        f"rtsp://admin:{PASSWORD}@{CAMERA}:554/video1?password={PASSWORD}",
    ],
)
def test_errors_about_the_camera_argument_never_show_the_password(camera: str) -> None:
    done = run("check", camera, "--client", "vlc", "--transport", "tcp", "--rtsp-port", "8554")
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert_secret_free(done.stdout + done.stderr)


@pytest.mark.timeout(120)
def test_a_fleet_never_shows_the_passwords(digest_camera: tuple[int, int], tmp_path: Path) -> None:
    port, client_port = digest_camera
    inventory = tmp_path / "cameras.csv"
    inventory.write_text(
        "name,camera,user,password,client_port\n"
        f"by-column,{CAMERA},admin,{PASSWORD},{client_port}\n"
        f"by-url,rtsp://admin:{quote(PASSWORD, safe='')}@{CAMERA}:{port}/video1,,,{client_port}\n"
        f"wrong,{CAMERA},admin,{PASSWORD}-wrong,{client_port}\n"
    )
    files = [tmp_path / "fleet.xml", tmp_path / "fleet.md", tmp_path / "fleet.html"]
    common = ["--inventory", str(inventory), "--client", "vlc", "--transport", "udp"]
    common += ["--rtsp-port", str(port), "--camera-side", "public", "--timeout", "2"]
    as_json = run("check", *common, "--format", "json", "--junit", str(files[0]),
                  "--markdown", str(files[1]), "--html", str(files[2]))  # fmt: skip
    as_table = run("check", *common, "--format", "table")
    assert as_json.returncode in (1, 3), as_json.stderr
    assert '"verdict": "pass"' in as_json.stdout  # the right passwords were used
    for text in [as_json.stdout, as_json.stderr, as_table.stdout, as_table.stderr]:
        assert_secret_free(text)
    for path in files:
        assert_secret_free(path.read_text())


# --- the camera's own output -----------------------------------------------------------


async def hostile_and_honest_clients(target: Target) -> str:
    """Send the camera its password every way a client might; return its status page."""
    url = target.url()
    with_user = url.replace("rtsp://", f"rtsp://admin:{PASSWORD}@")
    basic = base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
    raw = [
        f"DESCRIBE {with_user} RTSP/1.0\r\nCSeq: 1\r\nAuthorization: Basic {basic}\r\n\r\n",
        f"DESCRIBE {url}?user=admin&password={PASSWORD} RTSP/1.0\r\nCSeq: 2\r\n\r\n",
        f"DESCRIBE {with_user} RTSP/9.9\r\nCSeq: 3\r\n\r\n",
        f"DESCRIBE {with_user}\r\nCSeq: 4\r\n\r\n",
        f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 5\r\nX-Password {PASSWORD}\r\n\r\n",
        f"DESCRIBE {url}?password={PASSWORD} RTSP/1.0 extra\r\nCSeq: 6\r\n\r\n",
        f"SETUP {with_user}/trackID=1 RTSP/1.0\r\nCSeq: 7\r\nTransport: {PASSWORD}\r\n\r\n",
    ]
    for text in raw:
        client = await RawClient.connect(target.host, target.rtsp_port)
        await client.send_raw(text.encode())
        await client.response()
        await client.close()
    # And an honest client that answers the challenge: the whole session.
    client = await RawClient.connect(target.host, target.rtsp_port)
    header = (await client.request("DESCRIBE", with_user)).headers.get("WWW-Authenticate")
    _scheme, params = parse_challenges(header or "")[0]
    challenge = DigestChallenge.from_params(params)

    def auth(method: str, uri: str) -> dict[str, str]:
        value = authorization_for(
            challenge, username="admin", password=PASSWORD, method=method, uri=uri
        )
        return {"Authorization": value}

    assert (await client.request("DESCRIBE", with_user, auth("DESCRIBE", with_user))).status == 200
    track = with_user + "/trackID=1"
    setup = await client.request(
        "SETUP", track, {**auth("SETUP", track), "Transport": "RTP/AVP/TCP;interleaved=0-1"}
    )
    assert setup.status == 200, setup
    session = (setup.headers.get("Session") or "").split(";")[0]
    play = await client.request("PLAY", with_user, {**auth("PLAY", with_user), "Session": session})
    assert play.status == 200
    page = await status_page(target)
    await client.request("TEARDOWN", with_user, {**auth("TEARDOWN", with_user), "Session": session})
    await client.close()
    return page


@contextmanager
def camera_logging_to(folder: Path, *args: str) -> Iterator[tuple[Target, Path, Path]]:
    """`truenprobe camera ARGS` with stdout and stderr in files (read after it stops)."""
    out, err = folder / "camera.out", folder / "camera.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "truenprobe", "camera", *args],
            stdout=stdout,
            stderr=stderr,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + 30
        while "Ready" not in out.read_text() and process.poll() is None:
            assert time.monotonic() < deadline, err.read_text()
            time.sleep(0.05)  # a file has nothing to wait on; bounded by the deadline
        summary = out.read_text()
        ports = {
            name: int(re.search(pattern, summary).group(1))  # type: ignore[union-attr]
            for name, pattern in (
                ("rtsp", r"RTSP\s+TCP (\d+)"),
                ("http", r"HTTP\s+http://[^:]+:(\d+)/"),
                ("base", r"base port\s+TCP (\d+)"),
            )
        }
        yield Target(LOGGING_CAMERA, ports["rtsp"], ports["http"], ports["base"]), out, err
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("given", ["option", "environment"])
def test_the_camera_never_shows_its_password(
    given: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["--host", LOGGING_CAMERA, "--http-port", "0", "--base-port", "0", "--rtsp-port", "0"]
    args += ["--user", "admin", "--verbose"]
    if given == "option":
        args += ["--password", PASSWORD]
    else:
        monkeypatch.setenv("TRUENPROBE_PASSWORD", PASSWORD)
    with camera_logging_to(tmp_path, *args) as (target, out, err):
        page = asyncio.run(hostile_and_honest_clients(target))
    log = err.read_text()
    assert "Active sessions (1)" in page  # the honest client was playing
    assert "DESCRIBE" in log  # --verbose logged the requests
    assert "bad request" in log  # and the broken ones
    for text in (out.read_text(), log, page):
        assert_secret_free(text)

"""`lab run --user/--password`: the camera requires Digest, the prober is given the
credentials, and the password shows up nowhere (needs root, ip, nft)."""

from __future__ import annotations

import json
import os

import pytest
from tests.support.tools import require_netns

import truenprobe.lab.cell as cell_module
from truenprobe.lab.cell import CellSpec, run_cell
from truenprobe.lab.network import LabNetwork
from truenprobe.plan import build_scenario

pytestmark = [pytest.mark.netns, pytest.mark.slow]

SECRET = "Sup3r s3cret#pw"  # a space and a '#': it must survive the trip intact
DECODER_UDP = ["--client", "decoder", "--protocol", "rtsp", "--transport", "udp"]


@pytest.fixture(autouse=True)
def _needs_netns():
    require_netns()


def test_run_with_credentials_passes_and_never_shows_the_password(cli, tmp_path):
    files = {ext: tmp_path / f"report.{ext}" for ext in ("md", "html", "xml")}
    result = cli(
        "lab", "run", *DECODER_UDP, "--user", "admin", "--password", SECRET,
        "--format", "json", "--markdown", str(files["md"]), "--html", str(files["html"]),
        "--junit", str(files["xml"]), timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "pass"
    for text in (result.stdout, result.stderr, *(f.read_text() for f in files.values())):
        assert SECRET not in text
        assert "Sup3r" not in text
    assert "--password '<redacted>'" in files["md"].read_text()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--user", "admin"], "--user needs --password"),
        (["--password", "x"], "needs --user"),
    ],
)
def test_half_the_credentials_is_one_line(cli, args, words):
    result = cli("lab", "run", *DECODER_UDP, *args, timeout=60)
    assert result.returncode == 2
    assert words in result.stderr
    assert result.stderr.count("\n") == 1


async def test_the_camera_requires_digest_and_the_password_travels_off_the_command_line(
    cell, no_leftovers, monkeypatch
):
    started: list[tuple[str, tuple[str, ...], dict[str, str] | None]] = []
    real_start = LabNetwork.start

    async def spy(self, netns, argv, *, name, env=None):
        started.append((name, tuple(argv), env))
        return await real_start(self, netns, argv, name=name, env=env)

    monkeypatch.setattr(LabNetwork, "start", spy)
    scenario = build_scenario({"client": "decoder", "protocol": "rtsp", "transport": "udp"})
    spec = CellSpec(scenario, user="admin", password=SECRET)
    assert SECRET not in repr(spec)

    result = await run_cell(spec, cell)
    assert result.error is None, result.error
    assert result.report is not None
    assert result.report["verdict"] == "pass"
    by_name = {name: (argv, env) for name, argv, env in started}
    for name in ("camera", "prober"):
        argv, env = by_name[name]
        assert argv[argv.index("--user") + 1] == "admin"
        assert SECRET not in " ".join(argv)
        assert env is not None
        assert env["TRUENPROBE_PASSWORD"] == SECRET
        assert env.get("PATH") == os.environ.get("PATH")  # the rest of the environment stays

    # Without the prober's user the camera's Digest stops the session: it really asks.
    real_prober_argv = cell_module.prober_argv

    def without_user(*args, **kwargs):
        kwargs["user"] = None
        return real_prober_argv(*args, **kwargs)

    monkeypatch.setattr(cell_module, "prober_argv", without_user)
    refused = await run_cell(spec, cell)
    assert refused.report is not None
    assert refused.report["verdict"] == "incomplete"
    rtp = next(r for r in refused.report["results"] if r["flow"] == "rtp-video")
    assert "requires credentials" in rtp["diagnosis"]

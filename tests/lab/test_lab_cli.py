"""`truenprobe lab run|matrix|clean` as a user runs them: the real entry point, end to end
with the emulated camera and the prober in namespaces (needs root, ip, nft)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from tests.support.tools import require_netns, require_tools

from truenprobe.lab.names import parse_netns_name
from truenprobe.lab.system import list_netns, netns_pids
from truenprobe.plan import build_scenario, resolve
from truenprobe.plan.serialize import forward_to_dict, plan_to_dict

pytestmark = [pytest.mark.netns, pytest.mark.slow]

DECODER_UDP = ["--client", "decoder", "--protocol", "rtsp", "--transport", "udp"]
DECODER_PLAN = resolve(
    build_scenario({"client": "decoder", "protocol": "rtsp", "transport": "udp"})
)


@pytest.fixture(autouse=True)
def _needs_netns():
    require_netns()


def _namespaces_of(pid):
    return [ns for ns in list_netns() if (n := parse_netns_name(ns)) and n.pid == pid]


def _lab(cli, *args, timeout=120):
    result = cli("lab", *args, timeout=timeout)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _failed_forwards(report):
    return [r["forward"] for r in report["results"] if r["status"] == "fail"]


def test_run_passes_with_the_plans_forwards(cli):
    result = _lab(cli, "run", "--client", "web", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "pass"
    assert report["camera"] == "203.0.113.10"
    assert [r["number"] for r in report["lab"]["applied"]] == [1, 2]
    assert report["lab"]["omitted"] == []


def test_run_names_the_omitted_forward_and_writes_every_format(cli, tmp_path):
    junit, markdown, html = tmp_path / "r.xml", tmp_path / "r.md", tmp_path / "r.html"
    result = _lab(
        cli, "run", *DECODER_UDP, "--omit-forward", "3", "--format", "json",
        "--junit", str(junit), "--markdown", str(markdown), "--html", str(html),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "fail"
    named = _failed_forwards(report)
    assert named
    assert all(f == forward_to_dict(DECODER_PLAN.forwards[2]) for f in named)
    assert any("#3 omitted on purpose" in f for f in report["findings"])
    assert "<testsuite" in junit.read_text()
    assert "omitted on purpose" in markdown.read_text()
    assert "omitted on purpose" in html.read_text()


def test_run_table_output(cli):
    result = _lab(cli, "run", "--client", "web", "--camera-side", "public", "--format", "table")
    assert result.returncode == 0, result.stderr
    assert "PASS" in result.stdout


def test_a_sites_wrong_rule_is_named_as_the_plans_forward(cli, tmp_path):
    rules = plan_to_dict(DECODER_PLAN)["forwards"]
    rules[2]["to_ip"] = "192.168.0.77"  # the decoder is .100
    path = tmp_path / "router.json"
    path.write_text(json.dumps(rules))
    result = _lab(cli, "run", *DECODER_UDP, "--forwards", str(path), "--format", "json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert set(map(json.dumps, _failed_forwards(report))) == {
        json.dumps(forward_to_dict(DECODER_PLAN.forwards[2]))
    }
    assert report["lab"]["rules_from"] == str(path)


def test_vsnm_media_cells_mark_the_test_aid(cli):
    result = _lab(cli, "run", "--client", "sdk", "--transport", "udp", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert any(f.startswith("lab: test aid:") for f in report["findings"])
    aid = [r for r in report["lab"]["applied"] if r["test_aid"]]
    assert [(r["number"], r["protocol"], r["ports"]) for r in aid] == [(None, "tcp", [554, 554])]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--client", "web", "--omit-forward", "7"], "numbered 1-2"),
        (["--client", "web", "--camera-side", "public", "--client-side", "public",
          "--omit-forward", "1"], "no forwards"),
        (["--client", "web", "--camera-ip", "10.1.1.1"], "192.168.0.0/16"),
        (["--client", "web", "--camera-side", "public", "--client-in-camera-lan"], "private"),
        (["--client", "web", "--forwards", "/nonexistent.json"], "no such file"),
    ],
)  # fmt: skip
def test_bad_options_are_one_line_and_build_nothing(cli, args, words):
    def labs():  # others' tests make namespaces of their own meanwhile
        return {ns for ns in list_netns() if parse_netns_name(ns) is not None}

    before = labs()
    result = _lab(cli, "run", *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert words in result.stderr
    assert labs() <= before


def test_without_root_one_line_and_exit_2():
    require_tools("setpriv")
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         sys.executable, "-m", "truenprobe", "lab", "run", "--client", "web"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "HOME": "/tmp"},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "needs root" in result.stderr


def test_without_ip_and_nft_one_line_and_exit_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "truenprobe", "lab", "clean"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PATH": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "ip (Debian package iproute2)" in result.stderr
    assert "nft (Debian package nftables)" in result.stderr


def _wait_until(predicate, within_s, what):
    deadline = time.monotonic() + within_s
    delay = 0.02
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within_s} s: {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_leaves_nothing(sig):
    # Omitting the client-side forward makes the prober wait for media: a long run.
    proc = subprocess.Popen(
        [sys.executable, "-m", "truenprobe", "lab", "run", *DECODER_UDP,
         "--omit-forward", "3", "--timeout", "20", "--format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    inside: list[int] = []
    try:

        def prober_running():
            spaces = _namespaces_of(proc.pid)
            inside[:] = [pid for ns in spaces for pid in netns_pids(ns)]
            return len(spaces) == 5 and len(inside) >= 2  # camera and prober

        _wait_until(prober_running, 60, "the lab with camera and prober")
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert _namespaces_of(proc.pid) == []
    for pid in inside:
        assert not os.path.exists(f"/proc/{pid}") or _zombie(pid), f"process {pid} survived"


def _zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_keep_then_clean(cli):
    result = _lab(cli, "run", "--client", "web", "--keep", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    kept = report["lab"]["namespaces"]
    try:
        assert set(kept) <= set(list_netns())
        assert "lab clean" in result.stderr
        camera_ns = next(ns for ns in kept if ns.endswith("-cam"))
        camera = netns_pids(camera_ns)
        assert camera  # the camera still runs, for inspection
        cleaned = _lab(cli, "clean")
        assert cleaned.returncode == 0
        for ns in kept:
            assert f"removed {ns}" in cleaned.stdout
        assert not set(kept) & set(list_netns())
        for pid in camera:
            _wait_until(lambda p=pid: _zombie(p), 10, f"camera {pid} gone")
    finally:
        for ns in kept:
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)


def test_matrix_subset_json(cli, tmp_path):
    junit = tmp_path / "m.xml"
    result = _lab(
        cli, "matrix", "--only", "web/-/tcp cam=private cli=private -#",
        "--format", "json", "--junit", str(junit), "--jobs", "3",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["summary"]["cells"] == len(data["cells"]) >= 3
    assert data["summary"]["disagree"] == 0
    assert all(c["expect"] == "fail-naming" for c in data["cells"])
    assert 'failures="0"' in junit.read_text()
    assert "DISAGREE" not in result.stderr


def test_matrix_only_matching_nothing(cli):
    result = _lab(cli, "matrix", "--only", "no-such-cell")
    assert result.returncode == 2
    assert "no cell matches" in result.stderr


def test_no_leftovers_after_the_cli_tests():
    mine = [ns for ns in list_netns() if (n := parse_netns_name(ns)) and n.pid != os.getpid()]
    alive = [ns for ns in mine if os.path.exists(f"/proc/{parse_netns_name(ns).pid}")]
    assert sorted(set(mine) - set(alive)) == [], "leftover namespaces of finished runs"
    assert shutil.which("ip")

"""The plan's outputs: the JSON contract, the people's formats, and router rulesets that
really load (nft in check mode; both nft and iptables applied in a throwaway namespace)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from tests.support.tools import require_netns, require_tools

from truenprobe.plan import build_scenario, resolve
from truenprobe.plan.render_rules import RouterAddresses, render_iptables, render_nft
from truenprobe.plan.render_text import plan_markdown
from truenprobe.plan.serialize import forwards_from_json, plan_to_dict

DECODER_UDP = ["--client", "decoder", "--protocol", "rtsp", "--transport", "udp"]

SCENARIOS = [
    {"client": "web"},
    {"client": "decoder", "protocol": "vsnm", "transport": "udp"},
    {"client": "decoder", "protocol": "rtsp", "transport": "udp"},
    {"client": "sdk", "transport": "udp", "sdk_cameras": 3},
    {"client": "vlc", "transport": "multicast", "stream": "video1+audio1"},
    {
        "client": "vlc",
        "transport": "udp",
        "client_port": 5000,
        "camera_side": "private",
        "client_side": "public",
    },
    {"client": "web", "camera_side": "public", "client_side": "public"},
]


def test_json_contract_keys_and_order(cli):
    result = cli("plan", *DECODER_UDP, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["scenario", "flows", "forwards", "notes"]
    assert list(data["scenario"]) == [
        "client",
        "protocol",
        "transport",
        "camera_side",
        "client_side",
        "http_port",
        "base_port",
        "rtsp_port",
        "stream",
        "sdk_cameras",
        "client_port",
        "client_audio_port",
    ]
    assert data["flows"][0] == {
        "name": "rtsp-control",
        "protocol": "tcp",
        "from": "client",
        "to": "camera",
        "ports": [554, 554],
        "purpose": "RTSP control, and interleaved RTP in TCP mode",
        "required": True,
        "supported": True,
    }
    assert data["forwards"][0] == {
        "router": "camera",
        "protocol": "tcp",
        "ports": [554, 554],
        "to": "camera",
        "to_ports": [554, 554],
        "required": True,
    }


def test_json_is_the_default_when_piped(cli):
    result = cli("plan", *DECODER_UDP)
    assert json.loads(result.stdout)["scenario"]["client"] == "decoder"


def test_json_forwards_read_back_as_a_forwards_file():
    plan = resolve(build_scenario({"client": "decoder", "protocol": "rtsp", "transport": "udp"}))
    again = forwards_from_json(json.loads(json.dumps(plan_to_dict(plan))))
    assert again == plan.forwards  # serves is not part of equality or of the JSON


@pytest.mark.parametrize("fmt", ["table", "markdown", "nft", "iptables", "json"])
def test_every_format_writes_to_a_file(cli, tmp_path, fmt):
    out = tmp_path / f"plan.{fmt}"
    result = cli("plan", *DECODER_UDP, "--format", fmt, "--output", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "554" in text
    assert "\x1b[" not in text  # no terminal colour codes in files


def test_output_to_a_missing_directory_is_one_line(cli, tmp_path):
    result = cli("plan", *DECODER_UDP, "-o", str(tmp_path / "no" / "such" / "file"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1


def test_markdown_is_a_checklist_per_ip_sharer():
    plan = resolve(build_scenario({"client": "decoder", "protocol": "rtsp", "transport": "udp"}))
    md = plan_markdown(plan)
    assert "## Camera-side IP sharer" in md
    assert "## Client-side IP sharer" in md
    assert "- [ ] #1 camera-side IP sharer: forward TCP 554 to the camera" in md
    assert "- [ ] #2 camera-side IP sharer: forward UDP 555 to the camera" in md
    assert "- [ ] #3 client-side IP sharer: forward UDP 554–555 to the decoder" in md


def test_rulesets_mark_placeholders_and_fill_addresses():
    plan = resolve(build_scenario({"client": "decoder", "protocol": "rtsp", "transport": "udp"}))
    text = render_nft(plan)
    assert text.count("CHANGE ME") == 3  # WAN interface, camera address, decoder address
    filled = render_nft(plan, RouterAddresses("192.168.1.20", "192.168.0.30", "wan0"))
    assert "CHANGE ME" not in filled
    assert "define camera_ip = 192.168.1.20" in filled
    assert 'define wan_if = "wan0"' in filled
    assert "udp dport 554-555 dnat to $client_ip" in filled
    ipt = render_iptables(plan, RouterAddresses("192.168.1.20", "192.168.0.30", "wan0"))
    assert "--dport 554:555 -j DNAT --to-destination $CLIENT_IP" in ipt


def test_both_public_renders_no_rules():
    plan = resolve(
        build_scenario({"client": "web", "camera_side": "public", "client_side": "public"})
    )
    assert "nothing to forward" in render_nft(plan)
    assert "iptables -t nat" not in render_iptables(plan)


@pytest.mark.parametrize("options", SCENARIOS, ids=lambda o: "-".join(map(str, o.values())))
def test_nft_output_passes_nft_check(tmp_path, options):
    require_tools("nft")
    if os.geteuid() != 0:
        require_netns()  # nft -c needs CAP_NET_ADMIN
    path = tmp_path / "rules.nft"
    path.write_text(render_nft(resolve(build_scenario(options))))
    check = subprocess.run(
        ["nft", "-c", "-f", str(path)], capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, check.stderr


@pytest.fixture
def scratch_netns():
    """A namespace of our own: rules applied in it touch nothing else on the machine."""
    require_netns()
    name = f"tp-plan-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=30)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, timeout=30)


def test_nft_output_applies_and_is_idempotent(scratch_netns, tmp_path):
    plan = resolve(build_scenario({"client": "decoder", "protocol": "rtsp", "transport": "udp"}))
    path = tmp_path / "rules.nft"
    path.write_text(render_nft(plan, RouterAddresses("192.168.1.20", "192.168.0.30", "wan0")))
    for _ in range(2):  # the second load replaces the first instead of failing or doubling
        subprocess.run(
            ["ip", "netns", "exec", scratch_netns, "nft", "-f", str(path)], check=True, timeout=30
        )
    listing = subprocess.run(
        ["ip", "netns", "exec", scratch_netns, "nft", "list", "ruleset"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert listing.count("dnat to 192.168.1.20") == 2
    assert listing.count("udp dport 554-555 dnat to 192.168.0.30") == 1


def test_iptables_output_applies(scratch_netns, tmp_path):
    require_tools("iptables")
    plan = resolve(build_scenario({"client": "sdk", "transport": "udp", "sdk_cameras": 2}))
    path = tmp_path / "rules.sh"
    path.write_text(render_iptables(plan, RouterAddresses("192.168.1.20", "192.168.0.30", "wan0")))
    subprocess.run(["ip", "netns", "exec", scratch_netns, "sh", str(path)], check=True, timeout=30)
    nat = subprocess.run(
        ["ip", "netns", "exec", scratch_netns, "iptables", "-t", "nat", "-S"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert "--dport 4333:4336 -j DNAT --to-destination 192.168.0.30" in nat
    assert "--dport 2222 -j DNAT --to-destination 192.168.1.20" in nat

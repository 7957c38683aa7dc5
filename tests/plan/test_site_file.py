"""--site FILE: TOML or YAML with the scenario's keys; options given on the command line win."""

from __future__ import annotations

import json

SITE_TOML = """
client = "decoder"
protocol = "rtsp"
transport = "udp"
rtsp-port = 600
camera_side = "private"
client_side = "public"
"""

SITE_YAML = """
client: vlc
transport: udp
client_port: 5000
stream: video1+audio1
client_audio_port: 5002
"""


def _plan(cli, *args):
    result = cli("plan", "--format", "json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_toml_site_file(cli, tmp_path):
    site = tmp_path / "site.toml"
    site.write_text(SITE_TOML)
    plan = _plan(cli, "--site", str(site))
    assert plan["scenario"]["rtsp_port"] == 600
    assert [f["ports"] for f in plan["forwards"]] == [[600, 600]]


def test_yaml_site_file_and_override(cli, tmp_path):
    site = tmp_path / "site.yaml"
    site.write_text(SITE_YAML)
    plan = _plan(cli, "--site", str(site), "--client-port", "6000", "--client-side", "public")
    assert plan["scenario"]["client_port"] == 6000
    assert plan["scenario"]["client_audio_port"] == 5002
    assert plan["scenario"]["client_side"] == "public"


def _one_line_error(cli, *args):
    result = cli("plan", *args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_missing_site_file(cli, tmp_path):
    assert "no such file" in _one_line_error(cli, "--site", str(tmp_path / "nope.toml"))


def test_malformed_toml(cli, tmp_path):
    site = tmp_path / "bad.toml"
    site.write_text("client = \n")
    assert "not valid TOML" in _one_line_error(cli, "--site", str(site))


def test_malformed_yaml(cli, tmp_path):
    site = tmp_path / "bad.yaml"
    site.write_text("client: [vlc\n")
    assert "not valid YAML" in _one_line_error(cli, "--site", str(site))


def test_yaml_that_is_not_a_mapping(cli, tmp_path):
    site = tmp_path / "list.yaml"
    site.write_text("- client\n- vlc\n")
    assert "keys and values" in _one_line_error(cli, "--site", str(site))


def test_unknown_key(cli, tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('client = "web"\ncolour = "red"\n')
    assert "unknown key 'colour'" in _one_line_error(cli, "--site", str(site))


def test_binary_file(cli, tmp_path):
    site = tmp_path / "site.yaml"
    site.write_bytes(b"\xff\xfe\x00garbage")
    assert "site file" in _one_line_error(cli, "--site", str(site))

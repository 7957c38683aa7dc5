"""Which forwards the lab's IP sharers get (pure: no root needed)."""

from __future__ import annotations

import json

import pytest

from truenprobe.errors import InputFileError, ScenarioError
from truenprobe.lab.forwards import (
    load_site_forwards,
    parse_site_forwards,
    select_forwards,
)
from truenprobe.lab.sharer import multicast_route_config, sharer_ruleset
from truenprobe.lab.topology import Place, build_topology
from truenprobe.plan import build_scenario, resolve
from truenprobe.plan.model import Host
from truenprobe.plan.render_rules import render_nft
from truenprobe.plan.serialize import plan_to_dict


def _plan(**options):
    return resolve(build_scenario(options))


def _lab(plan, place=Place.OWN_SIDE):
    s = plan.scenario
    return build_topology(s.camera_side, s.client_side, place=place, pid=1)


DECODER_UDP = {"client": "decoder", "protocol": "rtsp", "transport": "udp"}


def test_the_plans_forwards_numbered_in_plan_order():
    plan = _plan(**DECODER_UDP)
    chosen = select_forwards(plan, _lab(plan))
    assert [r.forward for r in chosen.applied] == list(plan.forwards)
    assert [r.number for r in chosen.applied] == [1, 2, 3]
    assert chosen.omitted == ()
    camera_rules = chosen.for_router(Host.CAMERA)
    assert {r.to_ip for r in camera_rules} == {"192.168.1.100"}
    assert chosen.applied[0].label == "#1 rtsp-control"


def test_omitting_a_forward_removes_exactly_that_one():
    plan = _plan(**DECODER_UDP)
    chosen = select_forwards(plan, _lab(plan), omit=[2])
    assert [r.number for r in chosen.applied] == [1, 3]
    assert [r.forward for r in chosen.omitted] == [plan.forwards[1]]


@pytest.mark.parametrize("bad", [0, 4, -1])
def test_omit_out_of_range_is_one_clear_error(bad):
    plan = _plan(**DECODER_UDP)
    with pytest.raises(ScenarioError, match=r"has 3 forward\(s\), numbered 1-3"):
        select_forwards(plan, _lab(plan), omit=[bad])


def test_omit_when_there_is_nothing_to_omit():
    plan = _plan(**DECODER_UDP, camera_side="public", client_side="public")
    with pytest.raises(ScenarioError, match="no forwards"):
        select_forwards(plan, _lab(plan), omit=[1])


@pytest.mark.parametrize("transport", ["udp", "multicast"])
def test_vsnm_media_cells_get_the_rtsp_test_aid_never_numbered(transport):
    plan = _plan(client="decoder", protocol="vsnm", transport=transport)
    chosen = select_forwards(plan, _lab(plan), omit=[1])
    aid = chosen.test_aids
    assert len(aid) == 1
    assert aid[0].number is None
    assert (aid[0].forward.protocol, aid[0].forward.ports.first) == ("tcp", 554)
    assert "traffic generator" in aid[0].test_aid
    # omitting the base port forward is still an omission: the aid is only 554
    assert all(r.forward.ports.first != 2222 for r in chosen.applied)


def test_no_test_aid_where_rtsp_is_the_protocol_or_camera_public():
    plan = _plan(**DECODER_UDP)
    assert select_forwards(plan, _lab(plan)).test_aids == ()
    plan = _plan(client="sdk", transport="udp", camera_side="public")
    assert select_forwards(plan, _lab(plan)).test_aids == ()


def test_site_file_with_real_targets(tmp_path):
    plan = _plan(**DECODER_UDP)
    data = plan_to_dict(plan)["forwards"]
    data[2]["to_ip"] = "192.168.0.77"  # the site forwards to the wrong LAN address
    path = tmp_path / "router.json"
    path.write_text(json.dumps(data))
    site = load_site_forwards(path)
    chosen = select_forwards(plan, _lab(plan), site=site, site_source=str(path))
    assert chosen.applied[2].to_ip == "192.168.0.77"
    assert chosen.source == str(path)
    ruleset = sharer_ruleset(_lab(plan).sharer(Host.CLIENT), chosen.applied, drop_unforwarded=False)
    assert "dnat to 192.168.0.77" in ruleset


def test_site_file_target_outside_the_lan_is_refused():
    plan = _plan(**DECODER_UDP)
    site = parse_site_forwards(
        [{"router": "client", "protocol": "udp", "ports": [554, 555], "to_ip": "192.168.5.5"}]
    )
    with pytest.raises(InputFileError, match="outside the client's LAN"):
        select_forwards(plan, _lab(plan), site=site)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"nope": 1}, "expected a list"),
        ([{"router": "camera", "protocol": "sctp", "ports": [1, 1]}], "tcp or udp"),
        ([{"router": "camera", "protocol": "tcp", "ports": [1, 1], "to": "client"}], "own"),
        ([{"router": "camera", "protocol": "tcp", "ports": 80, "to_ip": "x"}], "IPv4"),
    ],
)
def test_bad_site_files_are_one_line(data, message):
    with pytest.raises(InputFileError, match=message):
        parse_site_forwards(data)


def test_rules_for_a_sharer_the_lab_does_not_have_are_noted():
    plan = _plan(**DECODER_UDP)
    lab = _lab(plan, Place.CAMERA_LAN)  # the client sits in the camera's LAN: no client sharer
    chosen = select_forwards(plan, lab)
    assert [r.number for r in chosen.applied] == [1, 2]
    assert len(chosen.notes) == 1
    assert "#3" in chosen.notes[0]


def test_multicast_forwards_admit_routed_traffic_instead_of_dnat():
    plan = _plan(client="vlc", transport="multicast")
    chosen = select_forwards(plan, _lab(plan))
    client_rules = chosen.for_router(Host.CLIENT)
    assert client_rules
    assert all(r.multicast for r in client_rules)
    ruleset = sharer_ruleset(_lab(plan).sharer(Host.CLIENT), chosen.applied, drop_unforwarded=False)
    assert "dnat" not in ruleset.split("chain forwarding")[0].split("prerouting", 1)[1]
    assert 'ip daddr 224.0.0.0/4 udp dport 64704 accept comment "#2 multicast-video"' in ruleset
    # the same for what an installer copies
    assert "ip daddr 224.0.0.0/4 udp dport 64704 accept" in render_nft(plan)
    assert "IGMP proxy" in render_nft(plan)


def test_multicast_routes_point_away_from_the_camera():
    plan = _plan(client="decoder", protocol="vsnm", transport="multicast")
    lab = _lab(plan)
    camera_side = multicast_route_config(lab.sharer(Host.CAMERA))
    client_side = multicast_route_config(lab.sharer(Host.CLIENT))
    assert "mroute from lan0 group 224.0.0.0/4 to wan0" in camera_side
    assert "mroute from wan0 group 224.0.0.0/4 to lan0" in client_side


def test_drop_unforwarded_renders_a_silent_sharer():
    plan = _plan(**DECODER_UDP)
    chosen = select_forwards(plan, _lab(plan))
    sharer = _lab(plan).sharer(Host.CAMERA)
    assert "ct state new drop" in sharer_ruleset(sharer, chosen.applied, drop_unforwarded=True)
    assert "ct state new drop" not in sharer_ruleset(sharer, chosen.applied, drop_unforwarded=False)

"""The matrix's cells and how a report is judged against them (pure)."""

from __future__ import annotations

from collections import Counter

import pytest

from truenprobe.lab.cell import camera_argv, prober_argv, scenario_argv
from truenprobe.lab.matrix import Expect, MatrixCell, judge, matrix_cells, select_cells
from truenprobe.lab.topology import build_topology
from truenprobe.plan import build_scenario, resolve
from truenprobe.plan.rules import SECTIONS, STREAMS_ALLOWED
from truenprobe.plan.serialize import forward_to_dict

CELLS = matrix_cells()


def test_every_section_in_every_topology_passes_and_every_forward_is_omitted_once():
    names = [c.name for c in CELLS]
    assert len(set(names)) == len(names)
    plain = [
        c
        for c in CELLS
        if c.spec.site is None and not c.spec.drop_unforwarded and c.spec.user is None
    ]
    passes = Counter(
        (c.spec.scenario.client, c.spec.scenario.protocol, c.spec.scenario.transport)
        for c in plain
        if c.expect is Expect.PASS
        and c.spec.scenario.stream.value == "video1"
        and c.spec.scenario.sdk_cameras == 1
    )
    assert set(passes) == set(SECTIONS)
    assert all(n >= 4 for n in passes.values())  # 4 topologies (2 for sections with variants)
    for cell in plain:
        if cell.expect is Expect.PASS and cell.spec.place.value == "own-side":
            plan = resolve(cell.spec.scenario)
            omitted = [
                c.number for c in plain if c.spec.scenario == cell.spec.scenario and c.spec.omit
            ]
            assert sorted(omitted) == list(range(1, len(plan.forwards) + 1)), cell.name


def test_every_stream_that_changes_a_plan_has_its_cells():
    """Each stream whose plan differs from video1's (ports, tracks) passes, and has each of
    its forwards omitted once, in at least one topology."""
    plain = [c for c in CELLS if c.spec.site is None and not c.spec.drop_unforwarded]
    for client, protocol, transport in SECTIONS:
        options = {"client": client.value, "transport": transport.value}
        if protocol is not None:
            options["protocol"] = protocol.value
        if client.value == "vlc" and transport.value == "udp":
            options |= {"client_port": 5000, "client_audio_port": 5002}
        default = resolve(build_scenario(options)).flows
        for stream in STREAMS_ALLOWED[client]:
            scenario = build_scenario({**options, "stream": stream.value})
            plan = resolve(scenario)
            if plan.flows == default:
                continue
            mine = [
                c for c in plain if (c.spec.scenario.client, c.spec.scenario.transport,
                                     c.spec.scenario.stream) == (client, transport, stream)
            ]  # fmt: skip
            assert any(c.expect is Expect.PASS for c in mine), (client, transport, stream)
            omitted = {c.number for c in mine if c.spec.omit}
            assert omitted == set(range(1, len(plan.forwards) + 1)), (client, transport, stream)
    names = {c.name for c in CELLS}
    assert "decoder/rtsp/udp video1s cam=private cli=private" in names  # another URL
    assert "decoder/rtsp/multicast video1s cam=private cli=private" in names


def test_optional_forward_expects_pass_with_the_optional_flow_failing():
    optional = [c for c in CELLS if c.expect is Expect.OPTIONAL_FAIL]
    assert optional
    assert all(not c.forward.required for c in optional)


def test_select_by_words():
    chosen = select_cells(CELLS, ["decoder/rtsp/udp", "cam=private cli=private"])
    assert chosen
    assert all("decoder/rtsp/udp" in c.name for c in chosen)


DECODER = build_scenario({"client": "decoder", "protocol": "rtsp", "transport": "udp"})
PLAN = resolve(DECODER)


def _cell(expect, number=None):
    forward = PLAN.forwards[number - 1] if number else None
    from truenprobe.lab.cell import CellSpec

    return MatrixCell("x", CellSpec(DECODER), expect, forward, number)


def _result(flow, status, *, required=True, forward=None, diagnosis=None):
    return {
        "flow": flow,
        "status": status,
        "required": required,
        "forward": forward_to_dict(PLAN.forwards[forward - 1]) if forward else None,
        "diagnosis": diagnosis,
    }


def _report(verdict, *results, findings=()):
    return {"verdict": verdict, "results": list(results), "findings": list(findings)}


@pytest.mark.parametrize(
    ("cell", "report", "agree"),
    [
        (_cell(Expect.PASS), _report("pass", _result("rtsp-control", "pass")), True),
        (_cell(Expect.PASS), _report("fail", _result("rtp-video", "fail", forward=3)), False),
        # a pass with an optional flow blaming a forward that was there: the lab is wrong
        (_cell(Expect.PASS),
         _report("pass", _result("rtcp-return", "fail", required=False, forward=2)), False),
        (_cell(Expect.FAIL_NAMING, 3),
         _report("fail", _result("rtp-video", "fail", forward=3),
                 _result("rtcp-video", "fail", forward=3)), True),
        (_cell(Expect.FAIL_NAMING, 3),
         _report("fail", _result("rtp-video", "fail", forward=1)), False),  # wrong forward
        (_cell(Expect.FAIL_NAMING, 3),
         _report("fail", _result("rtp-video", "fail", forward=3),
                 _result("rtcp-return", "fail", forward=2)), False),  # another one too
        (_cell(Expect.FAIL_NAMING, 3), _report("incomplete"), False),  # not detected
        (_cell(Expect.FAIL_NAMING, 3),
         _report("fail", _result("rtp-video", "fail", forward=3),
                 _result("rtsp-control", "fail")), False),  # a required failure unexplained
        (_cell(Expect.OPTIONAL_FAIL, 2),
         _report("pass", _result("rtcp-return", "fail", required=False, forward=2)), True),
        (_cell(Expect.OPTIONAL_FAIL, 2),
         _report("fail", _result("rtcp-return", "fail", required=True, forward=2)), False),
        (_cell(Expect.NAT_LOOPBACK),
         _report("incomplete", _result("rtsp-control", "skipped",
                                       diagnosis="NAT loopback: inside the camera's LAN")),
         True),
        (_cell(Expect.NAT_LOOPBACK),
         _report("fail", _result("rtsp-control", "fail", forward=1)), False),
        (_cell(Expect.NAT_LOOPBACK), _report("incomplete"), False),  # no explanation
    ],
)  # fmt: skip
def test_judge(cell, report, agree):
    assert judge(cell, report, None).agree is agree


def test_judge_without_a_report_disagrees_and_says_why():
    verdict = judge(_cell(Expect.PASS), None, "the prober gave no report: boom")
    assert not verdict.agree
    assert "boom" in verdict.why


def test_the_camera_runs_on_the_scenarios_ports_and_vlc_udp_on_the_players():
    plan = resolve(build_scenario({"client": "web", "http_port": 8080}))
    argv = camera_argv(plan)
    assert argv[argv.index("--http-port") + 1] == "8080"
    assert "--server-port" not in argv
    vlc = resolve(build_scenario({"client": "vlc", "transport": "udp", "client_port": 5000}))
    argv = camera_argv(vlc)
    assert argv[argv.index("--server-port") + 1] == "5000"
    assert "--server-audio-port" not in argv
    # The camera uses the player's audio ports too (the document's optional forwards).
    both = build_scenario(
        {"client": "vlc", "transport": "udp", "stream": "video1+audio1", "client_port": 5000,
         "client_audio_port": 5002}
    )  # fmt: skip
    argv = camera_argv(resolve(both))
    assert argv[argv.index("--server-audio-port") + 1] == "5002"
    audio = build_scenario(
        {"client": "vlc", "transport": "udp", "stream": "audio1", "client_audio_port": 6000}
    )
    argv = camera_argv(resolve(audio))
    assert "--server-port" not in argv
    assert argv[argv.index("--server-audio-port") + 1] == "6000"


def test_the_prober_gets_the_public_address_and_the_whole_scenario():
    topo = build_topology(DECODER.camera_side, DECODER.client_side, pid=1)
    argv = prober_argv(PLAN, topo, 2.5)
    assert argv[argv.index("check") + 1] == "203.0.113.10"
    assert argv[argv.index("--timeout") + 1] == "2.5"
    assert argv[argv.index("--format") + 1] == "json"
    options = scenario_argv(DECODER)
    assert options[options.index("--client") + 1] == "decoder"
    assert options[options.index("--rtsp-port") + 1] == "554"
    assert "--client-port" not in options  # None values are left out

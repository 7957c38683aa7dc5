"""`lab matrix`: every scenario of the document in every topology, and every forward omitted.

A cell says what it expects, and agrees only when the prober's report shows exactly that:

- ``pass``: with the plan's forwards the verdict is pass, and no failure blames a forward.
- ``fail-naming``: with one required forward omitted (or wrong), the verdict is fail and
  every failed flow that names a forward names exactly that one.
- ``optional-fail``: with a forward marked required: false omitted, its optional flow
  fails naming it while the verdict stays pass.
- ``nat-loopback``: the client inside the camera's LAN tests the public address; no
  forward is blamed and the report says it depends on NAT loopback.

Judging (``judge``) is pure; the cells run concurrently, each in its own namespaces.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from truenprobe.lab.cell import DEFAULT_STAGE_S, CellResult, CellSpec, run_cells
from truenprobe.lab.forwards import parse_site_forwards
from truenprobe.lab.topology import Place
from truenprobe.plan.model import Client, Forward, Scenario, Side, Stream, Transport
from truenprobe.plan.resolve import resolve
from truenprobe.plan.rules import SECTIONS, STREAMS_ALLOWED
from truenprobe.plan.scenario import build_scenario, scenario_to_dict
from truenprobe.plan.serialize import forward_to_dict

VLC_CLIENT_PORT = 5000
VLC_AUDIO_PORT = 5002  # VLC's habit: the video port + 2
NAT_LOOPBACK_WORDS = "NAT loopback"


class Expect(StrEnum):
    PASS = "pass"
    FAIL_NAMING = "fail-naming"
    OPTIONAL_FAIL = "optional-fail"
    NAT_LOOPBACK = "nat-loopback"


@dataclass(frozen=True)
class MatrixCell:
    name: str  # unique, e.g. "decoder/rtsp/udp cam=private cli=private -#2"
    spec: CellSpec
    expect: Expect
    forward: Forward | None = None  # the plan's forward omitted or made wrong
    number: int | None = None  # its 1-based number in the plan


@dataclass(frozen=True)
class Judgement:
    agree: bool
    why: str


# --- which cells ---------------------------------------------------------------------


def _options(
    client: str, protocol: str | None, transport: str, stream: str = "video1"
) -> dict[str, Any]:
    out: dict[str, Any] = {"client": client, "transport": transport}
    if protocol is not None:
        out["protocol"] = protocol
    if stream != "video1":
        out["stream"] = stream
    if client == "vlc" and transport == "udp":
        out["client_port"] = VLC_CLIENT_PORT
        if "audio" in stream:
            out["client_audio_port"] = VLC_AUDIO_PORT
    return out


def _label(s: Scenario) -> str:
    proto = s.protocol.value if s.protocol else "-"
    extra = f" {s.stream.value}" if s.stream.value != "video1" else ""
    if s.sdk_cameras != 1:
        extra += f" x{s.sdk_cameras}"
    return (
        f"{s.client.value}/{proto}/{s.transport.value}{extra} "
        f"cam={s.camera_side.value} cli={s.client_side.value}"
    )


def _with_omissions(scenario: Scenario, stage_s: float) -> list[MatrixCell]:
    """The pass cell, then one cell per forward with that forward omitted."""
    plan = resolve(scenario)
    label = _label(scenario)
    cells = [MatrixCell(label, CellSpec(scenario, stage_s=stage_s), Expect.PASS)]
    for number, forward in enumerate(plan.forwards, start=1):
        expect = Expect.FAIL_NAMING if forward.required else Expect.OPTIONAL_FAIL
        spec = CellSpec(scenario, omit=(number,), stage_s=stage_s)
        cells.append(MatrixCell(f"{label} -#{number}", spec, expect, forward, number))
    return cells


def _variants() -> list[dict[str, Any]]:
    """Every other stream of the sections whose plan (ports, tracks, URL) the stream changes,
    and the SDK's camera count; both sides private, where every forward can be omitted.

    VLC over UDP with audio also runs with only the camera private: there the player's
    audio ports get the document's optional ("not mandatory") forward to the camera.
    """
    both: list[dict[str, Any]] = []
    for stream in Stream:
        if stream is not Stream.VIDEO1:
            both.append(_options("vlc", "rtsp", "udp", stream.value))
            both.append(_options("vlc", "rtsp", "multicast", stream.value))
    for stream in STREAMS_ALLOWED[Client.DECODER]:
        if stream is not Stream.VIDEO1:
            both.append(_options("decoder", "rtsp", "udp", stream.value))
            both.append(_options("decoder", "rtsp", "multicast", stream.value))
    # Interleaved, the plan stays one TCP port, but the session sets up both tracks.
    both.append(_options("vlc", "rtsp", "tcp", Stream.VIDEO1_AUDIO1.value))
    both.append({**_options("sdk", "vsnm", "udp"), "sdk_cameras": 2})
    camera_only = [
        {**_options("vlc", "rtsp", "udp", s.value), "client_side": "public"}
        for s in (Stream.AUDIO1, Stream.VIDEO1S_AUDIO1)
    ]
    return both + camera_only


def _wrong_rules(stage_s: float) -> list[MatrixCell]:
    """A site's rules with one wrong: caught, and named as the plan's forward."""
    cells = []
    decoder = build_scenario(_options("decoder", "rtsp", "udp"))
    web = build_scenario({"client": "web"})
    cases: list[tuple[Scenario, int, str, dict[str, Any]]] = [
        (decoder, 3, "to the wrong LAN address", {"to_ip": "192.168.0.77"}),
        (decoder, 3, "to the wrong port", {"to_ports": [556, 557]}),
        (decoder, 3, "TCP instead of UDP", {"protocol": "tcp"}),
        (web, 1, "to the wrong LAN address", {"to_ip": "192.168.1.23"}),
    ]
    for scenario, number, what, change in cases:
        plan = resolve(scenario)
        rules = [forward_to_dict(f) for f in plan.forwards]
        rules[number - 1].update(change)
        site = parse_site_forwards(rules, "a site's rules")
        spec = CellSpec(scenario, site=site, site_source="a site's rules", stage_s=stage_s)
        name = f"{_label(scenario)} #{number} {what}"
        cells.append(MatrixCell(name, spec, Expect.FAIL_NAMING, plan.forwards[number - 1], number))
    return cells


def _silent_sharers(stage_s: float) -> list[MatrixCell]:
    """IP sharers that drop instead of refusing: the omission must still be named."""
    cells = []
    for options, number in ((_options("web", None, "tcp"), 1),
                            (_options("decoder", "rtsp", "udp"), 3)):  # fmt: skip
        scenario = build_scenario(options)
        plan = resolve(scenario)
        spec = CellSpec(scenario, omit=(number,), drop_unforwarded=True, stage_s=stage_s)
        name = f"{_label(scenario)} -#{number} silent sharers"
        cells.append(MatrixCell(name, spec, Expect.FAIL_NAMING, plan.forwards[number - 1], number))
    return cells


def _digest(stage_s: float) -> list[MatrixCell]:
    """A camera that requires RTSP Digest, the prober given the credentials: still passes,
    and an omitted forward is still named."""
    scenario = build_scenario(_options("decoder", "rtsp", "udp"))
    plan = resolve(scenario)
    label = f"{_label(scenario)} digest auth"
    cells = []
    for omit in ((), (3,)):
        spec = CellSpec(
            scenario, omit=omit, user="admin", password="lab-Digest-pw", stage_s=stage_s
        )
        if omit:
            cells.append(MatrixCell(f"{label} -#3", spec, Expect.FAIL_NAMING, plan.forwards[2], 3))
        else:
            cells.append(MatrixCell(label, spec, Expect.PASS))
    return cells


def _nat_loopback(stage_s: float) -> list[MatrixCell]:
    cells = []
    for options in (_options("web", None, "tcp"), _options("decoder", "rtsp", "udp")):
        scenario = build_scenario(options)
        spec = CellSpec(scenario, place=Place.CAMERA_LAN, stage_s=stage_s)
        cells.append(
            MatrixCell(f"{_label(scenario)} client in camera LAN", spec, Expect.NAT_LOOPBACK)
        )
    return cells


def matrix_cells(stage_s: float = DEFAULT_STAGE_S) -> list[MatrixCell]:
    cells: list[MatrixCell] = []
    for client, protocol, transport in SECTIONS:
        for camera_side in Side:
            for client_side in Side:
                options = _options(
                    client.value, protocol.value if protocol else None, transport.value
                )
                scenario = build_scenario(
                    {**options, "camera_side": camera_side, "client_side": client_side}
                )
                cells += _with_omissions(scenario, stage_s)
    for options in _variants():
        cells += _with_omissions(build_scenario(options), stage_s)
    cells += _wrong_rules(stage_s)
    cells += _silent_sharers(stage_s)
    cells += _digest(stage_s)
    cells += _nat_loopback(stage_s)
    return cells


def select_cells(cells: Sequence[MatrixCell], only: Sequence[str]) -> list[MatrixCell]:
    """Cells whose name contains every one of ``only`` (case-insensitive)."""
    wanted = [w.lower() for w in only]
    return [c for c in cells if all(w in c.name.lower() for w in wanted)]


def with_stage(cells: Iterable[MatrixCell], stage_s: float) -> list[MatrixCell]:
    return [replace(c, spec=replace(c.spec, stage_s=stage_s)) for c in cells]


# --- judging -------------------------------------------------------------------------


def _failed(report: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [r for r in report.get("results", []) if r.get("status") == "fail"]


def _named(results: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in results if r.get("forward") is not None]


def _mentions_nat_loopback(report: Mapping[str, Any]) -> bool:
    texts = list(report.get("findings", []))
    texts += [r.get("diagnosis") or "" for r in report.get("results", [])]
    return any(NAT_LOOPBACK_WORDS.lower() in str(t).lower() for t in texts)


def judge(cell: MatrixCell, report: Mapping[str, Any] | None, error: str | None) -> Judgement:
    """Pure: whether the prober's report shows what the cell expects, and why not."""
    if error is not None or report is None:
        return Judgement(False, f"no report: {error or 'the prober gave none'}")
    verdict = report.get("verdict")
    failed = _failed(report)
    named = _named(failed)
    blamed = ", ".join(sorted({_forward_words(r["forward"]) for r in named}))

    if cell.expect is Expect.PASS:
        if verdict != "pass":
            return Judgement(False, f"verdict {verdict}{_first_failure(failed)}")
        if named:
            return Judgement(False, f"passed, but an optional flow blames {blamed}")
        return Judgement(True, "pass")

    if cell.expect is Expect.NAT_LOOPBACK:
        if named:
            return Judgement(False, f"blames {blamed} instead of NAT loopback")
        if not _mentions_nat_loopback(report):
            return Judgement(False, f"verdict {verdict}; the report does not mention NAT loopback")
        if verdict == "pass":
            return Judgement(False, "passed although the IP sharer has no NAT loopback")
        return Judgement(True, f"verdict {verdict}; NAT loopback explained, no forward blamed")

    expected = forward_to_dict(cell.forward) if cell.forward else None
    right = [r for r in named if r["forward"] == expected]
    wrong = [r for r in named if r["forward"] != expected]
    if wrong:
        return Judgement(False, f"blames {blamed}, expected only #{cell.number}")
    if not right:
        return Judgement(
            False, f"verdict {verdict}; no failed flow names #{cell.number}{_first_failure(failed)}"
        )
    flows = ", ".join(r["flow"] for r in right)
    if cell.expect is Expect.FAIL_NAMING:
        if verdict != "fail":
            return Judgement(False, f"verdict {verdict}, expected fail")
        unnamed = [r for r in failed if r.get("required") and r.get("forward") is None]
        if unnamed:
            return Judgement(
                False, f"required flow {unnamed[0]['flow']} failed without naming a forward"
            )
        return Judgement(True, f"fail; {flows} name #{cell.number}")
    # OPTIONAL_FAIL
    if verdict != "pass":
        return Judgement(False, f"verdict {verdict}, expected pass (the forward is optional)")
    if any(r.get("required") for r in right):
        return Judgement(False, f"a required flow names the optional #{cell.number}")
    return Judgement(True, f"pass; optional {flows} fails naming #{cell.number}")


def _forward_words(forward: Mapping[str, Any]) -> str:
    ports = forward.get("ports", ["?", "?"])
    span = str(ports[0]) if ports[0] == ports[1] else f"{ports[0]}-{ports[1]}"
    return f"{forward.get('router')} {str(forward.get('protocol')).upper()} {span}"


def _first_failure(failed: Sequence[Mapping[str, Any]]) -> str:
    if not failed:
        return ""
    first = failed[0]
    return f" ({first.get('flow')}: {first.get('diagnosis') or 'failed'})"


# --- the matrix's own report ----------------------------------------------------------


@dataclass(frozen=True)
class MatrixRow:
    cell: MatrixCell
    result: CellResult
    judgement: Judgement

    def to_dict(self) -> dict[str, Any]:
        c, r = self.cell, self.result
        report = r.report or {}
        return {
            "cell": c.name,
            "scenario": report.get("scenario") or scenario_to_dict(c.spec.scenario),
            "place": c.spec.place.value,
            "expect": c.expect.value,
            "forward": forward_to_dict(c.forward) if c.forward else None,
            "forward_number": c.number,
            "verdict": report.get("verdict"),
            "exit_code": r.exit_code,
            "agree": self.judgement.agree,
            "why": self.judgement.why,
            "duration_s": round(r.duration_s, 2),
            "error": r.error,
            # the whole report where the cell disagrees, to see why without a rerun
            "report": None if self.judgement.agree else r.report,
            "logs": None if self.judgement.agree else r.logs,
        }


MATRIX_NOTES = (
    "Every IP sharer is the plan's nft ruleset (truenprobe plan --format nft) with the lab's "
    "addresses; each has no NAT loopback and answers unforwarded TCP with a reset unless the "
    "cell says 'silent sharers'.",
    "Multicast cells are observed end to end: the lab's WAN segment carries multicast and "
    "each IP sharer routes it with smcroute; the plan's client-side rule admits it. A real "
    "site needs every router between camera and client to route multicast.",
    "An optional forward (required: false) omitted: its optional flow fails naming it while "
    "the verdict stays pass (expect 'optional-fail').",
    "VSNM UDP and multicast cells with a private camera get one test aid: the camera-side IP "
    "sharer also forwards TCP 554 so the prober can drive the camera's RTSP as a traffic "
    "generator; it is marked in each report and never replaces an omitted forward.",
)


def matrix_dict(rows: Sequence[MatrixRow], duration_s: float, jobs: int) -> dict[str, Any]:
    agree = sum(1 for r in rows if r.judgement.agree)
    return {
        "cells": [r.to_dict() for r in rows],
        "summary": {
            "cells": len(rows),
            "agree": agree,
            "disagree": len(rows) - agree,
            "duration_s": round(duration_s, 1),
            "jobs": jobs,
        },
        "notes": list(MATRIX_NOTES),
    }


async def run_matrix(
    cells: Sequence[MatrixCell],
    jobs: int,
    on_row: Callable[[MatrixRow], None] | None = None,
) -> list[MatrixRow]:
    """Run every cell, ``jobs`` at a time, and judge each as it finishes."""

    def done(index: int, result: CellResult) -> None:
        if on_row is not None:
            on_row(MatrixRow(cells[index], result, _judge_result(cells[index], result)))

    results = await run_cells([c.spec for c in cells], jobs, done)
    return [MatrixRow(c, r, _judge_result(c, r)) for c, r in zip(cells, results, strict=True)]


def _judge_result(cell: MatrixCell, result: CellResult) -> Judgement:
    return judge(cell, result.report, result.error)


def needs_multicast_routing(cells: Iterable[MatrixCell]) -> bool:
    """Whether any cell sends multicast across an IP sharer (and so needs smcrouted)."""
    return any(
        c.spec.scenario.transport is Transport.MULTICAST
        and Side.PRIVATE in (c.spec.scenario.camera_side, c.spec.scenario.client_side)
        for c in cells
    )

"""The site drawn as SVG: client, IP sharers, the internet, camera, one arrow per flow.

Pure: a ``SiteDrawing`` in, an SVG string out. The same drawing serves the report (arrows
coloured by verdict) and the plan (arrows in a neutral ink, nothing tested yet).

Layout, left to right in fixed slots so every site looks alike: client host, client-side
IP sharer, the internet, camera-side IP sharer, camera. A side with a public address has
no IP sharer; its slot says so. Each flow is one horizontal lane below the boxes; an
arrow runs from the host that sends the first packet (for TCP: who connects) to the
other, crossing the IP sharers, and where a forward carries it a badge names the forward.

Every text comes through ``_esc``: addresses, evidence and diagnoses may come from a
customer's capture, and the file must never run anything it was handed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from html import escape

from truenprobe.plan.model import Flow, Forward, Host, Plan, Scenario
from truenprobe.plan.words import CLIENT_NAME, ROUTER_NAME, ports_text


class Ink(StrEnum):
    """What a lane or a forward shows; each has one colour, used by the page's CSS too."""

    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"
    PLANNED = "planned"  # the plan: nothing tested yet


COLOUR = {
    Ink.PASS: "#1a7f37",
    Ink.FAIL: "#cf222e",
    Ink.SKIPPED: "#8c959f",
    Ink.PLANNED: "#0550ae",
}
TINT = {  # light backgrounds for marked forwards
    Ink.PASS: "#dafbe1",
    Ink.FAIL: "#ffebe9",
    Ink.SKIPPED: "#f6f8fa",
    Ink.PLANNED: "#ddf4ff",
}
STATUS_WORD = {Ink.PASS: "pass", Ink.FAIL: "FAIL", Ink.SKIPPED: "skipped", Ink.PLANNED: ""}
MARK = {Ink.PASS: "✓", Ink.FAIL: "✗", Ink.SKIPPED: "–", Ink.PLANNED: "☐"}


@dataclass(frozen=True)
class Lane:
    """One planned flow and how to draw it."""

    flow: Flow
    ink: Ink
    note: str | None = None  # a short line under the arrow, e.g. the diagnosis
    pointed: Forward | None = None  # the forward its failure points at


@dataclass(frozen=True)
class ForwardMark:
    forward: Forward
    index: int | None  # 1-based position in the plan (what --omit-forward takes)
    ink: Ink
    missing: bool = False  # a failure points at it: "add this rule"


@dataclass(frozen=True)
class SiteDrawing:
    plan: Plan
    lanes: tuple[Lane, ...]
    forwards: tuple[ForwardMark, ...]
    camera_address: str | None = None  # as the client addresses the camera
    legend: tuple[Ink, ...] = (Ink.PASS, Ink.FAIL, Ink.SKIPPED)
    ident: str = "site"  # unique per page: a fleet report draws several sites


# --- geometry ----------------------------------------------------------------------

WIDTH = 1000
SLOT_X = {"client": 80, "client-sharer": 285, "internet": 500, "camera-sharer": 715, "camera": 920}
HOST_W, SHARER_W = 140, 220
HOST_H = 116  # glyph, name and four lines
TOP = 8
LANE_H = 46  # a lane with a note under its arrow
LANE_H_BARE = 34  # a lane without one
FORWARD_ROW = 16
NOTE_CHARS = 58  # what fits between the two IP sharers' badges at 11 px
LABEL_CHARS = 60


def _esc(text: object) -> str:
    return escape(str(text), quote=True)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _sharer_slot(host: Host) -> str:
    return f"{host.value}-sharer"


def _host_x(host: Host) -> int:
    return SLOT_X[host.value]


def _text(x: float, y: float, body: str, cls: str, anchor: str = "middle", **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{_esc(v)}"' for k, v in attrs.items())
    return (
        f'<text x="{x:g}" y="{y:g}" class="{cls}" text-anchor="{anchor}"{extra}>{_esc(body)}</text>'
    )


# --- the boxes at the top ----------------------------------------------------------


def _host_box(host: Host, drawing: SiteDrawing, height: int) -> str:
    s = drawing.plan.scenario
    cx = _host_x(host)
    x = cx - HOST_W / 2
    title = "camera" if host is Host.CAMERA else CLIENT_NAME[s.client]
    lines = _host_lines(host, s, drawing.camera_address)
    glyph = _camera_glyph(cx, TOP + 22) if host is Host.CAMERA else _client_glyph(cx, TOP + 22)
    out = [
        f'<g class="node host" data-node="{host.value}">',
        f'<rect x="{x:g}" y="{TOP}" width="{HOST_W}" height="{height}" rx="8" class="box"/>',
        glyph,
        _text(cx, TOP + 56, title, "node-title"),
    ]
    out += [_text(cx, TOP + 72 + 13 * i, line, "node-sub") for i, line in enumerate(lines)]
    out.append("</g>")
    return "\n".join(out)


def _host_lines(host: Host, s: Scenario, camera_address: str | None) -> list[str]:
    if host is Host.CLIENT:
        return ["private LAN" if s.is_private(host) else "public address"]
    # One port a line: five-digit ports side by side do not fit the box.
    ports = [f"HTTP {s.http_port}", f"base {s.base_port}", f"RTSP {s.rtsp_port}"]
    if s.is_private(host):
        return ["camera LAN", *ports]
    return [_clip(camera_address or "public address", 20), *ports]


def _client_glyph(cx: float, cy: float) -> str:
    """A monitor on a stand."""
    return (
        f'<g class="glyph"><rect x="{cx - 16:g}" y="{cy - 13:g}" width="32" height="21" rx="2"/>'
        f'<path d="M{cx - 7:g} {cy + 14:g}h14M{cx:g} {cy + 8:g}v6"/></g>'
    )


def _camera_glyph(cx: float, cy: float) -> str:
    """A camera body with its lens."""
    return (
        f'<g class="glyph"><rect x="{cx - 18:g}" y="{cy - 10:g}" width="28" height="20" rx="3"/>'
        f'<path d="M{cx + 10:g} {cy - 5:g}l9 -5v20l-9 -5z"/>'
        f'<circle cx="{cx - 4:g}" cy="{cy:g}" r="5"/></g>'
    )


def _rows(marks: list[ForwardMark]) -> int:
    """Lines a sharer's list takes: one per forward, one more under a missing one."""
    return max(1, len(marks) + sum(m.missing for m in marks))


def _sharer_height(marks: list[ForwardMark]) -> int:
    return 58 + FORWARD_ROW * _rows(marks)


def _sharer_box(router: Host, drawing: SiteDrawing, height: int) -> str:
    cx = SLOT_X[_sharer_slot(router)]
    x = cx - SHARER_W / 2
    marks = [m for m in drawing.forwards if m.forward.router is router]
    sub = "NAT; forwards from the internet:"
    if router is Host.CAMERA and drawing.camera_address:
        sub = f"WAN {_clip(drawing.camera_address, 24)}; forwards:"
    out = [
        f'<g class="node sharer" data-node="{_sharer_slot(router)}">',
        f'<rect x="{x:g}" y="{TOP}" width="{SHARER_W}" height="{height}" rx="8" class="box"/>',
        _router_glyph(x + 18, TOP + 20),
        _text(x + 34, TOP + 24, ROUTER_NAME[router], "node-title sharer-title", anchor="start"),
        _text(x + 10, TOP + 44, sub, "node-sub", anchor="start"),
    ]
    if not marks:
        out.append(_text(x + 10, TOP + 62, "nothing to forward", "forward-none", anchor="start"))
    y = TOP + 52
    for mark in marks:
        out.append(_forward_row(mark, drawing.plan.scenario, x, y))
        y += FORWARD_ROW * (2 if mark.missing else 1)
    out.append("</g>")
    return "\n".join(out)


def _router_glyph(cx: float, cy: float) -> str:
    return (
        f'<g class="glyph"><rect x="{cx - 10:g}" y="{cy - 2:g}" width="20" height="9" rx="2"/>'
        f'<path d="M{cx - 5:g} {cy - 2:g}l-3 -8M{cx + 5:g} {cy - 2:g}l3 -8"/></g>'
    )


def forward_short(forward: Forward, scenario: Scenario) -> str:
    """``UDP 554–555 → decoder`` (target ports only when they differ)."""
    target = "camera" if forward.to is Host.CAMERA else CLIENT_NAME[scenario.client]
    if forward.to_ports != forward.ports:
        target += f" {ports_text(forward.to_ports)}"
    return f"{forward.protocol.upper()} {ports_text(forward.ports)} → {target}"


def _forward_row(mark: ForwardMark, scenario: Scenario, x: float, y: float) -> str:
    number = f"#{mark.index} " if mark.index else ""
    optional = " (opt.)" if not mark.forward.required else ""  # also drawn dashed
    text = f"{MARK[mark.ink]} {number}{forward_short(mark.forward, scenario)}{optional}"
    status = "missing" if mark.missing else mark.ink.value
    dashed = "" if mark.forward.required else ' stroke-dasharray="4 2"'
    row = [
        f'<g class="forward" data-forward="{mark.index or 0}" data-status="{status}">',
        f'<rect x="{x + 5:g}" y="{y:g}" width="{SHARER_W - 10}" height="{FORWARD_ROW - 1}" '
        f'rx="3" fill="{TINT[mark.ink]}" stroke="{COLOUR[mark.ink]}" '
        f'stroke-width="{1.5 if mark.missing else 0.6}"{dashed}/>',
        _text(x + 10, y + 11.5, text, "forward-text", anchor="start", fill=COLOUR[mark.ink]),
    ]
    if mark.missing:
        row.append(
            _text(
                x + 14,
                y + FORWARD_ROW + 11,
                "▲ missing? add this rule",
                "forward-add",
                anchor="start",
                fill=COLOUR[Ink.FAIL],
            )
        )
    row.append("</g>")
    return "\n".join(row)


def _internet(height: int) -> str:
    cx, cy = SLOT_X["internet"], TOP + height / 2
    return (
        '<g class="node internet" data-node="internet">'
        f'<path class="cloud" d="M{cx - 52:g} {cy + 16:g}'
        f"a20 20 0 0 1 6 -36a28 28 0 0 1 50 -10a24 24 0 0 1 42 14"
        f'a18 18 0 0 1 -4 32z"/>'
        f"{_text(cx, cy + 6, 'internet', 'node-title')}</g>"
    )


def _no_sharer(host: Host, height: int) -> str:
    cx = SLOT_X[_sharer_slot(host)]
    return (
        f'<g class="node no-sharer" data-node="{_sharer_slot(host)}">'
        f"{_text(cx, TOP + height / 2 - 2, 'no IP sharer', 'node-sub')}"
        f"{_text(cx, TOP + height / 2 + 12, f'{host.value} has a public address', 'node-sub')}"
        "</g>"
    )


# --- the lanes ---------------------------------------------------------------------


def _lane(lane: Lane, y: float, drawing: SiteDrawing) -> str:
    flow, ink = lane.flow, lane.ink
    colour = COLOUR[ink]
    start, end = _host_x(flow.source), _host_x(flow.destination)
    step = 1 if end > start else -1
    head = end - step * 12
    dash = ""
    if not flow.supported:
        dash = ' stroke-dasharray="2 4"'
    elif not flow.required:
        dash = ' stroke-dasharray="8 5"'
    width = 3.5 if ink is Ink.FAIL else 2.5
    kind = "multicast " if flow.multicast else ""
    label = f"{flow.name} · {kind}{flow.protocol.upper()} {ports_text(flow.ports)}"
    status = _status_words(flow, ink)
    if status:
        label += f" · {status}"
    parts = [
        f'<g class="flow" data-flow="{_esc(flow.name)}" data-status="{ink.value}" '
        f'data-from="{flow.source.value}" data-to="{flow.destination.value}">',
        f"<title>{_esc(flow.purpose)}</title>",
        f'<circle cx="{start:g}" cy="{y:g}" r="4" fill="{colour}"/>',
        f'<line class="flow-line" x1="{start:g}" y1="{y:g}" x2="{head:g}" y2="{y:g}" '
        f'stroke="{colour}" stroke-width="{width}"{dash}/>',
        f'<polygon class="flow-head" points="{end:g},{y:g} {head:g},{y - 7:g} {head:g},{y + 7:g}" '
        f'fill="{colour}"/>',
        _text(SLOT_X["internet"], y - 8, _clip(label, LABEL_CHARS), "flow-label", fill=colour),
    ]
    if lane.note:
        parts.append(
            _text(
                SLOT_X["internet"], y + 17, _clip(lane.note, NOTE_CHARS), "flow-note", fill=colour
            )
        )
    parts += _badges(lane, y, drawing)
    parts.append("</g>")
    return "\n".join(parts)


def _status_words(flow: Flow, ink: Ink) -> str:
    """``FAIL``, ``pass (not required)``, ``not supported`` (a plan has no status word)."""
    caveat = "not supported" if not flow.supported else ("" if flow.required else "not required")
    word = STATUS_WORD[ink]
    if word and caveat:
        return f"{word} ({caveat})"
    return word or caveat


def _badges(lane: Lane, y: float, drawing: SiteDrawing) -> list[str]:
    """Where the arrow crosses an IP sharer whose forward carries it, name the forward."""
    out = []
    for router in drawing.plan.routers():
        marks = [
            m
            for m in drawing.forwards
            if m.forward.router is router
            and (lane.flow.name in m.forward.serves or m.forward == lane.pointed)
        ]
        if not marks:
            continue
        cx = SLOT_X[_sharer_slot(router)]
        missing = any(m.forward == lane.pointed for m in marks)
        ink = Ink.FAIL if missing else lane.ink
        text = " ".join(f"#{m.index}" if m.index else "#?" for m in marks)
        w = 12 + 7 * len(text)
        out.append(
            f'<g class="badge" data-router="{router.value}">'
            f'<rect x="{cx - w / 2:g}" y="{y - 8:g}" width="{w:g}" height="16" rx="8" '
            f'fill="#ffffff" stroke="{COLOUR[ink]}" stroke-width="{2 if missing else 1.2}"/>'
            f"{_text(cx, y + 4, text, 'badge-text', fill=COLOUR[ink])}</g>"
        )
    return out


def _lifelines(drawing: SiteDrawing, y0: float, y1: float) -> list[str]:
    out = []
    for host in (Host.CLIENT, Host.CAMERA):
        x = _host_x(host)
        out.append(f'<line class="lifeline" x1="{x}" y1="{y0:g}" x2="{x}" y2="{y1:g}"/>')
    for router in drawing.plan.routers():
        x = SLOT_X[_sharer_slot(router)]
        out.append(
            f'<rect class="sharer-band" x="{x - 9}" y="{y0:g}" width="18" height="{y1 - y0:g}" '
            'rx="4"/>'
        )
    return out


LEGEND_TEXT = {
    Ink.PASS: "pass",
    Ink.FAIL: "fail",
    Ink.SKIPPED: "skipped (not tested)",
    Ink.PLANNED: "flow to set up",
}


def _legend(drawing: SiteDrawing, y: float) -> str:
    items: list[tuple[str, str, str]] = [
        (COLOUR[ink], "", LEGEND_TEXT[ink]) for ink in drawing.legend
    ]
    grey = "#57606a"
    items += [(grey, "8 5", "not required"), (grey, "2 4", "not supported by the camera")]
    out = ['<g class="legend">']
    x = 10.0
    for colour, dash, text in items:
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(
            f'<line x1="{x:g}" y1="{y:g}" x2="{x + 26:g}" y2="{y:g}" stroke="{colour}" '
            f'stroke-width="2.5"{dash_attr}/>'
        )
        out.append(_text(x + 32, y + 4, text, "legend-text", anchor="start"))
        x += 46 + 6.2 * len(text)
    out.append(
        _text(
            WIDTH - 10,
            y + 4,
            "arrow: who sends first (TCP: who connects) · #n: forward n",
            "legend-text",
            anchor="end",
        )
    )
    out.append("</g>")
    return "\n".join(out)


def _lane_ys(lanes: tuple[Lane, ...], y0: float) -> list[float]:
    """Each lane's arrow height: a lane with a note under its arrow needs more room."""
    ys, y = [], y0
    for lane in lanes:
        ys.append(y)
        y += LANE_H if lane.note else LANE_H_BARE
    return ys


def site_svg(drawing: SiteDrawing) -> str:
    """The whole picture as one ``<svg>`` element, scaled to its container's width."""
    plan = drawing.plan
    sharer_heights = [
        _sharer_height([m for m in drawing.forwards if m.forward.router is r])
        for r in plan.routers()
    ]
    box_h = max([HOST_H, *sharer_heights])
    y0 = TOP + box_h + 30
    ys = _lane_ys(drawing.lanes, y0)
    lanes_end = ys[-1] if ys else y0
    legend_y = lanes_end + 38
    height = legend_y + 14
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="site" viewBox="0 0 {WIDTH} {height:g}" '
        f'role="img" aria-labelledby="{_esc(drawing.ident)}-title" '
        'preserveAspectRatio="xMidYMin meet">',
        f'<title id="{_esc(drawing.ident)}-title">{_esc(_summary(drawing))}</title>',
        *_lifelines(drawing, TOP + box_h, lanes_end + 18),
        _host_box(Host.CLIENT, drawing, box_h),
        _host_box(Host.CAMERA, drawing, box_h),
        _internet(box_h),
    ]
    for host in (Host.CLIENT, Host.CAMERA):
        if plan.scenario.is_private(host):
            parts.append(_sharer_box(host, drawing, box_h))
        else:
            parts.append(_no_sharer(host, box_h))
    parts += [_lane(lane, y, drawing) for lane, y in zip(drawing.lanes, ys, strict=True)]
    parts.append(_legend(drawing, legend_y))
    parts.append("</svg>")
    return "\n".join(parts)


def _summary(drawing: SiteDrawing) -> str:
    counts: dict[Ink, int] = {}
    for lane in drawing.lanes:
        counts[lane.ink] = counts.get(lane.ink, 0) + 1
    told = ", ".join(f"{n} {LEGEND_TEXT[ink]}" for ink, n in counts.items())
    return f"The site: {len(drawing.lanes)} flow(s) between client and camera ({told})"

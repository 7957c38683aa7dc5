"""One self-contained HTML file per check, and one per plan (an installer's work order).

Pure: models in, a string out. The page has no script at all and a Content-Security-Policy
that forbids any (and any external fetch), so a report taken from a customer's ticket
cannot run code even if a string slipped through; every string from the report is escaped
anyway, and secrets are redacted (see ``redact``). Styles are inline; fonts are the
system's. The print stylesheet fits the common scenarios on one A4 or Letter page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

from truenprobe import __version__
from truenprobe.plan.model import Client, Flow, Forward, Plan, PortRange, Scenario
from truenprobe.plan.scenario import scenario_to_dict
from truenprobe.plan.words import (
    ROUTER_NAME,
    camera_ports_line,
    flow_path,
    forward_rule,
    forward_text,
    host_name,
    ports_text,
    scenario_title,
    sentence_case,
)
from truenprobe.report.model import FlowResult, Report, Status, Verdict
from truenprobe.report.redact import command_line_text, redact_text, redact_value
from truenprobe.report.svg import (
    COLOUR,
    MARK,
    TINT,
    ForwardMark,
    Ink,
    Lane,
    SiteDrawing,
    site_svg,
)

_VERDICT_INK = {Verdict.PASS: Ink.PASS, Verdict.FAIL: Ink.FAIL, Verdict.INCOMPLETE: Ink.SKIPPED}
_VERDICT_TEXT = {
    Verdict.PASS: "every required flow passed",
    Verdict.FAIL: "a required flow failed",
    Verdict.INCOMPLETE: "nothing failed, but a required flow could not be tested",
}
CAMERA_PLACEHOLDER = "CAMERA-ADDRESS"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


_CLIENT_TITLE = {Client.WEB: "Web", Client.DECODER: "Decoder", Client.SDK: "SDK", Client.VLC: "VLC"}


def _site_title(scenario: Scenario) -> str:
    """``VLC client, RTSP over UDP, ...``: the plan's wording with the client spelled right."""
    text = scenario_title(scenario)
    return _CLIENT_TITLE[scenario.client] + text.removeprefix(scenario.client.value)


def _when(moment: datetime | None) -> str:
    moment = moment or datetime.now().astimezone()
    return moment.isoformat(sep=" ", timespec="seconds")


# --- the report --------------------------------------------------------------------


def render_report_html(
    report: Report,
    command_line: Sequence[str] | str,
    *,
    checked_at: datetime | None = None,
) -> str:
    """The whole report as one HTML document.

    ``command_line`` is the argv (or a string) that reproduces the check; secrets in it
    are redacted here. ``checked_at`` is when the check started (default: now).
    """
    return render_reports_html([report], command_line, checked_at=checked_at)


def render_reports_html(
    reports: Sequence[Report],
    command_line: Sequence[str] | str,
    *,
    names: Sequence[str] = (),
    checked_at: datetime | None = None,
) -> str:
    """One document for one report, or for a fleet: a summary, then each camera's report
    (each starting a new printed page)."""
    if len(reports) == 1:
        report = reports[0]
        title = f"truenprobe {report.verdict.value.upper()}: {_site_title(report.plan.scenario)}"
        body = _report_parts(report, checked_at)
    else:
        names = list(names) if len(names) == len(reports) else [r.camera for r in reports]
        title = f"truenprobe fleet check: {len(reports)} camera(s)"
        body = [_fleet_summary(reports, names, checked_at)]
        for i, (report, name) in enumerate(zip(reports, names, strict=True), start=1):
            body.append(f'<section class="camera" id="camera-{i}">')
            body += _report_parts(report, checked_at, name=name, ident=f"site-{i}")
            body.append("</section>")
    command = command_line_text(command_line) or "(not recorded)"
    body += [
        '<section class="repro"><h2>Reproduce this check</h2>',
        f'<pre class="command"><code>{_e(command)}</code></pre>',
        "</section>",
        _footer(),
    ]
    return _page(title, body)


def _report_parts(
    report: Report, checked_at: datetime | None, *, name: str | None = None, ident: str = "site"
) -> list[str]:
    plan, verdict = report.plan, report.verdict
    scenario = plan.scenario
    heading = _site_title(scenario)
    if name is not None:
        heading = f"{redact_text(name)}: {heading}"
    return [
        '<header class="head">',
        _verdict_badge(verdict),
        "<div>",
        f"<h1>{_e(heading)}</h1>",
        f'<p class="sub">{_e(sentence_case(_VERDICT_TEXT[verdict]))} (exit code '
        f"{verdict.exit_code}). {_e(_counts(report))}</p>",
        "</div>",
        "</header>",
        _facts(
            [
                ("camera", redact_text(report.camera)),
                (
                    "analyzed" if report.source.startswith("capture") else "checked",
                    _when(checked_at),
                ),
                ("took", f"{report.duration_s:.1f} s"),
                ("evidence", _source_text(report.source)),
                ("camera ports", camera_ports_line(scenario).removeprefix("camera ports: ")),
            ]
        ),
        _fixes(report),
        f'<figure class="site">{site_svg(report_drawing(report, ident))}</figure>',
        _results_table(report),
        _extras(report),
    ]


def _verdict_badge(verdict: Verdict) -> str:
    colour = COLOUR[_VERDICT_INK[verdict]]
    return f'<div class="verdict" style="background:{colour}">{_e(verdict.value.upper())}</div>'


def _fleet_summary(
    reports: Sequence[Report], names: Sequence[str], checked_at: datetime | None
) -> str:
    counts = {v: sum(r.verdict is v for r in reports) for v in Verdict}
    told = ", ".join(f"{n} {v.value}" for v, n in counts.items() if n)
    worst = (
        Verdict.FAIL
        if counts[Verdict.FAIL]
        else (Verdict.INCOMPLETE if counts[Verdict.INCOMPLETE] else Verdict.PASS)
    )
    rows = []
    for i, (report, name) in enumerate(zip(reports, names, strict=True), start=1):
        s = report.plan.scenario
        rows.append(
            f'<tr><td><a href="#camera-{i}">{_e(redact_text(name))}</a></td>'
            f"<td>{_e(redact_text(report.camera))}</td><td>{_e(_site_title(s))}</td>"
            f"{_verdict_cell(report.verdict)}<td>{_e(_first_problem(report))}</td></tr>"
        )
    return (
        '<header class="head">'
        f"{_verdict_badge(worst)}<div><h1>Fleet check: {len(reports)} cameras</h1>"
        f'<p class="sub">{_e(told)}; checked {_e(_when(checked_at))}.</p></div></header>'
        '<section class="fleet"><table class="results"><thead><tr><th>name</th><th>camera</th>'
        "<th>site</th><th>verdict</th><th>first problem</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _verdict_cell(verdict: Verdict) -> str:
    ink = _VERDICT_INK[verdict]
    return (
        f'<td class="status"><span class="pill" style="background:{TINT[ink]};'
        f'color:{COLOUR[ink]};border-color:{COLOUR[ink]}">{_e(verdict.value)}</span></td>'
    )


def _first_problem(report: Report) -> str:
    """The first thing to fix (a rule to add if one is known), or why it is incomplete."""
    scenario = report.plan.scenario
    for result in report.results:
        if result.status is Status.FAIL and result.required:
            if result.forward is not None:
                return forward_text(result.forward, scenario)
            return f"{result.flow}: {redact_text(result.diagnosis or 'failed')}"
    for result in report.results:
        if result.status is Status.SKIPPED and result.required:
            return f"{result.flow}: {redact_text(result.diagnosis or 'not tested')}"
    return ""


def report_drawing(report: Report, ident: str = "site") -> SiteDrawing:
    """The picture of a report: every planned flow coloured by its result."""
    plan = report.plan
    by_flow = {r.flow: r for r in report.results}
    lanes = []
    for flow in plan.flows:
        result = by_flow.get(flow.name)
        if result is None:
            lanes.append(Lane(flow, Ink.SKIPPED, "no result for this flow"))
            continue
        pointed = result.forward if result.status is Status.FAIL else None
        note = redact_text(result.diagnosis) if result.diagnosis else None
        lanes.append(Lane(flow, Ink(result.status.value), note, pointed))
    return SiteDrawing(
        plan=plan,
        lanes=tuple(lanes),
        forwards=_forward_marks(report),
        camera_address=redact_text(report.camera),
        ident=ident,
    )


def _forward_marks(report: Report) -> tuple[ForwardMark, ...]:
    """Each forward of the plan: missing (a failure points at it), verified, or untested."""
    plan = report.plan
    by_flow = {r.flow: r for r in report.results}
    pointed = [r.forward for r in report.results if r.status is Status.FAIL and r.forward]
    marks = []
    for index, fw in enumerate(plan.forwards, start=1):
        statuses = [by_flow[n].status for n in fw.serves if n in by_flow]
        if fw in pointed:
            marks.append(ForwardMark(fw, index, Ink.FAIL, missing=True))
        elif Status.PASS in statuses and Status.FAIL not in statuses:
            marks.append(ForwardMark(fw, index, Ink.PASS))
        else:
            marks.append(ForwardMark(fw, index, Ink.SKIPPED))
    # A failure may point at a forward the plan does not list (e.g. a router file's).
    strays = {fw for fw in pointed if fw not in plan.forwards}
    marks += [ForwardMark(fw, None, Ink.FAIL, missing=True) for fw in sorted(strays, key=str)]
    return tuple(marks)


def _counts(report: Report) -> str:
    total = len(report.results)
    passed = sum(r.status is Status.PASS for r in report.results)
    failed = sum(r.status is Status.FAIL for r in report.results)
    skipped = total - passed - failed
    required = sum(r.required for r in report.results)
    return (
        f"{total} flow(s), {required} required: {passed} passed, {failed} failed, "
        f"{skipped} not tested."
    )


def _source_text(source: str) -> str:
    if source == "probe":
        return "live check from the client's network"
    kind, _, detail = source.partition(":")
    if kind == "capture" and detail:
        return f"capture file {redact_text(detail)}"
    return redact_text(source)


def _facts(pairs: list[tuple[str, str]]) -> str:
    cells = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in pairs)
    return f'<dl class="facts">{cells}</dl>'


def _fixes(report: Report) -> str:
    """What to change, first: one entry per rule to add, with the failures it explains,
    then the failures no single rule explains."""
    failed = [r for r in report.results if r.status is Status.FAIL]
    if not failed:
        return ""
    scenario = report.plan.scenario
    by_forward: dict[Forward, list[FlowResult]] = {}
    for result in failed:
        if result.forward is not None:
            by_forward.setdefault(result.forward, []).append(result)
    items = []
    for forward, results in by_forward.items():
        why = "".join(_failure_line(r) for r in results)
        items.append(
            f'<li><p class="rule">Add on the {_e(ROUTER_NAME[forward.router])}: '
            f"<b>{_e(forward_rule(forward, scenario))}</b>"
            f"{_e(_forward_number(report.plan, forward))}</p>"
            f"{_rule_table(forward, scenario)}{why}</li>"
        )
    items += [f"<li>{_failure_line(r)}</li>" for r in failed if r.forward is None]
    return f'<section class="fixes"><h2>What to fix</h2><ol>{"".join(items)}</ol></section>'


def _failure_line(result: FlowResult) -> str:
    diagnosis = redact_text(result.diagnosis) if result.diagnosis else "failed"
    return (
        f'<p class="why"><b class="fail">✗ {_e(result.flow)}</b> '
        f"({_e(result.protocol.upper())} {_e(ports_text(result.ports))}): {_e(diagnosis)}</p>"
    )


def _forward_number(plan: Plan, forward: Forward) -> str:
    if forward in plan.forwards:
        return f" (forward #{plan.forwards.index(forward) + 1} of the plan)"
    return ""


def _rule_table(forward: Forward, scenario: Scenario) -> str:
    """The rule in the words of a router's port-forwarding page."""
    target = host_name(forward.to, scenario)
    cells = [
        ("protocol", forward.protocol.upper()),
        ("external (WAN) port(s)", ports_text(forward.ports)),
        ("forward to", f"the {target}'s LAN address"),
        ("internal port(s)", ports_text(forward.to_ports)),
    ]
    head = "".join(f"<th>{_e(k)}</th>" for k, _ in cells)
    row = "".join(f"<td>{_e(v)}</td>" for _, v in cells)
    return f'<table class="rule-table"><tr>{head}</tr><tr>{row}</tr></table>'


def _status_cell(result: FlowResult | None) -> str:
    ink = Ink(result.status.value) if result else Ink.SKIPPED
    word = result.status.value if result else "no result"
    return (
        f'<td class="status"><span class="pill" style="background:{TINT[ink]};'
        f'color:{COLOUR[ink]};border-color:{COLOUR[ink]}">{MARK[ink]} {_e(word)}</span></td>'
    )


def _results_table(report: Report) -> str:
    plan = report.plan
    by_flow = {r.flow: r for r in report.results}
    rows = [_flow_row(flow, by_flow.get(flow.name), plan.scenario) for flow in plan.flows]
    planned = {f.name for f in plan.flows}
    rows += [_stray_row(r) for r in report.results if r.flow not in planned]
    return (
        '<section class="flows"><h2>Flows and evidence</h2><table class="results"><thead><tr>'
        "<th>result</th><th>flow</th><th>ports and path</th><th>evidence</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _flow_row(flow: Flow, result: FlowResult | None, scenario: Scenario) -> str:
    tag = ""
    if not flow.supported:
        tag = "not supported"
    elif not flow.required:
        tag = "not required"
    return _row(
        flow.name, tag, flow.purpose, flow.protocol, flow.ports, flow_path(flow, scenario), result
    )


def _stray_row(result: FlowResult) -> str:
    """A result for a flow the plan does not know: shown, never dropped."""
    tag = "" if result.required else "not required"
    return _row(result.flow, tag, "", result.protocol, result.ports, "not in the plan", result)


def _row(
    name: str,
    tag: str,
    purpose: str,
    protocol: str,
    ports: PortRange,
    path: str,
    result: FlowResult | None,
) -> str:
    tags = f' <span class="tag">{_e(tag)}</span>' if tag else ""
    diagnosis = ""
    if result is not None and result.diagnosis:
        ink = Ink(result.status.value)
        diagnosis = (
            f'<p class="diagnosis" style="color:{COLOUR[ink]}">'
            f"{_e(redact_text(result.diagnosis))}</p>"
        )
    evidence = _evidence(result.evidence) if result is not None else ""
    return (
        f'<tr data-flow="{_e(name)}">{_status_cell(result)}'
        f'<td><b>{_e(name)}</b>{tags}<div class="purpose">{_e(purpose)}</div></td>'
        f'<td class="nowrap">{_e(protocol.upper())} {_e(ports_text(ports))}'
        f'<div class="purpose">{_e(path)}</div></td><td>{diagnosis}{evidence}</td></tr>'
    )


def _evidence(evidence: dict[str, Any]) -> str:
    if not evidence:
        return '<span class="none">no evidence recorded</span>'
    items = []
    for key, value in evidence.items():
        shown = redact_value(str(key), value)
        items.append(f"<dt>{_e(key)}</dt><dd>{_e(_value_text(shown))}</dd>")
    return f'<dl class="evidence">{"".join(items)}</dl>'


def _value_text(value: Any, nested: bool = False) -> str:
    """A value as people read it: no JSON quotes; nested mappings in parentheses."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str | int):
        return str(value)
    if isinstance(value, dict):
        text = ", ".join(f"{k}: {_value_text(v, True)}" for k, v in value.items())
        return f"({text})" if nested else text
    if isinstance(value, list | tuple | set | frozenset):
        text = ", ".join(_value_text(v, True) for v in value)
        return f"[{text}]" if nested or not value else text
    return str(value)


def _extras(report: Report) -> str:
    """Findings, traffic no flow explains, and the plan's notes."""
    out = []
    if report.findings:
        items = "".join(f"<li>{_e(redact_text(f))}</li>" for f in report.findings)
        out.append(f'<section class="findings"><h2>Findings</h2><ul>{items}</ul></section>')
    if report.unexpected:
        items = "".join(
            f"<li>{_e(_value_text(redact_value('', dict(u))))}</li>" for u in report.unexpected
        )
        out.append(
            '<section class="unexpected"><h2>Traffic no planned flow explains</h2>'
            f"<ul>{items}</ul></section>"
        )
    out.append(_notes(report.plan))
    return "".join(out)


def _notes(plan: Plan) -> str:
    if not plan.notes:
        return ""
    items = "".join(f"<li>{_e(n)}</li>" for n in plan.notes)
    return f'<section class="notes"><h2>Notes</h2><ul>{items}</ul></section>'


# --- the plan (work order) ---------------------------------------------------------


def render_plan_html(
    plan: Plan, *, prepared_at: datetime | None = None, camera_address: str | None = None
) -> str:
    """The plan as a printable work order: the picture, each IP sharer's checklist, flows.

    Nothing is tested yet: arrows are drawn in one neutral ink. ``prepared_at`` (when
    given) is printed; otherwise the page leaves a blank to fill in by hand.
    """
    scenario = plan.scenario
    title = f"truenprobe plan: {_site_title(scenario)}"
    date = _when(prepared_at) if prepared_at else "____________"
    body = [
        '<header class="head">',
        f'<div class="verdict" style="background:{COLOUR[Ink.PLANNED]}">PLAN</div>',
        "<div>",
        f"<h1>{_e(_site_title(scenario))}</h1>",
        f'<p class="sub">Port plan and work order: set up the forwards below, then verify '
        f"with the command at the end. {_e(sentence_case(camera_ports_line(scenario)))}.</p>",
        "</div>",
        "</header>",
        _facts(
            [
                ("site", "____________________"),
                ("installer", "____________________"),
                ("date", date),
                ("camera address", redact_text(camera_address) if camera_address else "________"),
            ]
        ),
        f'<figure class="site">{site_svg(plan_drawing(plan, camera_address))}</figure>',
        _checklists(plan),
        _plan_flows_table(plan),
        _notes(plan),
        '<section class="repro"><h2>Verify afterwards</h2>',
        f'<pre class="command"><code>{_e(command_line_text(check_command(plan.scenario)))}'
        "</code></pre>",
        "<p>From the client's network; it writes the result as a report like this page.</p>",
        "</section>",
        _footer(),
    ]
    return _page(title, body)


def plan_drawing(plan: Plan, camera_address: str | None = None) -> SiteDrawing:
    lanes = tuple(Lane(flow, Ink.PLANNED, flow.purpose) for flow in plan.flows)
    marks = tuple(ForwardMark(fw, i, Ink.PLANNED) for i, fw in enumerate(plan.forwards, start=1))
    return SiteDrawing(
        plan=plan,
        lanes=lanes,
        forwards=marks,
        camera_address=redact_text(camera_address) if camera_address else None,
        legend=(Ink.PLANNED,),
    )


def _checklists(plan: Plan) -> str:
    scenario = plan.scenario
    if not plan.routers():
        return (
            '<section class="checklist"><h2>IP sharers</h2><p>None: both ends have public '
            "addresses, so nothing is forwarded. Any firewall between them must pass the "
            "flows below.</p></section>"
        )
    out = []
    for router in plan.routers():
        mine = [fw for fw in plan.forwards if fw.router is router]
        heading = (
            f"{sentence_case(ROUTER_NAME[router])} (in front of the {host_name(router, scenario)})"
        )
        if not mine:
            out.append(
                f'<section class="checklist"><h2>{_e(heading)}</h2>'
                "<p>Nothing to forward on this IP sharer.</p></section>"
            )
            continue
        rows = []
        for fw in mine:
            rows.append(
                f'<tr><td class="box">☐</td><td>#{plan.forwards.index(fw) + 1}</td>'
                f"<td>{_e(fw.protocol.upper())}</td><td>{_e(ports_text(fw.ports))}</td>"
                f"<td>the {_e(host_name(fw.to, scenario))}'s LAN address</td>"
                f"<td>{_e(ports_text(fw.to_ports))}</td>"
                f"<td>{'yes' if fw.required else 'no (optional)'}</td>"
                f"<td>{_e(', '.join(fw.serves))}</td></tr>"
            )
        out.append(
            f'<section class="checklist"><h2>{_e(heading)}</h2><table><thead><tr>'
            "<th>done</th><th>#</th><th>protocol</th><th>external port(s)</th>"
            "<th>forward to</th><th>internal port(s)</th><th>required</th><th>carries</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
        )
    return "".join(out)


def _plan_flows_table(plan: Plan) -> str:
    rows = []
    for f in plan.flows:
        required = ("yes" if f.required else "no") if f.supported else "not supported"
        rows.append(
            f'<tr data-flow="{_e(f.name)}"><td><b>{_e(f.name)}</b></td>'
            f'<td class="nowrap">{_e(f.protocol.upper())} {_e(ports_text(f.ports))}</td>'
            f'<td class="path">{_e(flow_path(f, plan.scenario))}</td><td>{_e(required)}</td>'
            f"<td>{_e(f.purpose)}</td></tr>"
        )
    return (
        '<section class="flows"><h2>Flows to verify</h2><table class="results"><thead><tr>'
        "<th>flow</th><th>ports</th><th>path</th><th>required</th><th>purpose</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


# The scenario options' defaults: left out of a suggested command line.
_DEFAULTS: dict[str, Any] = {
    "camera_side": "private",
    "client_side": "private",
    "http_port": 80,
    "base_port": 2222,
    "rtsp_port": 554,
    "stream": "video1",
    "sdk_cameras": 1,
}


def check_command(scenario: Scenario, camera: str = CAMERA_PLACEHOLDER) -> list[str]:
    """The ``truenprobe check`` argv that verifies this scenario."""
    argv = ["truenprobe", "check", camera]
    for key, value in scenario_to_dict(scenario).items():
        if value is None or _DEFAULTS.get(key) == value:
            continue
        argv += [f"--{key.replace('_', '-')}", str(value)]
    return [*argv, "--html", "report.html"]


# --- the page ----------------------------------------------------------------------

# No script, no external anything: the policy makes that a property of the file.
_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)

_CSS = """
:root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue",
       Arial, sans-serif; color: var(--ink); margin: 0 auto; padding: 16px 20px;
       max-width: 1120px; }
h1 { font-size: 20px; margin: 0 0 2px; }
h2 { font-size: 15px; margin: 14px 0 6px; }
p { margin: 4px 0; }
.head { display: flex; gap: 14px; align-items: center; }
.verdict { color: #fff; font-weight: 700; font-size: 18px; padding: 8px 14px;
           border-radius: 8px; letter-spacing: .04em; }
.sub { color: var(--muted); }
.facts { display: flex; flex-wrap: wrap; gap: 2px 22px; margin: 10px 0; }
.facts dt { color: var(--muted); }
.facts dt::after { content: ":"; }
.facts dd { margin: 0 0 0 4px; font-weight: 600; overflow-wrap: anywhere; }
.facts dt, .facts dd { display: inline; }
.fixes { border: 2px solid #cf222e; background: #fff8f7; border-radius: 8px;
         padding: 4px 14px 8px; margin: 10px 0; }
.fixes h2 { color: #cf222e; }
.fixes ol { margin: 0; padding-left: 20px; }
.fail { color: #cf222e; }
.rule b { font-size: 15px; }
.rule-table { border-collapse: collapse; margin: 4px 0 6px; }
.rule-table th, .rule-table td { border: 1px solid var(--line); padding: 2px 8px;
                                 text-align: left; }
.rule-table th { font-weight: 500; color: var(--muted); }
figure.site { margin: 8px 0; }
svg.site { width: 100%; height: auto; display: block; }
svg .box { fill: #f6f8fa; stroke: #8c959f; stroke-width: 1.2; }
svg .glyph { fill: none; stroke: #57606a; stroke-width: 1.6; }
svg .cloud { fill: #eef4fb; stroke: #8c959f; stroke-width: 1.2; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
           fill: var(--ink); }
svg .node-title { font-size: 14px; font-weight: 600; }
svg .sharer-title { font-size: 13px; }
svg .node-sub, svg .forward-none { font-size: 11.5px; fill: #57606a; }
svg .forward-text { font-size: 10.5px; }
svg .forward-add { font-size: 10.5px; font-weight: 700; }
svg .flow-label { font-size: 12.5px; font-weight: 600; }
svg .flow-note { font-size: 11px; }
svg .badge-text { font-size: 10.5px; font-weight: 700; }
svg .legend-text { font-size: 11px; fill: #57606a; }
svg .lifeline { stroke: #afb8c1; stroke-width: 1; stroke-dasharray: 3 3; }
svg .sharer-band { fill: #eaeef2; stroke: #afb8c1; stroke-width: .8; }
table { border-collapse: collapse; width: 100%; }
table.results th, table.results td, .checklist th, .checklist td {
  border-bottom: 1px solid var(--line); padding: 4px 6px; text-align: left;
  vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.box { font-size: 16px; }
.nowrap { white-space: nowrap; }
.pill { display: inline-block; border: 1px solid; border-radius: 10px; padding: 0 8px;
        font-weight: 700; white-space: nowrap; font-size: 12px; }
.tag { font-size: 11px; color: var(--muted); border: 1px solid var(--line);
       border-radius: 6px; padding: 0 4px; }
.purpose { font-size: 12px; color: var(--muted); }
.diagnosis { font-weight: 600; }
.evidence { margin: 2px 0; display: grid; grid-template-columns: max-content 1fr;
            gap: 0 10px; font-size: 12px; }
.evidence dt { color: var(--muted); }
.evidence dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas,
               monospace; overflow-wrap: anywhere; }
.none { color: var(--muted); font-size: 12px; }
pre.command { background: #f6f8fa; border: 1px solid var(--line); border-radius: 6px;
              padding: 8px 10px; white-space: pre-wrap; overflow-wrap: anywhere; margin: 4px 0; }
ul { margin: 4px 0; padding-left: 20px; }
footer { margin-top: 14px; color: var(--muted); font-size: 12px; }
section.camera { border-top: 3px solid var(--line); margin-top: 18px; padding-top: 10px; }
a { color: inherit; }
@page { margin: 10mm; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 8pt; line-height: 1.3; padding: 0; max-width: none; }
  h1 { font-size: 11.5pt; }
  h2 { font-size: 9pt; margin: 5px 0 2px; }
  .verdict { font-size: 11pt; padding: 4px 9px; }
  .facts { margin: 3px 0; }
  .fixes { padding: 1px 10px 3px; margin: 4px 0; }
  .rule b { font-size: 8.5pt; }
  .rule-table { margin: 2px 0 3px; }
  .rule-table th, .rule-table td { padding: 0 6px; }
  figure.site { margin: 3px 0; break-inside: avoid; }
  svg.site { max-height: 120mm; }
  th { font-size: 7pt; }
  table.results th, table.results td, .checklist th, .checklist td { padding: 1px 4px; }
  td.path { white-space: nowrap; }
  .pill { font-size: 7pt; }
  .purpose, .evidence, .none, .tag { font-size: 6.5pt; }
  .diagnosis { font-size: 7.5pt; }
  .evidence { display: block; margin: 0; }
  .evidence dt, .evidence dd { display: inline; }
  .evidence dt::after { content: ": "; }
  .evidence dd::after { content: " · "; }
  .evidence dd:last-child::after { content: ""; }
  tr, .fixes li, .rule-table { break-inside: avoid; }
  section.camera { break-before: page; border-top: none; margin-top: 0; padding-top: 0; }
  thead { display: table-header-group; }
  pre.command { font-size: 7pt; padding: 2px 6px; }
  ul { margin: 2px 0; }
  footer { font-size: 6.5pt; margin-top: 4px; }
}
"""


def _footer() -> str:
    return (
        f"<footer>Made by truenprobe {_e(__version__)} from Truen's port-usage document. "
        "This file is self-contained: it loads nothing and runs no script.</footer>"
    )


def _page(title: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="generator" content="truenprobe">',
            f"<title>{_e(title)}</title>",
            f"<style>{_CSS}</style>",
            "</head>",
            "<body>",
            *[part for part in body if part],
            "</body>",
            "</html>",
            "",
        ]
    )


__all__ = ["check_command", "render_plan_html", "render_report_html", "render_reports_html"]

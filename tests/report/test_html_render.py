"""The HTML renderers as strings: structure, content, escaping, redaction. No browser here;
test_html_browser.py renders the same pages in Chromium."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from html import escape
from html.parser import HTMLParser

import pytest

from tests.report.html_samples import (
    CAMERA,
    SCENARIOS,
    fleet,
    mixed_statuses,
    plan_of,
    report_for,
)
from truenprobe.plan import build_scenario
from truenprobe.plan.model import Forward, Host, PortRange
from truenprobe.report.html import (
    check_command,
    render_plan_html,
    render_report_html,
    render_reports_html,
)
from truenprobe.report.model import FlowResult, Status
from truenprobe.report.redact import REDACTED
from truenprobe.report.svg import COLOUR, Ink

SVG_NS = "{http://www.w3.org/2000/svg}"
WHEN = datetime(2026, 11, 27, 9, 30, 5, tzinfo=UTC)
HOSTILE = '"><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


class _Tags(HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser.tags


def svg_of(page: str) -> ET.Element:
    """The page's SVG, parsed as XML: it must be well-formed to render at all."""
    match = re.search(r"<svg .*?</svg>", page, re.DOTALL)
    assert match, "no <svg> in the page"
    return ET.fromstring(match.group(0))


def flow_groups(svg: ET.Element) -> list[ET.Element]:
    return [g for g in svg.iter(f"{SVG_NS}g") if g.get("class") == "flow"]


def assert_self_contained_and_inert(page: str) -> None:
    for tag, attrs in tags_of(page):
        assert tag not in ("script", "iframe", "object", "embed", "link", "img", "base"), tag
        for name, value in attrs.items():
            assert not name.startswith("on"), f"<{tag} {name}=...>"
            assert name not in ("src", "xlink:href", "srcset", "action"), (tag, name)
            if name == "href":  # only links within the page
                assert (value or "").startswith("#"), (tag, value)
            assert "javascript:" not in (value or "").lower()
    lowered = page.lower()
    assert "url(" not in lowered
    assert "@import" not in lowered


@pytest.mark.parametrize(("name", "options"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_report_draws_one_arrow_per_flow_in_its_colour(name: str, options: dict) -> None:
    plan = plan_of(options)
    statuses = mixed_statuses(plan)
    report = report_for(options, statuses)
    page = render_report_html(report, ["truenprobe", "check", CAMERA], checked_at=WHEN)

    groups = flow_groups(svg_of(page))
    assert [g.get("data-flow") for g in groups] == [f.name for f in plan.flows]
    by_name = {r.flow: r for r in report.results}
    for group in groups:
        status = by_name[group.attrib["data-flow"]].status
        assert group.get("data-status") == status.value
        line = group.find(f"{SVG_NS}line")
        head = group.find(f"{SVG_NS}polygon")
        assert line is not None
        assert head is not None
        assert line.get("stroke") == COLOUR[Ink(status.value)]
        assert head.get("fill") == COLOUR[Ink(status.value)]
    assert_self_contained_and_inert(page)


@pytest.mark.parametrize(("name", "options"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_plan_draws_every_flow_and_every_forward(name: str, options: dict) -> None:
    plan = plan_of(options)
    page = render_plan_html(plan, prepared_at=WHEN)
    svg = svg_of(page)
    groups = flow_groups(svg)
    assert [g.get("data-flow") for g in groups] == [f.name for f in plan.flows]
    assert {g.get("data-status") for g in groups} == {"planned"}
    forwards = [g for g in svg.iter(f"{SVG_NS}g") if g.get("class") == "forward"]
    assert sorted(int(g.attrib["data-forward"]) for g in forwards) == list(
        range(1, len(plan.forwards) + 1)
    )
    for router in (Host.CLIENT, Host.CAMERA):
        node = f"{router.value}-sharer"
        kinds = [g.get("class") for g in svg.iter(f"{SVG_NS}g") if g.get("data-node") == node]
        expected = "node sharer" if plan.scenario.is_private(router) else "node no-sharer"
        assert kinds == [expected]
    assert "2026-11-27 09:30:05" in page
    assert_self_contained_and_inert(page)


def test_failure_marks_its_forward_and_spells_out_the_rule() -> None:
    options = {"client": "decoder", "protocol": "rtsp", "transport": "udp"}
    report = report_for(options, {"rtp-video": Status.FAIL})
    page = render_report_html(report, "truenprobe check 203.0.113.5", checked_at=WHEN)
    svg = svg_of(page)

    marked = {
        g.get("data-forward"): g.get("data-status")
        for g in svg.iter(f"{SVG_NS}g")
        if g.get("class") == "forward"
    }
    # #1 TCP 554 carried the passing RTSP control; #3 is the client-side UDP 554-555.
    assert marked == {"1": "pass", "2": "pass", "3": "missing"}
    assert "missing? add this rule" in page
    fixes = page[page.index('class="fixes"') : page.index("</section>", page.index("fixes"))]
    assert "Add on the client-side IP sharer" in fixes
    assert "forward UDP 554–555 to the decoder" in fixes
    assert "forward #3 of the plan" in fixes
    # Badges on the failing lane point at the same forward, in red.
    lane = next(g for g in flow_groups(svg) if g.get("data-flow") == "rtp-video")
    badge = lane.find(f"{SVG_NS}g[@class='badge']/{SVG_NS}rect")
    assert badge is not None
    assert badge.get("stroke") == COLOUR[Ink.FAIL]


def test_header_tells_verdict_time_duration_and_command() -> None:
    options = {"client": "web"}
    report = report_for(options, {"http": Status.SKIPPED})
    page = render_report_html(
        report,
        ["truenprobe", "check", CAMERA, "--client", "web", "--password", "hunter2"],
        checked_at=WHEN,
    )
    assert ">INCOMPLETE<" in page
    assert "exit code 3" in page
    assert "2026-11-27 09:30:05+00:00" in page
    assert "6.4 s" in page
    assert "hunter2" not in page
    assert f"--password &#x27;{REDACTED.replace('<', '&lt;').replace('>', '&gt;')}&#x27;" in page


def test_escapes_everything_the_report_carries() -> None:
    options = {"client": "vlc", "transport": "tcp", "camera_side": "public"}
    report = report_for(options, {"rtsp-control": Status.FAIL}, camera=HOSTILE)
    hostile_result = replace(
        report.results[0],
        diagnosis=HOSTILE,
        evidence={HOSTILE: HOSTILE, "reply": {"body": HOSTILE}, "lines": [HOSTILE]},
    )
    report = replace(
        report,
        results=(hostile_result,),
        findings=(HOSTILE,),
        unexpected=({"source": HOSTILE, "port": 5000},),
        source=f"capture:{HOSTILE}",
    )
    page = render_report_html(report, ["truenprobe", "check", HOSTILE], checked_at=WHEN)
    assert_self_contained_and_inert(page)
    assert "<script" not in page.lower()
    assert escape(HOSTILE) in page  # shown as text, for the reader to see
    svg_of(page)  # still well-formed XML with the hostile camera address inside
    plan_page = render_plan_html(plan_of(options), camera_address=HOSTILE)
    assert_self_contained_and_inert(plan_page)
    assert "<script" not in plan_page.lower()


def test_secrets_in_evidence_are_redacted() -> None:
    options = {"client": "vlc", "transport": "tcp"}
    report = report_for(options)
    result = replace(
        report.results[0],
        evidence={
            "url": "rtsp://admin:hunter2@203.0.113.5/video1",
            "password": "hunter2",
            "request": "DESCRIBE ...\r\nAuthorization: Basic YWRtaW46aHVudGVyMg==\r\n",
        },
        diagnosis="401 for rtsp://admin:hunter2@203.0.113.5/video1",
    )
    page = render_report_html(replace(report, results=(result,)), [], checked_at=WHEN)
    assert "hunter2" not in page
    assert "YWRtaW46aHVudGVyMg" not in page
    assert "rtsp://admin:" in page


def test_results_the_plan_does_not_know_and_flows_without_result_are_shown() -> None:
    options = {"client": "decoder", "protocol": "vsnm", "transport": "udp"}
    report = report_for(options)
    stray = FlowResult(
        flow="mystery",
        protocol="udp",
        ports=PortRange.single(9999),
        status=Status.FAIL,
        required=False,
        forward=Forward(
            Host.CLIENT, "udp", PortRange.single(9999), Host.CLIENT, PortRange(9999, 9999)
        ),
    )
    report = replace(report, results=(report.results[0], stray))
    page = render_report_html(report, [], checked_at=WHEN)
    groups = flow_groups(svg_of(page))
    assert [(g.get("data-flow"), g.get("data-status")) for g in groups] == [
        ("base-control", "pass"),
        ("vsnm-media", "skipped"),
    ]
    assert "no result for this flow" in page
    assert 'data-flow="mystery"' in page  # in the table
    assert "not in the plan" in page
    # Its forward is not one of the plan's: still marked, without a number.
    assert 'data-forward="0" data-status="missing"' in page


@pytest.mark.parametrize(("name", "options"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_suggested_check_command_reproduces_the_scenario(name: str, options: dict) -> None:
    scenario = plan_of(options).scenario
    argv = check_command(scenario)
    assert argv[:3] == ["truenprobe", "check", "CAMERA-ADDRESS"]
    assert argv[-2:] == ["--html", "report.html"]
    pairs = argv[3:-2]
    parsed = {pairs[i][2:].replace("-", "_"): pairs[i + 1] for i in range(0, len(pairs), 2)}
    assert build_scenario(parsed) == scenario


def test_evidence_reads_as_text_not_json() -> None:
    report = report_for({"client": "sdk", "transport": "udp"})
    result = replace(
        report.results[1],
        evidence={
            "arrived": {"4333": {"packets": 40, "kind": "rtp"}, "4334": {"packets": 2}},
            "tested_ports": [[4333, 4334]],
            "listening": True,
            "note": None,
            "ratio": 0.25,
        },
    )
    page = render_report_html(replace(report, results=(report.results[0], result)), [])
    assert "4333: (packets: 40, kind: rtp), 4334: (packets: 2)" in page
    assert "[4333, 4334]" in page
    assert "<dd>yes</dd>" in page
    assert "<dd>—</dd>" in page
    assert "<dd>0.25</dd>" in page


def test_fleet_report_has_a_summary_and_one_section_per_camera() -> None:
    reports, names = fleet()
    page = render_reports_html(reports, "truenprobe check --inventory cams.csv", names=names)
    assert page.count('<section class="camera"') == 3
    svgs = re.findall(r"<svg .*?</svg>", page, re.DOTALL)
    assert len(svgs) == 3
    for i, svg in enumerate(svgs, start=1):
        ET.fromstring(svg)
        assert f'aria-labelledby="site-{i}-title"' in svg
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "ids must be unique in the page"
    summary = page[: page.index('<section class="camera"')]
    assert "Fleet check: 3 cameras" in summary
    assert "1 pass, 1 fail, 1 incomplete" in summary
    assert "gate &lt;east&gt;" in summary
    assert "client-side IP sharer: forward UDP 554–555 to the decoder" in summary
    assert summary.count('href="#camera-') == 3
    assert_self_contained_and_inert(page)


def test_one_report_in_a_list_is_the_single_page() -> None:
    reports, names = fleet()
    one = render_reports_html(reports[:1], "x", names=names[:1], checked_at=WHEN)
    assert one == render_report_html(reports[0], "x", checked_at=WHEN)


@pytest.mark.parametrize(
    ("options", "heading"),
    [
        ({"client": "vlc", "transport": "tcp"}, "<h1>VLC client, RTSP over TCP"),
        ({"client": "sdk", "transport": "tcp"}, "<h1>SDK client, VSNM over TCP"),
        ({"client": "web"}, "<h1>Web client, TCP"),
        ({"client": "decoder", "protocol": "vsnm", "transport": "udp"}, "<h1>Decoder client"),
    ],
)
def test_headings_spell_the_client_as_people_do(options: dict, heading: str) -> None:
    assert heading in render_report_html(report_for(options), [])
    assert heading in render_plan_html(plan_of(options))

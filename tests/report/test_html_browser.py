"""The HTML report and work order in a real browser (headless Chromium, over DevTools).

What a reader would notice is checked in the rendered DOM, not in the HTML string: the
page loads with no console error and asks for nothing but itself; the SVG has one
arrow per flow in the colour of its verdict; labels stay inside their boxes; the page
prints on one A4 or Letter page; hostile strings stay text. Every page is also saved
as a screenshot under test-artifacts/html/ for a person to look at.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.report.html_dom import (
    ACTIVE_JS,
    LAYOUT_JS,
    check_arrows,
    check_one_page,
    open_clean,
)
from tests.report.html_samples import (
    CAMERA,
    SCENARIOS,
    fleet,
    mixed_statuses,
    plan_of,
    report_for,
)
from tests.support.chromium import Chromium, pdf_page_count
from truenprobe.report.html import render_plan_html, render_report_html, render_reports_html
from truenprobe.report.model import Report, Status
from truenprobe.report.svg import Ink

pytestmark = pytest.mark.peer

WHEN = datetime(2026, 11, 27, 9, 30, 5, tzinfo=UTC)
HOSTILE = '"><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


def test_harness_sees_console_errors_exceptions_and_requests(
    browser: Chromium, tmp_path: Path
) -> None:
    """The checks below can fail: a noisy page is caught on every channel."""
    page = tmp_path / "noisy.html"
    page.write_text(
        "<!DOCTYPE html><title>noisy</title><p>x</p>"
        "<script>console.error('boom'); console.warn('careful'); missingFunction();</script>"
        # .invalid never resolves, and the browser maps every name to nothing anyway.
        '<img src="http://truenprobe.invalid/pixel.png">'
    )
    load = browser.load(page)
    errors = "\n".join(load.errors())
    assert "console.error: boom" in errors
    assert "console.warning: careful" in errors
    assert "missingFunction is not defined" in errors
    assert "http://truenprobe.invalid/pixel.png" in load.requests


def test_harness_counts_pdf_pages(browser: Chromium, tmp_path: Path) -> None:
    page = tmp_path / "long.html"
    page.write_text("<!DOCTYPE html><title>long</title>" + "<p>line</p>" * 300)
    browser.load(page)
    pdf = browser.print_pdf(tmp_path / "long.pdf")
    assert pdf_page_count(pdf.read_bytes()) > 1


@pytest.mark.parametrize(("name", "options"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_report_in_chromium(
    browser: Chromium, artifacts: Path, name: str, options: dict[str, Any]
) -> None:
    plan = plan_of(options)
    report = report_for(options, mixed_statuses(plan))
    out = artifacts / f"report-{name}.html"
    out.write_text(
        render_report_html(report, ["truenprobe", "check", CAMERA], checked_at=WHEN),
        encoding="utf-8",
    )

    open_clean(browser, out)
    by_flow = {r.flow: r.status for r in report.results}
    check_arrows(browser, {f.name: Ink(by_flow[f.name].value) for f in plan.flows})
    missing = browser.evaluate(
        "[...document.querySelectorAll('g.forward[data-status=missing]')]"
        ".map(g => Number(g.dataset.forward))"
    )
    pointed = {r.forward for r in report.results if r.status is Status.FAIL and r.forward}
    assert sorted(missing) == sorted(plan.forwards.index(fw) + 1 for fw in pointed)
    browser.screenshot(out.with_suffix(".png"))
    check_one_page(browser, out)


@pytest.mark.parametrize(("name", "options"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_plan_in_chromium(
    browser: Chromium, artifacts: Path, name: str, options: dict[str, Any]
) -> None:
    plan = plan_of(options)
    out = artifacts / f"plan-{name}.html"
    out.write_text(render_plan_html(plan, prepared_at=WHEN), encoding="utf-8")

    open_clean(browser, out)
    check_arrows(browser, {f.name: Ink.PLANNED for f in plan.flows})
    boxes = browser.evaluate("document.querySelectorAll('.checklist td.box').length")
    assert boxes == len(plan.forwards)
    browser.screenshot(out.with_suffix(".png"))
    check_one_page(browser, out)


def hostile_report() -> Report:
    options = {"client": "decoder", "protocol": "rtsp", "transport": "udp"}
    report = report_for(options, {"rtp-video": Status.FAIL}, camera=HOSTILE)
    first = replace(
        report.results[0], diagnosis=HOSTILE, evidence={HOSTILE: HOSTILE, "nested": [HOSTILE]}
    )
    return replace(
        report,
        results=(first, *report.results[1:]),
        findings=(HOSTILE,),
        unexpected=({"source": HOSTILE},),
    )


def test_hostile_strings_stay_text(browser: Chromium, artifacts: Path) -> None:
    out = artifacts / "report-hostile.html"
    out.write_text(render_report_html(hostile_report(), ["truenprobe", "check", HOSTILE]))
    open_clean(browser, out)
    assert browser.evaluate(ACTIVE_JS) == {"found": [], "pwned": "undefined"}
    shown = browser.evaluate("document.body.innerText")
    assert HOSTILE in shown
    svg_text = browser.evaluate("document.querySelector('svg.site').textContent")
    assert HOSTILE[:20] in svg_text  # the camera address, drawn on the IP sharer


def test_policy_stops_a_script_that_slipped_in(browser: Chromium, tmp_path: Path) -> None:
    """Defence in depth: were escaping ever broken, the page's policy still runs nothing."""
    page = render_report_html(report_for({"client": "web"}), [], checked_at=WHEN)
    injected = page.replace("<body>", "<body><script>window.__pwned = 3</script>", 1)
    out = tmp_path / "injected.html"
    out.write_text(injected)
    load = browser.load(out)
    assert browser.evaluate("typeof window.__pwned") == "undefined"
    assert any("Content Security Policy" in e for e in load.errors()), load.errors()


def test_plan_format_html_from_the_cli(browser: Chromium, artifacts: Path, cli: Any) -> None:
    out = artifacts / "plan-cli.html"
    result = cli(
        "plan",
        "--client",
        "decoder",
        "--protocol",
        "rtsp",
        "--transport",
        "udp",
        "--format",
        "html",
        "-o",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    open_clean(browser, out)
    flows = plan_of({"client": "decoder", "protocol": "rtsp", "transport": "udp"}).flows
    check_arrows(browser, {f.name: Ink.PLANNED for f in flows})
    text = browser.evaluate("document.body.innerText")
    assert re.search(r"date\s*\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text), text[:400]


def test_fleet_report_in_chromium(browser: Chromium, artifacts: Path) -> None:
    reports, names = fleet()
    out = artifacts / "report-fleet.html"
    out.write_text(
        render_reports_html(reports, "truenprobe check --inventory cams.csv", names=names)
    )
    open_clean(browser, out)
    drawn = browser.evaluate(
        "[...document.querySelectorAll('svg.site')].map(svg =>"
        " [...svg.querySelectorAll('g.flow')].map(g => g.dataset.status))"
    )
    assert drawn == [[r.status.value for r in report.results] for report in reports]
    assert browser.evaluate(LAYOUT_JS) == []
    browser.screenshot(out.with_suffix(".png"))
    for paper in ("a4", "letter"):  # the summary, then one page per camera
        pdf = browser.print_pdf(out.with_suffix(f".{paper}.pdf"), paper=paper)
        assert pdf_page_count(pdf.read_bytes()) == 1 + len(reports)


def test_long_addresses_and_five_digit_ports_stay_in_their_boxes(
    browser: Chromium, artifacts: Path
) -> None:
    options = {
        "client": "vlc",
        "transport": "udp",
        "camera_side": "public",
        "http_port": 48080,
        "base_port": 42222,
        "rtsp_port": 45540,
        "client_port": 65530,
    }
    report = report_for(options, camera="2001:db8:1234:5678:9abc:def0:1234:5678")
    out = artifacts / "report-long-values.html"
    out.write_text(render_report_html(report, [], checked_at=WHEN), encoding="utf-8")
    open_clean(browser, out)
    assert browser.evaluate(LAYOUT_JS) == []
    browser.screenshot(out.with_suffix(".png"))

"""compare(): a Limitation naming a flow means "cannot be decided from here", not "failed".

A capture taken on the camera's side shows the client asking for media (SETUP, PLAY)
but cannot show whether the media reached the client; the analyzer says so with a
flow-named Limitation, and compare() reports the flow skipped with that reason.
"""

from __future__ import annotations

from truenprobe.observations import Limitation, MediaRequest, Observations, UdpArrival, Vantage
from truenprobe.plan import PortRange, build_scenario, resolve
from truenprobe.report.model import Status
from truenprobe.verdict import compare

PLAN = resolve(build_scenario({"client": "vlc", "transport": "udp", "client_port": 5000}))
PLAYED = MediaRequest(
    "udp", None, PortRange(5000, 5001), accepted=True, played_at_ms=10.0,
    granted_ports=PortRange(5000, 5001),
)  # fmt: skip
UNSEEN = Limitation(PortRange(5000, 5000), "udp", "taken on the camera's side", flow="rtp-video")


def status(*records: object) -> tuple[Status, str | None]:
    obs = Observations("203.0.113.10", Vantage.CAMERA, records=records)  # type: ignore[arg-type]
    (result,) = [r for r in compare(PLAN, obs).results if r.flow == "rtp-video"]
    return result.status, result.diagnosis


def test_played_but_undecidable_is_skipped() -> None:
    assert status(PLAYED, UNSEEN) == (Status.SKIPPED, "not tested: taken on the camera's side")


def test_played_and_nothing_arrived_still_fails_without_it() -> None:
    assert status(PLAYED)[0] is Status.FAIL


def test_a_limitation_for_another_flow_changes_nothing() -> None:
    other = Limitation(PortRange(5000, 5001), "udp", "elsewhere", flow="rtcp-video")
    assert status(PLAYED, other)[0] is Status.FAIL


def test_media_that_did_arrive_still_passes() -> None:
    arrival = UdpArrival(5000, "203.0.113.10", 554, "rtp", 10, 1000, first_ms=20.0, belongs=True)
    assert status(PLAYED, UNSEEN, arrival)[0] is Status.PASS

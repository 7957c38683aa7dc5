"""Which side a capture was taken on, from the TTLs of each end's own packets."""

from __future__ import annotations

import pytest

from truenprobe.capture.vantage import EndEvidence, decide
from truenprobe.observations import Vantage


@pytest.mark.parametrize(
    ("client", "camera", "renamed", "vantage", "sees_client", "sees_camera", "words"),
    [
        (64, 62, False, Vantage.CLIENT, True, False, "client's side"),
        (128, 61, False, Vantage.CLIENT, True, False, "client's side"),  # a Windows client
        (61, 255, False, Vantage.CAMERA, False, True, "camera's side"),  # an embedded camera
        (64, 64, False, Vantage.CLIENT, True, True, "no router between"),
        (62, 61, False, Vantage.UNKNOWN, False, False, "between the routers"),
        (62, 61, True, Vantage.CAMERA, False, True, "under its LAN address"),
        (64, 0, False, Vantage.CLIENT, True, False, "no unicast packet from the camera"),
        (0, 0, False, Vantage.UNKNOWN, False, False, "holds no unicast packet"),
    ],
)
def test_decide(
    client: int,
    camera: int,
    renamed: bool,
    vantage: Vantage,
    sees_client: bool,
    sees_camera: bool,
    words: str,
) -> None:
    position = decide(EndEvidence(client), EndEvidence(camera), camera_renamed=renamed)
    assert position.vantage is vantage
    assert (position.sees_client_receive, position.sees_camera_receive) == (
        sees_client,
        sees_camera,
    )
    assert words in position.explanation


def test_hops_from_the_nearest_initial_ttl() -> None:
    assert EndEvidence(62).hops() == 2
    assert EndEvidence(120).hops() == 8
    assert EndEvidence(250).hops() == 5
    assert EndEvidence(0).hops() is None

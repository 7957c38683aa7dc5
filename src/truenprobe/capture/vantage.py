"""Which side of the routers was the capture taken on?

A host sends packets with its initial TTL (64 on Linux and macOS, 128 on Windows, 255
on many embedded systems) and every router on the way takes one off. So where the
client's packets still carry an initial TTL, the capture point sits before the first
router on the client's way: the client's side. The same holds for the camera. When neither end's
packets look fresh the capture was taken somewhere in between, where it can show
neither what reached the client nor what reached the camera.

What the capture can decide follows: traffic toward the client proves arrival only if
the capture point is on the client's side (after every router toward it), traffic
toward the camera only on the camera's side.
"""

from __future__ import annotations

from dataclasses import dataclass

from truenprobe.observations import Vantage

INITIAL_TTLS = (32, 64, 128, 255)


@dataclass(frozen=True)
class Position:
    vantage: Vantage
    sees_client_receive: bool  # traffic toward the client seen here is what the client gets
    sees_camera_receive: bool  # ... toward the camera, what the camera gets
    explanation: str


@dataclass(frozen=True)
class EndEvidence:
    """What the capture shows of one end's own unicast packets."""

    ttl: int = 0  # highest TTL / hop limit seen on its packets (0: none seen)

    @property
    def seen(self) -> bool:
        return self.ttl > 0

    @property
    def fresh(self) -> bool:
        """Not yet routed: captured on the sender's own segment."""
        return self.ttl in INITIAL_TTLS

    def hops(self) -> int | None:
        """Routers passed, assuming the nearest common initial TTL."""
        if not self.seen:
            return None
        initial = min(t for t in INITIAL_TTLS if t >= self.ttl)
        return initial - self.ttl


def _describe(name: str, end: EndEvidence) -> str:
    if not end.seen:
        return f"no unicast packet from the {name}"
    hops = end.hops()
    if hops == 0:
        return f"the {name}'s packets carry their initial TTL ({end.ttl})"
    return f"the {name}'s arrive with TTL {end.ttl} (about {hops} router(s) away)"


def decide(client: EndEvidence, camera: EndEvidence, *, camera_renamed: bool) -> Position:
    """``camera_renamed``: the camera appears under an address other than the one the
    client uses (its LAN address behind its IP sharer), which only a camera-side capture shows.
    """
    client_here, camera_here = client.fresh, camera.fresh
    evidence = f"{_describe('client', client)}, {_describe('camera', camera)}"
    if client_here and camera_here:
        return Position(
            Vantage.CLIENT,
            True,
            True,
            f"the capture shows no router between client and camera ({evidence}): it can "
            "decide every flow",
        )
    if client_here:
        return Position(
            Vantage.CLIENT,
            True,
            False,
            f"the capture was taken on the client's side ({evidence}): it shows what reached "
            "the client, not what reached the camera",
        )
    if camera_here:
        return Position(
            Vantage.CAMERA,
            False,
            True,
            f"the capture was taken on the camera's side ({evidence}): it shows what reached "
            "the camera, not what reached the client",
        )
    if camera_renamed:
        return Position(
            Vantage.CAMERA,
            False,
            True,
            f"the capture appears to be taken on the camera's side: the camera appears under "
            f"its LAN address ({evidence}); it shows what reached the camera, not what reached "
            "the client",
        )
    if not client.seen and not camera.seen:
        return Position(
            Vantage.UNKNOWN,
            False,
            False,
            "the capture holds no unicast packet between client and camera, so the side it was "
            "taken on is unknown",
        )
    return Position(
        Vantage.UNKNOWN,
        False,
        False,
        f"the capture appears to be taken between the routers ({evidence}): it cannot show "
        "what reached either end; capture on the client or on the camera instead",
    )

from __future__ import annotations

from truenprobe.camera.digest_gate import MAX_NONCES, NONCE_LIFETIME, DigestGate
from truenprobe.rtsp import Headers, Request, authorization_for


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def _request(gate: DigestGate, password: str, nonce_from: Request | None = None) -> Request:
    challenge = gate.challenge_for(nonce_from or Request("DESCRIBE", "rtsp://h/video1"))
    assert challenge is not None
    auth = authorization_for(
        challenge, username="admin", password=password, method="DESCRIBE", uri="rtsp://h/video1"
    )
    return Request("DESCRIBE", "rtsp://h/video1", Headers.of(Authorization=auth))


def test_valid_credentials_pass_until_the_nonce_expires() -> None:
    clock = Clock()
    gate = DigestGate("admin", "pw", "realm", clock)
    request = _request(gate, "pw")
    assert gate.challenge_for(request) is None
    clock.now = NONCE_LIFETIME + 1
    stale = gate.challenge_for(request)
    assert stale is not None
    assert stale.stale
    assert gate.challenge_for(_request(gate, "pw")) is None


def test_wrong_password_and_garbage_are_challenged_again() -> None:
    gate = DigestGate("admin", "pw", "realm", Clock())
    wrong = gate.challenge_for(_request(gate, "nope"))
    assert wrong is not None
    assert not wrong.stale
    garbage = Request("DESCRIBE", "x", Headers.of(Authorization='Digest username="a'))
    assert gate.challenge_for(garbage) is not None
    assert gate.failures == 2
    assert "pw" not in repr(gate)


def test_nonce_table_is_bounded() -> None:
    gate = DigestGate("admin", "pw", "realm", Clock())
    for _ in range(MAX_NONCES + 10):
        gate.new_nonce()
    assert len(gate._nonces) <= MAX_NONCES

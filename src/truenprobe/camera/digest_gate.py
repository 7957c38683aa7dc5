"""The camera's Digest authentication (RFC 2617): random nonces with a lifetime."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from truenprobe.rtsp.auth import AuthError, DigestChallenge, parse_authorization, verify_digest
from truenprobe.rtsp.message import Request

NONCE_LIFETIME = 300.0
MAX_NONCES = 4096


class DigestGate:
    """Checks credentials; never stores or logs anything but the nonces it issued."""

    def __init__(self, user: str, password: str, realm: str, clock: Callable[[], float]) -> None:
        self._user = user
        self._password = password
        self.realm = realm
        self.clock = clock
        self._nonces: dict[str, float] = {}
        self.failures = 0

    def __repr__(self) -> str:
        return f"DigestGate(realm={self.realm!r})"

    def new_nonce(self) -> str:
        now = self.clock()
        if len(self._nonces) >= MAX_NONCES:
            self._nonces = {n: t for n, t in self._nonces.items() if t > now}
            while len(self._nonces) >= MAX_NONCES:
                self._nonces.pop(next(iter(self._nonces)))
        nonce = secrets.token_hex(16)
        self._nonces[nonce] = now + NONCE_LIFETIME
        return nonce

    def challenge_for(self, request: Request) -> DigestChallenge | None:
        """None when the request carries valid credentials; else the challenge to send."""
        header = request.headers.get("Authorization")
        stale = False
        if header is not None:
            try:
                credentials = parse_authorization(header)
            except AuthError:
                credentials = None
            if credentials is not None and verify_digest(
                credentials,
                username=self._user,
                password=self._password,
                realm=self.realm,
                method=request.method,
            ):
                if self._nonces.get(credentials.nonce, 0.0) > self.clock():
                    return None
                stale = True  # right password, old nonce: the client may retry silently
            self.failures += 1
        return DigestChallenge(realm=self.realm, nonce=self.new_nonce(), stale=stale)

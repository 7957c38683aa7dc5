"""HTTP Digest authentication for RTSP (RFC 2617, MD5), for a server and a client.

Server: send ``DigestChallenge(realm, nonce).to_header()`` in ``WWW-Authenticate``
with a 401; on the next request ``parse_authorization()`` the header and
``verify_digest()`` it against the password. Client: ``parse_challenges()`` the
401's header, then ``authorization_for()`` builds the ``Authorization`` value.
Nonces come from the caller (the server owns randomness and expiry); nothing here
logs or keeps a password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass


class AuthError(ValueError):
    """An authentication header that cannot be parsed."""


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _parse_params(text: str) -> tuple[dict[str, str], str]:
    """``k=v, k="v", ...`` up to the end or to the start of the next scheme; returns the rest."""
    params: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t,":
            i += 1
        start = i
        while i < n and text[i] not in "=, \t":
            i += 1
        key = text[start:i].lower()
        j = i
        while j < n and text[j] in " \t":
            j += 1
        if not key or j >= n or text[j] != "=":
            return params, text[start:]  # a new scheme starts here (or garbage)
        i = j + 1
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            value = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                value.append(text[i])
                i += 1
            if i >= n:
                raise AuthError("unterminated quoted string in an authentication header")
            i += 1
            params[key] = "".join(value)
        else:
            start = i
            while i < n and text[i] not in ", \t":
                i += 1
            params[key] = text[start:i]
    return params, ""


def parse_challenges(header: str) -> list[tuple[str, dict[str, str]]]:
    """Every ``(scheme, params)`` in a ``WWW-Authenticate`` value (several may be listed)."""
    out: list[tuple[str, dict[str, str]]] = []
    rest = header.strip()
    while rest:
        scheme, _, after = rest.partition(" ")
        if not scheme or "=" in scheme:
            raise AuthError(f"malformed authentication header {header[:60]!r}")
        params, rest = _parse_params(after)
        out.append((scheme.strip(",").lower(), params))
        rest = rest.strip(" \t,")
    return out


@dataclass(frozen=True, slots=True)
class DigestChallenge:
    realm: str
    nonce: str
    opaque: str | None = None
    stale: bool = False
    algorithm: str = "MD5"
    qop: str | None = None  # RTSP servers usually omit qop; "auth" is supported when set

    def to_header(self) -> str:
        parts = [f"realm={_quote(self.realm)}", f"nonce={_quote(self.nonce)}"]
        if self.opaque is not None:
            parts.append(f"opaque={_quote(self.opaque)}")
        if self.stale:
            parts.append("stale=TRUE")
        if self.algorithm:
            parts.append(f"algorithm={self.algorithm}")
        if self.qop:
            parts.append(f"qop={_quote(self.qop)}")
        return "Digest " + ", ".join(parts)

    @classmethod
    def from_params(cls, params: dict[str, str]) -> DigestChallenge:
        if "realm" not in params or "nonce" not in params:
            raise AuthError("Digest challenge without realm or nonce")
        return cls(
            realm=params["realm"],
            nonce=params["nonce"],
            opaque=params.get("opaque"),
            stale=params.get("stale", "").lower() == "true",
            algorithm=params.get("algorithm", "MD5"),
            qop=params.get("qop"),
        )


def digest_challenge(header: str) -> DigestChallenge | None:
    """The Digest challenge in a ``WWW-Authenticate`` value, or None if only others are offered."""
    for scheme, params in parse_challenges(header):
        if scheme == "digest":
            return DigestChallenge.from_params(params)
    return None


@dataclass(frozen=True, slots=True)
class DigestCredentials:
    """The parameters of an ``Authorization: Digest ...`` header."""

    username: str
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str | None = None
    opaque: str | None = None
    qop: str | None = None
    nc: str | None = None
    cnonce: str | None = None

    def to_header(self) -> str:
        parts = [
            f"username={_quote(self.username)}",
            f"realm={_quote(self.realm)}",
            f"nonce={_quote(self.nonce)}",
            f"uri={_quote(self.uri)}",
            f"response={_quote(self.response)}",
        ]
        if self.algorithm:
            parts.append(f"algorithm={self.algorithm}")
        if self.opaque is not None:
            parts.append(f"opaque={_quote(self.opaque)}")
        if self.qop:
            parts += [f"qop={self.qop}", f"nc={self.nc}", f"cnonce={_quote(self.cnonce or '')}"]
        return "Digest " + ", ".join(parts)


def parse_authorization(header: str) -> DigestCredentials | None:
    """Digest credentials from an ``Authorization`` value; None for another scheme."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "digest":
        return None
    params, _ = _parse_params(rest)
    missing = [k for k in ("username", "realm", "nonce", "uri", "response") if k not in params]
    if missing:
        raise AuthError(f"Digest authorization without {', '.join(missing)}")
    return DigestCredentials(
        username=params["username"],
        realm=params["realm"],
        nonce=params["nonce"],
        uri=params["uri"],
        response=params["response"],
        algorithm=params.get("algorithm"),
        opaque=params.get("opaque"),
        qop=params.get("qop"),
        nc=params.get("nc"),
        cnonce=params.get("cnonce"),
    )


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def digest_response(
    *,
    username: str,
    password: str,
    realm: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
) -> str:
    """The ``response=`` value of RFC 2617 §3.2.2 (MD5; qop absent or ``auth``)."""
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    if qop:
        return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _md5(f"{ha1}:{nonce}:{ha2}")


def authorization_for(
    challenge: DigestChallenge,
    *,
    username: str,
    password: str,
    method: str,
    uri: str,
    cnonce: str | None = None,
    nc: int = 1,
) -> str:
    """The client's ``Authorization`` header value answering ``challenge``.

    ``cnonce`` matters only when the server asks for ``qop=auth``; by default it is random.
    """
    qop = "auth" if challenge.qop and "auth" in challenge.qop.split(",") else None
    cnonce = cnonce or secrets.token_hex(8)
    nc_text = f"{nc:08x}" if qop else None
    response = digest_response(
        username=username,
        password=password,
        realm=challenge.realm,
        nonce=challenge.nonce,
        method=method,
        uri=uri,
        qop=qop,
        nc=nc_text,
        cnonce=cnonce if qop else None,
    )
    return DigestCredentials(
        username=username,
        realm=challenge.realm,
        nonce=challenge.nonce,
        uri=uri,
        response=response,
        algorithm=challenge.algorithm or None,
        opaque=challenge.opaque,
        qop=qop,
        nc=nc_text,
        cnonce=cnonce if qop else None,
    ).to_header()


def verify_digest(
    credentials: DigestCredentials, *, username: str, password: str, realm: str, method: str
) -> bool:
    """True when the credentials prove knowledge of ``password`` (constant-time compare).

    The caller checks separately that ``credentials.nonce`` is one it issued and still valid.
    """
    if credentials.realm != realm or not hmac.compare_digest(
        credentials.username.encode(), username.encode()
    ):
        return False
    if credentials.algorithm and credentials.algorithm.upper() != "MD5":
        return False
    expected = digest_response(
        username=username,
        password=password,
        realm=realm,
        nonce=credentials.nonce,
        method=method,
        uri=credentials.uri,
        qop=credentials.qop,
        nc=credentials.nc,
        cnonce=credentials.cnonce,
    )
    return hmac.compare_digest(expected.encode(), credentials.response.lower().encode())

from __future__ import annotations

import pytest

from truenprobe.rtsp import (
    AuthError,
    DigestChallenge,
    authorization_for,
    digest_challenge,
    digest_response,
    parse_authorization,
    parse_challenges,
    verify_digest,
)


def test_rfc2617_example_response() -> None:
    # RFC 2617 §3.5
    assert (
        digest_response(
            username="Mufasa",
            password="Circle Of Life",
            realm="testrealm@host.com",
            nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
            method="GET",
            uri="/dir/index.html",
            qop="auth",
            nc="00000001",
            cnonce="0a4f113b",
        )
        == "6629fae49393a05397450978507c4ef1"
    )


@pytest.mark.parametrize("qop", [None, "auth"])
def test_client_answer_verifies_on_the_server(qop: str | None) -> None:
    challenge = DigestChallenge(realm="Truen", nonce="n0nce", opaque="op", qop=qop)
    parsed = digest_challenge('Basic realm="x", ' + challenge.to_header())
    assert parsed == challenge
    header = authorization_for(
        parsed, username="admin", password='p"w', method="DESCRIBE", uri="rtsp://h/video1"
    )
    creds = parse_authorization(header)
    assert creds is not None
    assert creds.nonce == "n0nce"
    assert creds.opaque == "op"
    kwargs = {"username": "admin", "realm": "Truen", "method": "DESCRIBE"}
    assert verify_digest(creds, password='p"w', **kwargs)
    assert not verify_digest(creds, password="wrong", **kwargs)
    assert not verify_digest(creds, password='p"w', **{**kwargs, "method": "PLAY"})
    assert not verify_digest(creds, password='p"w', **{**kwargs, "username": "root"})


def test_parse_challenges_lists_every_scheme() -> None:
    challenges = parse_challenges('Digest realm="a, b", nonce="1", Basic realm="c"')
    assert challenges == [("digest", {"realm": "a, b", "nonce": "1"}), ("basic", {"realm": "c"})]
    assert digest_challenge('Basic realm="c"') is None


def test_malformed_authorization() -> None:
    assert parse_authorization("Basic YWRtaW46YWRtaW4=") is None
    with pytest.raises(AuthError):
        parse_authorization('Digest username="a"')
    with pytest.raises(AuthError):
        parse_challenges('Digest realm="unterminated')

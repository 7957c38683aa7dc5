"""The one sans-IO RTSP place (RFC 2326): bytes in, events out; events in, bytes out.

Shared by the emulated camera (server role), the prober's raw checks and the capture
analyzer (client role, or reading either side of a capture). Nothing here touches a
socket or a clock.

Server role::

    reader = MessageReader.for_server()
    reader.receive_data(data)
    while isinstance(event := reader.next_event(), Request | InterleavedFrame):
        ...  # answer with Response(200, Headers.of(CSeq=event.cseq)).to_bytes()

Client role: ``Request(...).to_bytes()`` out, ``MessageReader.for_client()`` in.
"""

from truenprobe.rtsp.auth import (
    AuthError,
    DigestChallenge,
    DigestCredentials,
    authorization_for,
    digest_challenge,
    digest_response,
    parse_authorization,
    parse_challenges,
    verify_digest,
)
from truenprobe.rtsp.fields import (
    FieldError,
    RtpInfo,
    SessionField,
    format_parameters,
    format_rtp_info,
    parse_parameter_names,
    parse_parameters,
    parse_public,
    parse_rtp_info,
    parse_session,
)
from truenprobe.rtsp.message import (
    REASONS,
    RTSP_VERSION,
    Headers,
    InterleavedFrame,
    Message,
    Request,
    Response,
    interleaved_prefix,
    reason_for,
    redact_userinfo,
)
from truenprobe.rtsp.reader import (
    CLOSED,
    MAX_BODY_BYTES,
    MAX_HEADER_BYTES,
    NEED_DATA,
    Closed,
    Event,
    MessageReader,
    NeedData,
    RtspProtocolError,
)
from truenprobe.rtsp.sdp import (
    SdpError,
    SdpMedia,
    SessionDescription,
    h264_fmtp,
    parse_sdp,
    resolve_control,
)
from truenprobe.rtsp.transport import (
    TransportError,
    TransportSpec,
    format_transport,
    is_multicast_address,
    parse_transport,
    parse_transports,
)

__all__ = [
    "CLOSED",
    "MAX_BODY_BYTES",
    "MAX_HEADER_BYTES",
    "NEED_DATA",
    "REASONS",
    "RTSP_VERSION",
    "AuthError",
    "Closed",
    "DigestChallenge",
    "DigestCredentials",
    "Event",
    "FieldError",
    "Headers",
    "InterleavedFrame",
    "Message",
    "MessageReader",
    "NeedData",
    "Request",
    "Response",
    "RtpInfo",
    "RtspProtocolError",
    "SdpError",
    "SdpMedia",
    "SessionDescription",
    "SessionField",
    "TransportError",
    "TransportSpec",
    "authorization_for",
    "digest_challenge",
    "digest_response",
    "format_parameters",
    "format_rtp_info",
    "format_transport",
    "h264_fmtp",
    "interleaved_prefix",
    "is_multicast_address",
    "parse_authorization",
    "parse_challenges",
    "parse_parameter_names",
    "parse_parameters",
    "parse_public",
    "parse_rtp_info",
    "parse_sdp",
    "parse_session",
    "parse_transport",
    "parse_transports",
    "reason_for",
    "redact_userinfo",
    "resolve_control",
    "verify_digest",
]

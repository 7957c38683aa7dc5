"""RTP/RTCP parse and build (RFC 3550) and the H.264 packetizer (RFC 6184). No I/O."""

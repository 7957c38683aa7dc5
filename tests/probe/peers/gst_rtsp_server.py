"""GStreamer's RTSP server (gst-rtsp-server through python3-gi): a peer we did not write.

Run with Debian's /usr/bin/python3 (gi is not importable from the project's venv):

    /usr/bin/python3 gst_rtsp_server.py --address 127.0.0.2 --port 8554 \
        [--multicast-group 239.1.2.3 --multicast-port 64704] [--audio] [--protocols udp,tcp,mcast]

It serves a small live test stream on /video1 and /video1s (/video1+audio1 with --audio)
and prints ``READY <port>`` once it listens. It stops on SIGTERM or when stdin closes.
"""

from __future__ import annotations

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

# Cheap to encode on a busy 2-core machine: H.264 at 160x120, 10 frames a second.
VIDEO = (
    "videotestsrc is-live=true pattern=ball ! video/x-raw,width=160,height=120,framerate=10/1 "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=10 "
    "! rtph264pay name=pay0 pt=96 config-interval=1"
)
AUDIO = "audiotestsrc is-live=true wave=sine ! mulawenc ! rtppcmupay name=pay1 pt=0"

PROTOCOLS = {
    "udp": GstRtsp.RTSPLowerTrans.UDP,
    "tcp": GstRtsp.RTSPLowerTrans.TCP,
    "mcast": GstRtsp.RTSPLowerTrans.UDP_MCAST,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--protocols", default="udp,tcp,mcast")
    parser.add_argument("--multicast-group")
    parser.add_argument("--multicast-port", type=int, default=64704)
    parser.add_argument("--multicast-iface")
    parser.add_argument("--audio", action="store_true")
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))

    protocols = GstRtsp.RTSPLowerTrans(0)
    for name in args.protocols.split(","):
        protocols |= PROTOCOLS[name.strip()]

    mounts = server.get_mount_points()
    streams = {"/video1": f"( {VIDEO} )", "/video1s": f"( {VIDEO} )"}
    if args.audio:
        streams["/video1+audio1"] = f"( {VIDEO} {AUDIO} )"
    for offset, (path, launch) in enumerate(streams.items()):
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        factory.set_shared(True)
        factory.set_protocols(protocols)
        if args.multicast_group:
            pool = GstRtspServer.RTSPAddressPool()
            # One fixed port per stream (2 apart, like Truen's 64704/64706).
            port = args.multicast_port + 2 * offset
            pool.add_range(args.multicast_group, args.multicast_group, port, port + 3, 16)
            factory.set_address_pool(pool)
            if args.multicast_iface:
                factory.set_multicast_iface(args.multicast_iface)
        mounts.add_factory(path, factory)

    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        sys.stderr.write("gst_rtsp_server: cannot listen\n")
        sys.exit(1)
    sys.stdout.write(f"READY {server.get_bound_port()}\n")
    sys.stdout.flush()

    def stop(*_args: object) -> bool:
        loop.quit()
        return False

    signal.signal(signal.SIGTERM, lambda *_: GLib.idle_add(stop))
    GLib.io_add_watch(GLib.IOChannel.unix_new(0), GLib.IO_HUP | GLib.IO_IN, stop)
    loop.run()


if __name__ == "__main__":
    main()

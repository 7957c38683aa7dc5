"""The live prober: from the client's network, exercise each flow of a plan and record
what happens as Observations (TCP connects, RTSP sessions driven with aiortsp, UDP
listeners with asyncio-dgram, the camera as a traffic generator, tagged test datagrams).

Nothing here judges: ``truenprobe.verdict.compare()`` turns the Observations into a Report.
"""

"""Captures: read a pcap/pcapng into the prober's Observations, and record one with --pcap.

Reading never imports scapy: the file is streamed and dissected in place with
``struct`` (pcapfile -> layers -> scan -> observe), which keeps a 1 GB capture within
a few tens of megabytes and faster than tshark. scapy is imported only to record
(``truenprobe.capture.record``), and only when a recording starts.
"""

"""Captures: our own exchanges written as pcapng, pcap/pcapng files read back into
Traces, live capture.

Only this package may import scapy, and only inside the functions that need it
(live capture): ``sipcheck --help`` and ``sipcheck register`` never load it. The
file formats and the header decoding are done here with ``struct`` (streaming, one
packet at a time); the Traces they produce go through the same diagnosis and
renderers as a live run.
"""

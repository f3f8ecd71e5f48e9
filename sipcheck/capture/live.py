"""Live capture with scapy: raw frames from an interface, for the same reader that
``analyze`` uses. scapy is imported here, when a capture starts, and nowhere else.

scapy's listening socket (PF_PACKET on Linux, BPF or libpcap elsewhere) hands over
the frame's octets, the time the kernel stamped and the layer it guessed; the
octets are decoded by ``sipcheck.capture.decode`` like a file's.
"""

from __future__ import annotations

import logging
import select
import socket
import struct
import time
from typing import Any

from sipcheck.capture.files import Frame
from sipcheck.errors import TransportError

# scapy's guessed first layer -> the link type of the octets
_LINKTYPES = {"Ether": 1, "Raw": 1, "CookedLinux": 113, "CookedLinuxV2": 276,
              "IP": 101, "IPv6": 101, "Loopback": 0}  # fmt: skip

PACKET_OUTGOING = 4  # linux/if_packet.h
ARPHRD_ETHER, ARPHRD_LOOPBACK = 1, 772  # linux/if_arp.h
NEEDS = "root, or the CAP_NET_RAW capability (sudo setcap cap_net_raw+ep on the Python binary)"


class LiveCapture:
    def __init__(self, iface: str, bpf: str) -> None:
        logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
        logging.getLogger("scapy").setLevel(logging.ERROR)
        try:
            import scapy.arch  # noqa: F401  (puts the platform's sockets in conf)
            from scapy.config import conf
        except ImportError as exc:  # pragma: no cover - scapy is a dependency
            raise TransportError(f"live capture needs scapy: {exc}") from None
        self.iface = iface
        self.number = 0
        try:
            self._socket: Any = conf.L2listen(iface=iface, filter=bpf)
        except PermissionError:
            raise TransportError(f"capturing on {iface} needs {NEEDS}") from None
        except OSError as exc:
            if getattr(exc, "errno", None) in (1, 13):  # EPERM, EACCES
                raise TransportError(f"capturing on {iface} needs {NEEDS}") from None
            raise TransportError(f"cannot capture on {iface}: {exc.strerror or exc}") from None
        except Exception as exc:  # scapy's own errors: a bad filter, no such interface
            raise TransportError(f"cannot capture on {iface}: {exc}") from None
        ins = getattr(self._socket, "ins", None)
        family = getattr(socket, "AF_PACKET", None)
        self._packet_socket = (
            ins if family is not None and getattr(ins, "family", None) == family else None
        )

    def next_frame(self, timeout: float) -> Frame | None:
        """The next frame, or None when none came within ``timeout`` seconds."""
        ready, _, _ = select.select([self._socket], [], [], timeout)
        if not ready:
            return None
        try:
            if self._packet_socket is not None:
                return self._linux()
            kind, data, stamp = self._socket.recv_raw()
        except OSError:
            return None
        if data is None:
            return None
        linktype = _LINKTYPES.get(getattr(kind, "__name__", ""), 1)
        return self._frame(float(stamp or time.time()), linktype, bytes(data))

    def _linux(self) -> Frame | None:
        """Linux PF_PACKET: on the loopback interface every packet is seen twice, going
        out and coming in; like libpcap, keep one (the incoming)."""
        assert self._packet_socket is not None
        data, where = self._packet_socket.recvfrom(65535)
        pkttype, hatype = where[2], where[3]
        if pkttype == PACKET_OUTGOING and hatype == ARPHRD_LOOPBACK:
            return None
        linktype = 1 if hatype in (ARPHRD_ETHER, ARPHRD_LOOPBACK) else 113
        if linktype == 113:  # no link header to speak of: make a Linux cooked one
            protocol = where[1]
            data = struct.pack("!HHH8sH", pkttype, hatype, 0, b"", protocol) + data
        return self._frame(time.time(), linktype, data)

    def _frame(self, when: float, linktype: int, data: bytes) -> Frame:
        self.number += 1
        return Frame(self.number, when, linktype, data)

    def close(self) -> None:
        try:
            self._socket.close()
        except OSError:
            pass

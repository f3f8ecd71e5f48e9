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


ANY = "any"  # as for tcpdump: every interface


def unknown_interface(iface: str) -> str | None:
    """Why ``iface`` cannot be captured on because it is not there, or None."""
    if iface == ANY or not hasattr(socket, "if_nameindex"):
        return None
    names = [name for _index, name in socket.if_nameindex()]
    if iface in names:
        return None
    return f"no interface named {iface!r} here (there are: {', '.join([*names, ANY])})"


def filter_error(bpf: str) -> str | None:
    """libpcap's reason for refusing the capture filter ``bpf``, or None (also when
    libpcap cannot be asked: the capture then says it)."""
    try:
        from scapy.arch.common import compile_filter
        from scapy.error import Scapy_Exception
    except ImportError:  # pragma: no cover - scapy is a dependency
        return None
    try:
        compile_filter(bpf, linktype=1)  # Ethernet: needs no interface and no privilege
    except ImportError:  # no libpcap
        return None
    except Scapy_Exception as exc:
        return str(exc)
    return None


class NoPrivilege(TransportError):
    """Capturing needs root or CAP_NET_RAW."""


class CannotCapture(TransportError):
    def __init__(self, iface: str, reason: str) -> None:
        super().__init__(f"cannot capture on {iface}: {reason}")
        self.iface, self.reason = iface, reason


class _Listener:
    """scapy's listening socket on one interface (and, on Linux, its PF_PACKET socket)."""

    def __init__(self, conf: Any, iface: str, bpf: str) -> None:
        try:
            self.socket: Any = conf.L2listen(iface=iface, filter=bpf)
        except PermissionError:
            raise NoPrivilege(f"capturing on {iface} needs {NEEDS}") from None
        except OSError as exc:
            if getattr(exc, "errno", None) in (1, 13):  # EPERM, EACCES
                raise NoPrivilege(f"capturing on {iface} needs {NEEDS}") from None
            raise CannotCapture(iface, str(exc.strerror or exc)) from None
        except Exception as exc:  # scapy's own errors: a bad filter, no such interface
            raise CannotCapture(iface, str(exc)) from None
        ins = getattr(self.socket, "ins", None)
        family = getattr(socket, "AF_PACKET", None)
        self.packet_socket = (
            ins if family is not None and getattr(ins, "family", None) == family else None
        )

    def fileno(self) -> int:
        return int(self.socket.fileno())


class LiveCapture:
    """Frames from one interface, or from every one (``any``: a listening socket on
    each, as scapy's listen on one interface only)."""

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
        self._listeners: list[_Listener] = []
        self.skipped: list[str] = []  # with ``any``: the interfaces that could not be opened
        if iface != ANY:
            self._listeners.append(_Listener(conf, iface, bpf))
            return
        unusable: list[CannotCapture] = []  # an interface that is down, say
        try:
            for _index, name in socket.if_nameindex():
                try:
                    self._listeners.append(_Listener(conf, name, bpf))
                except CannotCapture as exc:
                    unusable.append(exc)
        except NoPrivilege:
            self.close()
            raise NoPrivilege(f"capturing on {ANY} needs {NEEDS}") from None
        except BaseException:
            self.close()
            raise
        if not self._listeners:
            raise unusable[0] if unusable else TransportError("no interface to capture on")
        self.skipped = [f"{exc.iface} ({exc.reason})" for exc in unusable]

    def next_frame(self, timeout: float) -> Frame | None:
        """The next frame, or None when none came within ``timeout`` seconds."""
        ready, _, _ = select.select(self._listeners, [], [], timeout)
        if not ready:
            return None
        listener: _Listener = ready[0]
        try:
            if listener.packet_socket is not None:
                return self._linux(listener.packet_socket)
            kind, data, stamp = listener.socket.recv_raw()
        except OSError:
            return None
        if data is None:
            return None
        linktype = _LINKTYPES.get(getattr(kind, "__name__", ""), 1)
        return self._frame(float(stamp or time.time()), linktype, bytes(data))

    def _linux(self, packet_socket: socket.socket) -> Frame | None:
        """Linux PF_PACKET: on the loopback interface every packet is seen twice, going
        out and coming in; like libpcap, keep one (the incoming)."""
        data, where = packet_socket.recvfrom(65535)
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
        for listener in self._listeners:
            try:
                listener.socket.close()
            except OSError:
                pass
        self._listeners = []

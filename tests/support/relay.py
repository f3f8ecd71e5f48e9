"""A lossy UDP relay on loopback: drops, duplicates and reorders datagrams by a
fixed schedule, so a test can prove the client still registers through it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Schedule:
    """Per direction, 1-based datagram numbers to drop, duplicate, or hold back
    until the next datagram in that direction has been forwarded."""

    drop: set[int] = field(default_factory=set)
    duplicate: set[int] = field(default_factory=set)
    hold: set[int] = field(default_factory=set)


@dataclass
class RelayLog:
    forwarded: list[tuple[str, int, str]] = field(default_factory=list)  # (dir, n, action)


class LossyRelay:
    def __init__(self, server: tuple[str, int], upstream: Schedule, downstream: Schedule) -> None:
        self.server = server
        self.schedules = {"up": upstream, "down": downstream}
        self.counts = {"up": 0, "down": 0}
        self.held: dict[str, bytes | None] = {"up": None, "down": None}
        self.log = RelayLog()
        self.client: tuple[str, int] | None = None
        self._front: asyncio.DatagramTransport | None = None
        self._back: asyncio.DatagramTransport | None = None

    async def start(self, host: str = "127.0.0.1") -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        relay = self

        class Front(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # type: ignore[override]
                relay.client = addr
                relay._pass("up", data)

        class Back(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # type: ignore[override]
                relay._pass("down", data)

        self._front, _ = await loop.create_datagram_endpoint(Front, local_addr=(host, 0))
        self._back, _ = await loop.create_datagram_endpoint(Back, remote_addr=self.server)
        address = self._front.get_extra_info("sockname")
        return str(address[0]), int(address[1])

    def _send(self, direction: str, data: bytes) -> None:
        if direction == "up":
            assert self._back is not None
            self._back.sendto(data)
        elif self.client is not None:
            assert self._front is not None
            self._front.sendto(data, self.client)

    def _pass(self, direction: str, data: bytes) -> None:
        self.counts[direction] += 1
        n = self.counts[direction]
        schedule = self.schedules[direction]
        if n in schedule.drop:
            self.log.forwarded.append((direction, n, "dropped"))
            return
        if n in schedule.hold:
            self.held[direction] = data
            self.log.forwarded.append((direction, n, "held"))
            return
        self._send(direction, data)
        self.log.forwarded.append((direction, n, "forwarded"))
        if n in schedule.duplicate:
            self._send(direction, data)
            self.log.forwarded.append((direction, n, "duplicated"))
        held = self.held[direction]
        if held is not None:
            self.held[direction] = None
            self._send(direction, held)  # now out of order
            self.log.forwarded.append((direction, n, "released held"))

    def close(self) -> None:
        for transport in (self._front, self._back):
            if transport is not None:
                transport.close()

"""sipcheck's registrar core behind a plain UDP socket on 127.0.0.1 (or ::1), in a
thread, keeping every datagram that crossed the wire (both ways)."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from types import TracebackType
from typing import Literal

from sipcheck.sip.registrar.authenticator import Account
from sipcheck.sip.registrar.core import Registrar, RegistrarConfig
from sipcheck.sip.registrar.service import RegistrarService
from sipcheck.trace import Address


class CapturingRegistrar:
    """``with CapturingRegistrar({"alice": "pw"}) as reg:`` then send to ``reg.port``."""

    def __init__(
        self,
        accounts: Mapping[str, Account | str],
        challenge: Literal["www", "proxy"] = "www",
        *,
        host: str = "127.0.0.1",
        algorithms: tuple[str, ...] | None = None,
    ) -> None:
        config = RegistrarConfig(accounts=dict(accounts), challenge=challenge)
        if algorithms is not None:
            config = replace(config, algorithms=algorithms)
        self.registrar = RegistrarService(Registrar(config, secrets.token_bytes(32)), record=False)
        self.host = host
        self.sock = socket.socket(
            socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM
        )
        self.sock.bind((host, 0))
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.sent: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def where(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def wire(self) -> bytes:
        """Every octet that went either way."""
        return b"".join(self.received + self.sent)

    def __enter__(self) -> CapturingRegistrar:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()

    def _serve(self) -> None:
        start = time.monotonic()
        while not self._stop.is_set():
            try:
                data, source = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self.received.append(data)
            local = self.sock.getsockname()
            result = self.registrar.receive(
                data,
                source=Address(source[0].split("%")[0], source[1]),
                local=Address(local[0], local[1]),
                transport="udp",
                now=time.monotonic() - start,
            )
            for send in result.sends:
                self.sent.append(send.data)
                self.sock.sendto(send.data, source)

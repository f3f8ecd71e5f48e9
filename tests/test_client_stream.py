"""The client's TCP/TLS connections frame a server's stream within limits: a hostile
or broken server cannot make it hold more than one bounded message."""

from __future__ import annotations

import asyncio
import socket

import pytest

from sipcheck.net.aio_transports import MAX_BODY_OCTETS, MAX_HEADER_OCTETS
from sipcheck.net.transports import Failed, Received, open_connection

OK = b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"


async def _exchange(answer: bytes) -> list[object]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    host, port = server.getsockname()
    loop = asyncio.get_running_loop()
    conn = await open_connection("tcp", host, port)
    peer, _ = await loop.sock_accept(server)
    items: list[object] = []
    try:
        await loop.sock_sendall(peer, answer)
        while (item := await conn.receive(2)) is not None:
            items.append(item)
            if isinstance(item, Failed):
                break
    finally:
        conn.close()
        peer.close()
        server.close()
    return items


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (b"SIP/2.0 200 OK\r\nContent-Length: 999999999\r\n\r\n" + b"x" * 4096,
         f"Content-Length 999999999 is over our limit of {MAX_BODY_OCTETS} octets"),
        (b"SIP/2.0 200 OK\r\nX: " + b"y" * (MAX_HEADER_OCTETS + 10),
         f"the header section grew past our limit of {MAX_HEADER_OCTETS} octets"),
    ],
)  # fmt: skip
def test_a_message_over_a_limit_is_a_failure_after_what_came_before(
    answer: bytes, words: str
) -> None:
    items = asyncio.run(_exchange(OK + answer))
    assert isinstance(items[0], Received) and items[0].data == OK
    [failed] = items[1:]
    assert isinstance(failed, Failed) and not failed.refused
    assert failed.detail.startswith("the server sent too large a message: ")
    assert words in failed.detail


def test_an_unframeable_stream_is_a_failure() -> None:
    [failed] = asyncio.run(_exchange(b"SIP/2.0 200 OK\r\nVia: x\r\n\r\n"))
    assert isinstance(failed, Failed)
    assert failed.detail == (
        "unframeable data on the stream: Content-Length is required on a stream transport"
    )

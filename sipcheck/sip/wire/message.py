"""SIP requests and responses: the data, and their serialization."""

from __future__ import annotations

from sipcheck.sip.wire.headers import Headers, canonical_name

ENCODING = "utf-8"
# Header text is decoded with surrogateescape so that any octets survive a
# parse/serialize round trip unchanged.
ERRORS = "surrogateescape"


class _Base:
    __slots__ = ("body", "defects", "headers", "version")

    def __init__(self, headers: Headers | None, body: bytes, version: str) -> None:
        self.headers = headers if headers is not None else Headers()
        self.body = body
        self.version = version
        # Deviations the parser tolerated (bare LF line ends, a missing empty
        # line after the headers, octets beyond Content-Length); lint shows them.
        self.defects: list[str] = []

    def start_line(self) -> str:
        raise NotImplementedError

    def to_bytes(self, *, canonical_names: bool = False) -> bytes:
        lines = [self.start_line()]
        for name, value in self.headers:
            lines.append(f"{canonical_name(name) if canonical_names else name}: {value}")
        head = "\r\n".join(lines) + "\r\n\r\n"
        return head.encode(ENCODING, ERRORS) + self.body

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def call_id(self) -> str | None:
        value = self.headers.get("Call-ID")
        return value.strip() if value is not None else None


class Request(_Base):
    __slots__ = ("method", "uri")

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Headers | None = None,
        body: bytes = b"",
        version: str = "SIP/2.0",
    ) -> None:
        super().__init__(headers, body, version)
        self.method = method
        self.uri = uri

    def start_line(self) -> str:
        return f"{self.method} {self.uri} {self.version}"

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.uri}>"


class Response(_Base):
    __slots__ = ("reason", "status")

    def __init__(
        self,
        status: int,
        reason: str,
        headers: Headers | None = None,
        body: bytes = b"",
        version: str = "SIP/2.0",
    ) -> None:
        super().__init__(headers, body, version)
        self.status = status
        self.reason = reason

    def start_line(self) -> str:
        return f"{self.version} {self.status} {self.reason}"

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.reason}>"


Message = Request | Response

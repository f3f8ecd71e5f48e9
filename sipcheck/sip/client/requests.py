"""Building the requests a UAC sends (RFC 3261 §8.1.1, §10.2)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sipcheck.sip.wire.headers import Headers
from sipcheck.sip.wire.message import Request
from sipcheck.sip.wire.uri import SipUri

VIA_TRANSPORT = {"udp": "UDP", "tcp": "TCP", "tls": "TLS", "ws": "WS", "wss": "WSS"}


def host_for_uri(host: str) -> str:
    """An address as it stands in a URI or Via: IPv6 in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def contact_uri(aor: SipUri, user: str | None, local: tuple[str, int], transport: str) -> str:
    """Where we can be reached: ``user`` (normally the AoR's) at our bound address."""
    scheme = "sips" if aor.secure else "sip"
    user = f"{user}@" if user else ""
    param = (
        ""
        if transport == "udp" or (transport == "tls" and aor.secure)
        else (f";transport={transport}")
    )
    return f"{scheme}:{user}{host_for_uri(local[0])}:{local[1]}{param}"


@dataclass(frozen=True)
class RequestSpec:
    method: str
    request_uri: SipUri
    aor: SipUri
    local: tuple[str, int]
    transport: str
    branch: str
    call_id: str
    cseq: int
    from_tag: str
    contact: str | None = None  # full header value, e.g. "<sip:...>" or "*"
    expires: int | None = None
    user_agent: str | None = None
    max_forwards: int = 70
    allow: str | None = None
    extra: Headers = field(default_factory=Headers)  # Authorization, Proxy-Authorization
    from_address: str | None = None  # the From value without its tag; default: the AoR
    to_address: str | None = None  # the To value; default: the AoR (REGISTER), else the R-URI
    headers: tuple[tuple[str, str], ...] = ()  # added as given, before Content-Length


def build_request(spec: RequestSpec) -> bytes:
    aor = f"<{spec.aor.scheme}:{spec.aor.user + '@' if spec.aor.user else ''}{spec.aor.host}>"
    default_to = aor if spec.method == "REGISTER" else f"<{spec.request_uri}>"
    headers = Headers(
        [
            # RFC 3581: ask for rport so a NATed client learns what the server saw.
            (
                "Via",
                f"SIP/2.0/{VIA_TRANSPORT[spec.transport]} "
                f"{host_for_uri(spec.local[0])}:{spec.local[1]};rport;branch={spec.branch}",
            ),
            ("Max-Forwards", str(spec.max_forwards)),
            # RFC 3261 §10.2: To and From carry the AoR (From: with our tag); a
            # different From is a third-party registration.
            ("From", f"{spec.from_address or aor};tag={spec.from_tag}"),
            ("To", spec.to_address or default_to),
            ("Call-ID", spec.call_id),
            ("CSeq", f"{spec.cseq} {spec.method}"),
        ]
    )
    if spec.contact is not None:
        headers.add("Contact", spec.contact)
    if spec.expires is not None:
        headers.add("Expires", str(spec.expires))
    for name, value in spec.extra:
        headers.add(name, value)
    if spec.method == "OPTIONS":
        headers.add("Accept", "application/sdp")
    if spec.allow:
        headers.add("Allow", spec.allow)
    if spec.user_agent:
        headers.add("User-Agent", spec.user_agent)
    for name, value in spec.headers:
        headers.add(name, value)
    headers.add("Content-Length", "0")
    return Request(spec.method, str(spec.request_uri), headers).to_bytes()

"""Building a UAS response to a request (RFC 3261 §8.2.6), and the server's Via stamp
(RFC 3261 §18.2.1 ``received``, RFC 3581 ``rport``).

Pure functions; the To tag, when the caller gives none, is derived from the request
(a hash of Call-ID, From and the top Via) rather than drawn at random, so that a
retransmitted request gets the same tag (RFC 3261 §8.2.6.2) and tests are exact.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
from collections.abc import Iterable

from sipcheck.sip.registrar.fast import via_parts
from sipcheck.sip.wire.headers import Headers, split_list
from sipcheck.sip.wire.message import Request, Response

REASONS: dict[int, str] = {
    100: "Trying",
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    413: "Request Entity Too Large",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    423: "Interval Too Brief",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "Version Not Supported",
    513: "Message Too Large",
}

# RFC 3261 §8.2.6.2: these are copied from the request into every response.
_COPIED = {"via": "Via", "from": "From", "to": "To", "call-id": "Call-ID", "cseq": "CSeq"}


def reason_phrase(status: int) -> str:
    return REASONS.get(status) or REASONS.get(status // 100 * 100, "Unknown")


def has_tag(address: str) -> bool:
    """Whether a To/From value carries a ``tag`` header parameter."""
    # Parameters after '>' (name-addr) or after the URI (addr-spec: a bare URI cannot
    # have ';' parameters of its own there, RFC 3261 §20) belong to the header.
    gt = address.rfind(">")
    tail = address[gt + 1 :] if gt >= 0 else address
    if "tag" not in tail.lower():
        return False
    for part in tail.split(";")[1:]:
        name = part.partition("=")[0].strip()
        if name.lower() == "tag":
            return True
    return False


def derived_tag(call_id: str, from_value: str, top_via: str) -> str:
    """A To tag that is the same for every retransmission of one request."""
    data = f"{call_id}\n{from_value}\n{top_via}".encode("utf-8", "surrogateescape")
    return hashlib.blake2s(data, digest_size=8).hexdigest()


def make_response(
    request: Request,
    status: int,
    reason: str | None = None,
    *,
    to_tag: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    """A response to ``request``: RFC 3261 §8.2.6.2.

    Via (every value, in order), From, To, Call-ID and CSeq are copied; a To without a
    tag gets ``to_tag`` (or a derived one) unless the status is 100; ``headers`` follow,
    then ``Content-Length: 0``.
    """
    items: list[tuple[str, str]] = []
    to_at = -1
    call_id = from_value = top_via = ""
    headers_in = request.headers
    for key, (_, value) in zip(headers_in.keys(), headers_in, strict=True):
        canonical = _COPIED.get(key)
        if canonical is None:
            continue
        if canonical == "To":
            to_at = len(items)
        elif canonical == "Call-ID":
            call_id = value
        elif canonical == "From":
            from_value = value
        elif canonical == "Via" and not top_via:
            top_via = value
        items.append((canonical, value))
    if to_at >= 0 and status != 100 and not has_tag(items[to_at][1]):
        tag = to_tag if to_tag is not None else derived_tag(call_id, from_value, top_via)
        items[to_at] = ("To", f"{items[to_at][1]};tag={tag}")
    items.extend(headers)
    items.append(("Content-Length", "0"))
    return Response(status, reason if reason is not None else reason_phrase(status), Headers(items))


def _same_address(host: str, source_host: str) -> bool:
    if host == source_host:
        return True
    bare = host[1:-1] if host.startswith("[") else host
    try:
        return ipaddress.ip_address(bare) == ipaddress.ip_address(source_host)
    except ValueError:
        return False  # a domain name: RFC 3261 §18.2.1 says add received


def stamp_via(request: Request, source_host: str, source_port: int) -> None:
    """Add ``received`` and fill ``rport`` on the request's top Via, in place.

    RFC 3261 §18.2.1: ``received`` when sent-by is a domain name or another address
    than the packet came from. RFC 3581 §4: an empty ``rport`` gets the source port,
    and then ``received`` is added even when it equals sent-by. ``source_host`` is the
    address as the socket gives it (IPv6 without brackets, which is also how RFC 3261's
    ``received`` grammar writes it). A top Via that does not parse is left unchanged.
    """
    headers = request.headers
    keys = headers.keys()
    if "via" not in keys:
        return
    index = keys.index("via")
    values = split_list(headers.get_all("via")[0])
    if not values:
        return
    stamped = _stamped(values[0], source_host, source_port)
    if stamped is None:
        return
    values[0] = stamped
    # The keys stay valid: only a value changes.
    request.headers = headers.with_value(index, ", ".join(values))


def _stamped(value: str, source_host: str, source_port: int) -> str | None:
    """The stamped Via value, or None when it needs no stamp or does not parse."""
    parts = via_parts(value)
    if parts is None:
        return None  # left as it is; the registrar answers 400 or nothing
    head, host, params = parts
    # A parameter name holds no '=', so a parameter without one has no value.
    names = [p.partition("=")[0].lower() for p in params]
    rport_at = names.index("rport") if "rport" in names else -1
    fill_rport = rport_at >= 0 and "=" not in params[rport_at]
    need_received = fill_rport or not _same_address(host, source_host)
    if not need_received:
        return None
    if fill_rport:
        params[rport_at] = f"rport={source_port}"
    params = [p for p, n in zip(params, names, strict=True) if n != "received"]
    params.append(f"received={source_host}")
    return head + "".join(";" + p for p in params)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(wall_time: float) -> str:
    """RFC 1123 date in GMT (RFC 3261 §20.17) for a POSIX time the caller read."""
    t = datetime.datetime.fromtimestamp(int(wall_time), tz=datetime.timezone.utc)
    return (
        f"{_DAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month - 1]} {t.year} "
        f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} GMT"
    )

"""`HOST[:PORT]` as a person types it (``--bind``, a server address): the grammar's
host:port rules (``grammar.split_hostport``, ``grammar.parse_uint``), with the errors
as ConfigError and a hint, bare IPv6 addresses accepted, and DNS name limits."""

from __future__ import annotations

from sipcheck.errors import ConfigError, SipParseError
from sipcheck.sip.wire.grammar import (
    abbreviate,
    is_digits,
    is_hostname,
    numeric_host,
    parse_uint,
    split_hostport,
)

__all__ = ["numeric_host", "parse_hostport"]


def parse_hostport(text: str, *, allow_zero: bool = False) -> tuple[str, int | None]:
    """Split `HOST[:PORT]`: ``[::1]:5060``, ``::1``, ``host``, ``host:5060``.

    A bare IPv6 address cannot carry a port (``2001:db8::1:5060`` is an
    address), so ports on IPv6 need brackets.  ``allow_zero`` admits port 0
    (listen on a free port).  The host comes back without brackets.  Raises ConfigError.
    """
    low = 0 if allow_zero else 1
    raw = text.strip()
    if not raw:
        raise ConfigError("empty server address", hint="give HOST or HOST:PORT")
    if "://" in raw or raw.lower().startswith(("sip:", "sips:")):
        raise ConfigError(
            f"{text!r} is a URI, not HOST[:PORT]", hint="give just the host, e.g. example.com:5060"
        )
    if raw.startswith("[") and "]" not in raw:
        raise ConfigError(f"missing ']' in {text!r}", hint="write IPv6 as [2001:db8::1]:5060")
    try:
        host, port_text = split_hostport(raw, what="address", bare_ipv6=True)
    except SipParseError:
        raise ConfigError(f"unexpected text after ']' in {text!r}") from None
    if host.startswith("["):
        if numeric_host(host) is None:
            raise ConfigError(
                f"{host[1:-1]!r} in {text!r} is not an IPv6 address",
                hint="brackets are only for IPv6 addresses",
            )
        host = host[1:-1]
    elif ":" in host:
        if numeric_host(host) is None:
            raise ConfigError(
                f"{text!r} is not a valid IPv6 address",
                hint="write IPv6 with a port as [2001:db8::1]:5060",
            )
    else:
        _check_hostname(host, text)
    return host, (None if port_text is None else _user_port(port_text, text, low))


def _user_port(port_text: str, text: str, low: int = 1) -> int:
    if not is_digits(port_text):
        raise ConfigError(
            f"bad port {abbreviate(port_text)!r} in {abbreviate(text)!r}",
            hint=f"a port is a number {low}-65535",
        )
    try:
        port = parse_uint(port_text, "port", maximum=65535)
    except SipParseError:
        port = -1
    if port < low:
        raise ConfigError(
            f"port {abbreviate(port_text)} out of range in {abbreviate(text)!r}",
            hint=f"use {low}-65535",
        )
    return port


def _check_hostname(host: str, text: str) -> None:
    if numeric_host(host) is not None:
        return
    # DNS limits (RFC 1035 §2.3.4) on top of the grammar's hostname rule.
    name = host[:-1] if host.endswith(".") else host
    ok = is_hostname(host, underscore=True) and len(name) <= 253
    if not ok or any(len(label) > 63 for label in name.split(".")):
        raise ConfigError(
            f"{host!r} in {text!r} is not a valid host name or address",
            hint="give a name such as sip.example.com, or an IP address",
        )

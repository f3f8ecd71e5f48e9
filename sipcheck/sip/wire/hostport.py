"""`HOST[:PORT]` parsing and numeric-address checks (pure)."""

from __future__ import annotations

import ipaddress

from sipcheck.errors import ConfigError

__all__ = ["numeric_host", "parse_hostport"]


def numeric_host(host: str) -> str | None:
    """The address if `host` is a numeric IPv4/IPv6 (brackets allowed), else None."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        return None
    if host != bare and ":" not in bare:
        return None  # brackets are for IPv6 only (RFC 3261 §25.1)
    return bare


def parse_hostport(text: str, *, allow_zero: bool = False) -> tuple[str, int | None]:
    """Split `HOST[:PORT]`: ``[::1]:5060``, ``::1``, ``host``, ``host:5060``.

    A bare IPv6 address cannot carry a port (``2001:db8::1:5060`` is an
    address), so ports on IPv6 need brackets.  ``allow_zero`` admits port 0
    (listen on a free port).  Raises ConfigError.
    """
    low = 0 if allow_zero else 1
    raw = text.strip()
    if not raw:
        raise ConfigError("empty server address", hint="give HOST or HOST:PORT")
    if "://" in raw or raw.lower().startswith(("sip:", "sips:")):
        raise ConfigError(
            f"{text!r} is a URI, not HOST[:PORT]", hint="give just the host, e.g. example.com:5060"
        )
    if raw.startswith("["):
        close = raw.find("]")
        if close < 0:
            raise ConfigError(f"missing ']' in {text!r}", hint="write IPv6 as [2001:db8::1]:5060")
        host, rest = raw[1:close], raw[close + 1 :]
        if numeric_host(f"[{host}]") is None:
            raise ConfigError(
                f"{host!r} in {text!r} is not an IPv6 address",
                hint="brackets are only for IPv6 addresses",
            )
        if not rest:
            return host, None
        if not rest.startswith(":"):
            raise ConfigError(f"unexpected {rest!r} after ']' in {text!r}")
        return host, _parse_port(rest[1:], text, low)
    if raw.count(":") > 1:
        if numeric_host(raw) is None:
            raise ConfigError(
                f"{text!r} is not a valid IPv6 address",
                hint="write IPv6 with a port as [2001:db8::1]:5060",
            )
        return raw, None
    host, sep, port_text = raw.partition(":")
    _check_hostname(host, text)
    return host, (_parse_port(port_text, text, low) if sep else None)


def _parse_port(port_text: str, text: str, low: int = 1) -> int:
    if not port_text.isascii() or not port_text.isdigit():
        raise ConfigError(
            f"bad port {port_text!r} in {text!r}", hint=f"a port is a number {low}-65535"
        )
    port = int(port_text)
    if not low <= port <= 65535:
        raise ConfigError(f"port {port} out of range in {text!r}", hint=f"use {low}-65535")
    return port


def _check_hostname(host: str, text: str) -> None:
    if numeric_host(host) is not None:
        return
    name = host[:-1] if host.endswith(".") else host
    labels = name.split(".")
    ok = bool(name) and len(name) <= 253
    for label in labels:
        ok = ok and 0 < len(label) <= 63 and label.isascii()
        ok = ok and all(c.isalnum() or c in "-_" for c in label)
    if not ok:
        raise ConfigError(
            f"{host!r} in {text!r} is not a valid host name or address",
            hint="give a name such as sip.example.com, or an IP address",
        )

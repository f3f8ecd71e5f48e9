"""Click parameter types: a bad value is refused by click, naming the flag (exit 2).

Each type turns the text into a typed value (``AorArgument``, ``HostPort``, an
argv tuple) once, at parse time. Heavy modules (socket, ssl) are imported only
when a value of that type is given, so ``--help`` stays fast.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from sipcheck.errors import ConfigError


@dataclass(frozen=True)
class HostPort:
    """``HOST[:PORT]``: a name or numeric address (IPv6 without brackets), a port or None."""

    host: str
    port: int | None = None

    @property
    def is_ipv6(self) -> bool:
        return ":" in self.host

    def __str__(self) -> str:
        host = f"[{self.host}]" if self.is_ipv6 else self.host
        return host if self.port is None else f"{host}:{self.port}"


if TYPE_CHECKING:
    _ParamType = click.ParamType[Any]
else:  # click < 8.3 has no generic ParamType at run time
    _ParamType = click.ParamType


class _Type(_ParamType):
    def fail_config(
        self, exc: ConfigError, param: click.Parameter | None, ctx: click.Context | None
    ) -> None:
        message = exc.message + (f" ({exc.hint})" if exc.hint else "")
        self.fail(message, param, ctx)


class AorType(_Type):
    """The AOR / TARGET argument: user@domain, a sip:/sips: URI, or a registration string."""

    name = "aor"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        # Imported here: the URI grammar is not needed for --help.
        from sipcheck.cli.aor_argument import AorArgument, parse_aor_argument

        if isinstance(value, AorArgument):
            return value
        try:
            return parse_aor_argument(str(value))
        except ConfigError as exc:
            self.fail_config(exc, param, ctx)


class SipUserType(_Type):
    """A user part of a SIP URI (``--user``)."""

    name = "user"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from sipcheck.cli.aor_argument import check_user

        try:
            return check_user(str(value), "")
        except ConfigError as exc:
            self.fail_config(exc, param, ctx)


class NonEmptyType(_Type):
    """Any text but the empty string (``--auth-user``, ``--realm``)."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        if not text or any(ord(c) < 32 or ord(c) == 127 for c in text):
            self.fail("empty, or holds control characters", param, ctx)
        return text


class ContactType(_Type):
    """A Contact URI (``--contact``): ``sip:alice@192.0.2.7:5062``, angle brackets optional."""

    name = "uri"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from sipcheck.errors import SipParseError
        from sipcheck.sip.wire.uri import SipUri, parse_uri

        text = str(value).strip()
        if text.startswith("<") and text.endswith(">"):
            text = text[1:-1]
        try:
            uri = parse_uri(text)
        except SipParseError:
            self.fail("not a URI; give e.g. sip:alice@192.0.2.7:5062", param, ctx)
        if isinstance(uri, SipUri) and uri.password is not None:
            self.fail("leave the password out of the Contact URI: it would be sent", param, ctx)
        return text


class HostPortType(_Type):
    """``HOST[:PORT]`` (``--server``); IPv6 with a port in brackets: ``[2001:db8::1]:5060``."""

    name = "host[:port]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, HostPort):
            return value
        from sipcheck.sip.wire.hostport import parse_hostport

        try:
            host, port = parse_hostport(str(value))
        except ConfigError as exc:
            self.fail_config(exc, param, ctx)
        return HostPort(host, port)


class LocalAddressType(HostPortType):
    """``ADDR[:PORT]`` of this machine (``--bind``): refused unless a socket can bind it."""

    name = "addr[:port]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        address: HostPort = super().convert(value, param, ctx)
        import socket

        family = socket.AF_INET6 if address.is_ipv6 else socket.AF_INET
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as probe:
                probe.bind((address.host, address.port or 0))
        except socket.gaierror:
            self.fail(f"{address.host!r} does not resolve to an address", param, ctx)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return address  # in use for UDP now; TCP may still bind it: the run will tell
            if exc.errno == errno.EADDRNOTAVAIL:
                self.fail(f"{address.host} is not an address of this machine", param, ctx)
            if exc.errno == errno.EACCES:
                self.fail(f"no permission to bind port {address.port}", param, ctx)
            self.fail(f"cannot bind to {address}: {exc.strerror or exc}", param, ctx)
        return address


class CommandType(_Type):
    """A command line, split as a POSIX shell would (no shell runs it)."""

    name = "command"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        import shlex

        try:
            argv = tuple(shlex.split(str(value)))
        except ValueError as exc:
            self.fail(f"cannot split the command: {exc}", param, ctx)
        if not argv:
            self.fail("empty command", param, ctx)
        return argv


class CaFileType(click.Path):
    """A PEM file of CA certificates (``--ca-file``), checked by loading it."""

    def __init__(self) -> None:
        super().__init__(exists=True, dir_okay=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = super().convert(value, param, ctx)
        import ssl

        try:
            ssl.create_default_context(cafile=os.fspath(path))
        except (ssl.SSLError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or str(exc)
            self.fail(f"{path!r} is not a PEM file of CA certificates ({reason})", param, ctx)
        except OSError as exc:
            self.fail(f"cannot read {path!r}: {exc.strerror or exc}", param, ctx)
        return path


def _control_characters(text: str) -> bool:
    return any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in text)


def _not_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # surrogate-escaped octets from a non-UTF-8 argv
        return True
    return False


# Header fields sipcheck writes itself, and the option that sets each one instead.
MANAGED_HEADERS: dict[str, str] = {
    "via": "sipcheck writes the Via (one per hop, with our branch)",
    "call-id": "sipcheck writes the Call-ID",
    "cseq": "sipcheck writes the CSeq",
    "content-length": "sipcheck writes the Content-Length",
    "from": "use --from",
    "to": "use --to",
    "max-forwards": "use --max-forwards",
    "user-agent": "use --user-agent",
    "contact": "use --contact (register, unregister)",
    "expires": "use --expires (register)",
    "authorization": "sipcheck answers the challenge itself",
    "proxy-authorization": "sipcheck answers the challenge itself",
}


class HeaderType(_Type):
    """``-H 'Name: value'``: one header field, checked with the SIP grammar."""

    name = "header"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        from sipcheck.sip.wire.headers import header_key

        text = str(value)
        field_name, colon, field_value = text.partition(":")
        field_name, field_value = field_name.strip(), field_value.strip(" \t")
        if not colon or not field_name:
            self.fail(f"{text!r} is not 'Name: value'", param, ctx)
        if _control_characters(text) or _not_utf8(text):
            self.fail(f"{field_name}: control characters or non-UTF-8 text", param, ctx)
        managed = MANAGED_HEADERS.get(header_key(field_name))
        if managed is not None:
            self.fail(f"{field_name}: {managed}", param, ctx)
        problem = _header_problem(field_name, field_value)
        if problem is not None:
            self.fail(f"{field_name}: {problem}", param, ctx)
        return (field_name, field_value)


def _header_problem(name: str, value: str) -> str | None:
    """What the SIP grammar (the parser and lint) says of this one header, or None."""
    from sipcheck.sip.knowledge.lint import lint_bytes

    probe = (
        f"OPTIONS sip:probe.invalid SIP/2.0\r\n{name}: {value}\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKprobe\r\nMax-Forwards: 70\r\n"
        "From: <sip:probe.invalid>;tag=1\r\nTo: <sip:probe.invalid>\r\n"
        "Call-ID: probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    for found in lint_bytes(probe).problems:
        if found.severity == "error" and (found.line in (None, 2) or found.code == "parse-error"):
            return found.message
    return None


class AlgorithmListType(_Type):
    """``--algorithm SHA-256,MD5``: digest algorithms to answer, most preferred first."""

    name = "algorithms"
    comma_separated = True

    @staticmethod
    def completion_words() -> tuple[str, ...]:
        from sipcheck.sip.digest.compute import DEFAULT_ALGORITHM_PREFERENCE

        return tuple(reversed(DEFAULT_ALGORITHM_PREFERENCE))  # MD5 SHA-256 SHA-512-256

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        known = {name.upper(): name for name in self.completion_words()}
        chosen: list[str] = []
        for part in str(value).split(","):
            word = part.strip().upper()
            if word.endswith("-SESS") and word[: -len("-SESS")] in known:
                word = word[: -len("-SESS")]  # a -sess form ranks with its base
            if word not in known:
                self.fail(
                    f"{part.strip()!r} is not a digest algorithm sipcheck answers "
                    f"(give a comma list of {', '.join(known.values())})",
                    param,
                    ctx,
                )
            if known[word] not in chosen:
                chosen.append(known[word])
        return tuple(chosen)


class SipUriType(_Type):
    """A sip:/sips: URI (``--request-uri``); never one with a password."""

    name = "uri"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from sipcheck.errors import SipParseError
        from sipcheck.sip.wire.uri import SipUri, parse_uri

        if isinstance(value, SipUri):
            return value
        text = str(value).strip()
        if text.startswith("<") and text.endswith(">"):
            text = text[1:-1]
        try:
            uri = parse_uri(text)
        except SipParseError:  # not quoted back: the text may hold a password
            self.fail("not a SIP URI; give e.g. sip:pbx.example.com", param, ctx)
        if not isinstance(uri, SipUri):
            self.fail("give a sip: or sips: URI, e.g. sip:pbx.example.com", param, ctx)
        if uri.password is not None:
            self.fail("leave the password out of the URI: it would be sent", param, ctx)
        return uri


class NameAddrType(_Type):
    """``--from`` / ``--to``: a URI or ``"Name" <uri>``, sent as ``<uri>`` (From: plus our tag)."""

    name = "address"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from sipcheck.errors import SipParseError
        from sipcheck.sip.wire.headers import split_list
        from sipcheck.sip.wire.uri import AbsoluteUri, NameAddr, SipUri, parse_name_addr

        text = str(value)
        if _control_characters(text) or _not_utf8(text):
            self.fail("control characters or non-UTF-8 text", param, ctx)
        if len(split_list(text)) > 1:
            self.fail("one address, not a list", param, ctx)
        try:
            address = parse_name_addr(text)
        except SipParseError:  # not quoted back: the text may hold a password
            self.fail(
                "not an address; give e.g. sip:alice@example.com "
                "or '\"Alice\" <sip:alice@example.com>'",
                param,
                ctx,
            )
        if isinstance(address.uri, AbsoluteUri):
            self.fail("give a sip:, sips: or tel: URI", param, ctx)
        if isinstance(address.uri, SipUri) and address.uri.password is not None:
            self.fail("leave the password out of the URI: it would be sent", param, ctx)
        if address.tag is not None:
            self.fail("leave the tag out: sipcheck adds its own to From", param, ctx)
        return str(NameAddr(address.uri, address.display_name, address.params, True))


class HeaderTextType(_Type):
    """Header text (``--user-agent``): no control characters; empty leaves it out."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip()
        if _control_characters(text) or _not_utf8(text):
            self.fail("control characters or non-UTF-8 text", param, ctx)
        return text


AOR = AorType()
SIP_USER = SipUserType()
NON_EMPTY = NonEmptyType()
CONTACT = ContactType()
HOST_PORT = HostPortType()
LOCAL_ADDRESS = LocalAddressType()
COMMAND = CommandType()
HEADER = HeaderType()
ALGORITHMS = AlgorithmListType()
SIP_URI = SipUriType()
NAME_ADDR = NameAddrType()
HEADER_TEXT = HeaderTextType()

"""Check one SIP message against the RFC 3261 rules a registrar relies on.

Pure: bytes in, a ``LintReport`` out. Never raises for any input.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sipcheck.errors import SipParseError
from sipcheck.sip.wire import fields
from sipcheck.sip.wire.grammar import abbreviate, is_uint, parse_uint
from sipcheck.sip.wire.headers import canonical_name, header_key
from sipcheck.sip.wire.message import Message, Request, Response
from sipcheck.sip.wire.parser import parse_message
from sipcheck.sip.wire.uri import SipUri, parse_uri

# RFC 3261 §8.1.1: a request MUST contain at least these.
REQUIRED_IN_REQUEST = ("To", "From", "CSeq", "Call-ID", "Max-Forwards", "Via")
# RFC 3261 §8.2.6.2 / §20 table: responses copy these from the request.
REQUIRED_IN_RESPONSE = ("To", "From", "CSeq", "Call-ID", "Via")
# Header fields that take exactly one value (RFC 3261 §7.3.1, §20).
SINGLE_VALUED = (
    "To", "From", "CSeq", "Call-ID", "Max-Forwards", "Content-Length", "Content-Type",
    "Expires", "Min-Expires", "Date", "Retry-After", "Timestamp", "Priority",
    "MIME-Version", "Reply-To", "Subject", "Server", "User-Agent", "Organization",
)  # fmt: skip
T = TypeVar("T")
_DATE_RE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-9]{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT\Z"
)


@dataclass(frozen=True)
class Problem:
    severity: str  # "error" | "warning"
    code: str  # stable id, e.g. "missing-header"
    message: str
    line: int | None = None
    column: int | None = None

    def location(self) -> str:
        if self.line is None:
            return ""
        return f"{self.line}:{self.column}" if self.column else f"{self.line}"


@dataclass
class LintReport:
    message: Message | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)

    def error(self, code: str, message: str, line: int | None = None) -> None:
        self.problems.append(Problem("error", code, message, line))

    def warn(self, code: str, message: str, line: int | None = None) -> None:
        self.problems.append(Problem("warning", code, message, line))


def lint_bytes(data: bytes) -> LintReport:
    try:
        message = parse_message(data)
    except SipParseError as exc:
        report = LintReport(None)
        report.problems.append(Problem("error", "parse-error", exc.message, exc.line, exc.column))
        return report
    except Exception as exc:  # the parser must never do this; never crash lint
        report = LintReport(None)
        report.error("internal-error", f"parser failed unexpectedly: {exc!r}")
        return report
    return lint_message(message)


def lint_message(message: Message) -> LintReport:
    report = LintReport(message)
    for defect in message.defects:
        report.warn("framing", defect)
    if message.version.upper() != "SIP/2.0":
        # RFC 3261 §8.2.2... a UAS answers 505 to other versions.
        report.error("version", f"SIP version {message.version} is not SIP/2.0 (answer: 505)")
    line_of = _line_numbers(message)
    required = REQUIRED_IN_REQUEST if isinstance(message, Request) else REQUIRED_IN_RESPONSE
    legacy = _is_rfc2543(message)
    for name in required:
        if name not in message.headers:
            if name == "Max-Forwards" and legacy:
                # RFC 4475 §3.4.1: an RFC 2543 element may omit it; accept.
                report.warn(
                    "missing-header",
                    "mandatory header Max-Forwards is missing (tolerated: the top Via has "
                    "no z9hG4bK branch, so this looks like an RFC 2543 client)",
                )
            else:
                report.error("missing-header", f"mandatory header {name} is missing")
    for name in SINGLE_VALUED:
        count = (
            len(message.headers.values(name))
            if name != "Call-ID"
            else len(message.headers.get_all(name))
        )
        if count > 1:
            report.error(
                "multiple-values",
                f"{name} must have one value but has {count}",
                line_of.get(header_key(name)),
            )
    _check_fields(message, report, line_of)
    if isinstance(message, Request):
        _check_request(message, report)
    return report


def _is_rfc2543(message: Message) -> bool:
    top = message.headers.values("Via")[:1]
    # RFC 3261 §8.1.1.7: the magic cookie marks an RFC 3261 branch.
    return bool(top) and "z9hg4bk" not in top[0].lower()


def _line_numbers(message: Message) -> dict[str, int]:
    out: dict[str, int] = {}
    for index, (name, _) in enumerate(message.headers, start=2):
        out.setdefault(header_key(name), index)
    return out


def _try(
    report: LintReport, code: str, line: int | None, func: Callable[..., T], *args: object
) -> T | None:
    try:
        return func(*args)
    except SipParseError as exc:
        report.error(code, exc.message, line)
        return None


def _check_fields(message: Message, report: LintReport, line_of: dict[str, int]) -> None:
    h = message.headers
    _try(report, "bad-via", line_of.get("via"), lambda: fields.vias(h))
    for name in ("To", "From"):
        if len(h.get_all(name)) == 1:
            _try(report, "bad-address", line_of.get(name.lower()), fields.address, h, name)
    for name in ("Route", "Record-Route", "Path", "Service-Route"):
        _try(report, "bad-address", line_of.get(name.lower()), fields.addresses, h, name)
    contacts = _try(report, "bad-contact", line_of.get("contact"), fields.contacts, h)
    for contact in contacts or ():
        _try(report, "bad-contact", line_of.get("contact"), lambda c: c.expires, contact)
    cseq_values = h.get_all("CSeq")
    cseq = None
    if len(cseq_values) == 1:
        cseq = _try(report, "bad-cseq", line_of.get("cseq"), fields.parse_cseq, cseq_values[0])
    if cseq is not None and isinstance(message, Request) and cseq.method != message.method:
        # RFC 3261 §8.1.1.5: the CSeq method MUST match the request's.
        report.error(
            "cseq-method",
            f"CSeq method {cseq.method} differs from the request method {message.method}",
            line_of.get("cseq"),
        )
    for name in ("Expires", "Min-Expires"):
        values = h.get_all(name)
        if len(values) == 1:
            check = fields.parse_delta_seconds
            _try(report, "bad-expires", line_of.get(name.lower()), check, values[0], name)
    mf = h.get_all("Max-Forwards")
    if len(mf) == 1 and not is_uint(mf[0].strip(), maximum=255):
        # RFC 3261 §20.22: an integer in the range 0-255.
        report.error("bad-max-forwards", f"Max-Forwards {abbreviate(mf[0])!r} is not 0-255",
                     line_of.get("max-forwards"))  # fmt: skip
    date = h.get_all("Date")
    if len(date) == 1 and not _DATE_RE.match(date[0].strip()):
        # RFC 3261 §20.17: RFC 1123 date, always in GMT.
        report.error("bad-date", f"Date {date[0]!r} is not an RFC 1123 date in GMT",
                     line_of.get("date"))  # fmt: skip
    length = h.get("Content-Length")
    if (
        length is not None
        and is_uint(length.strip())
        and parse_uint(length.strip(), "Content-Length") != len(message.body)
    ):
        report.error(
            "content-length", f"Content-Length {length} but the body has {len(message.body)}"
        )
    if length is None and message.body:
        report.warn("content-length", "no Content-Length (required over TCP and TLS)")
    if isinstance(message, Response) and message.status < 100:
        report.error("bad-status", f"status {message.status} is not 100-699")


def _check_request(request: Request, report: LintReport) -> None:
    if request.method != "REGISTER":
        return
    # RFC 3261 §10.2 REGISTER rules.
    try:
        ruri = parse_uri(request.uri)
    except SipParseError:
        return
    if isinstance(ruri, SipUri) and ruri.user is not None:
        report.error(
            "register-ruri-user",
            "the Request-URI of a REGISTER names the registrar's domain: it must not "
            f"have a user part ({request.uri}) (RFC 3261 §10.2)",
        )
    to = from_ = None
    try:
        to = fields.address(request.headers, "To")
        from_ = fields.address(request.headers, "From")
    except SipParseError:
        pass
    if (
        to is not None
        and isinstance(to.uri, SipUri)
        and isinstance(ruri, SipUri)
        and to.uri.host.lower() != ruri.host.lower()
    ):
        report.warn(
            "register-to-domain",
            f"To ({to.uri.aor}) is not in the registrar's domain {ruri.host} "
            "(third-party registration, or a typo?)",
        )
    if to is not None and from_ is not None and str(to.uri) != str(from_.uri):
        report.warn(
            "register-third-party",
            f"From ({from_.uri}) differs from To ({to.uri}): a third-party registration "
            "(RFC 3261 §10.2)",
        )
    try:
        contacts = fields.contacts(request.headers)
    except SipParseError:
        return
    expires_header = request.headers.get("Expires")
    if any(c.is_star for c in contacts):
        # RFC 3261 §10.2.2: "*" only alone and with Expires: 0.
        if len(contacts) > 1:
            report.error("register-star", "Contact: * must be the only Contact")
        if expires_header is None or expires_header.strip() != "0":
            report.error("register-star", "Contact: * requires Expires: 0 (RFC 3261 §10.2.2)")


def describe(message: Message) -> list[tuple[str, str]]:
    """Headers in canonical long form, for display."""
    return [(canonical_name(n), v) for n, v in message.headers]

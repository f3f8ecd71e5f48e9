#!/usr/bin/env python3
"""Mutation fuzzer for the sans-I/O SIP core: no exception but SipParseError, ever.

Mutates the real messages of tests/data/rfc4475 and tests/data/rfc5118 (and a few
built here: an authenticated REGISTER with a valid nonce, a 401 with a challenge),
and random header values, and feeds each input to

* the message parser (datagram and stream), the stream framer and ``lint_bytes``;
* every field parser on every header value of what parses (Via, CSeq, Contact and
  its expires, To/From/Route addresses, Expires, Content-Length, URIs, name-addr,
  WWW-Authenticate/Authorization and their shortcut for the plain shape), and
  the formatters on what the auth parsers return;
* the client core: a ``Registration`` that receives a 401 carrying the mutated
  challenge (and the mutated response as a whole);
* the registrar core's one entry point, ``RegistrarService.receive``, over UDP and
  TCP, with its attempt records and their timers.

Prints the inputs tried, inputs/s, and failures by root cause (exception type and
the innermost frame in sipcheck); exits 1 on any failure. Usage::

    python scripts/fuzz_wire.py --seconds 60
    python scripts/fuzz_wire.py --inputs 100000 --seed 3 --jobs 2 --save /tmp/crashes
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sipcheck.errors import LocalProtocolError, SipParseError  # noqa: E402
from sipcheck.sip.digest.compute import answer_challenge  # noqa: E402
from sipcheck.sip.knowledge.lint import LintReport, lint_bytes  # noqa: E402
from sipcheck.sip.registrar.responses import stamp_via  # noqa: E402
from sipcheck.sip.registrar.service import RegistrarService  # noqa: E402
from sipcheck.sip.wire import fields, grammar  # noqa: E402
from sipcheck.sip.wire.auth import (  # noqa: E402
    Challenge,
    _parse_items,
    format_challenge,
    format_credentials,
    parse_challenges,
    parse_credentials,
    plain_items,
)
from sipcheck.sip.wire.framing import BoundedFramer  # noqa: E402
from sipcheck.sip.wire.headers import Headers  # noqa: E402
from sipcheck.sip.wire.message import Request, Response  # noqa: E402
from sipcheck.sip.wire.parser import content_length, parse_message  # noqa: E402
from sipcheck.sip.wire.uri import parse_header_params, parse_name_addr, parse_uri  # noqa: E402
from tests.support.cores import (  # noqa: E402
    challenge_for,
    deliver,
    registrar_service,
    started_registration,
)

DATA = ROOT / "tests" / "data"
NOW = 1000.0

# Octet strings that reach the interesting branches: Unicode digits (UTF-8), huge
# numbers, control characters, octets that are not UTF-8, the separators.
SPECIAL: list[bytes] = [
    "¹²³".encode(), "٣".encode(), "５０６０".encode(), "\u2003".encode(), "ß".encode(),
    b"9" * 5000, b"1" * 4301, b"0" * 300 + b"7", b"4294967296", b"2147483648", b"65536",
    b"-1", b"+1", b"0x10", b"1e3", b"1.5",
    b"\x00", b"\x01", b"\x1f", b"\x7f", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80",
    b'"', b"\\", b'\\"', b'\\\x00', b"\\\r", b";", b",", b"=", b":", b"<", b">", b"[", b"]",
    b"@", b"?", b"&", b"%", b"%00", b"%zz", b"/", b" ", b"\t", b"\r\n", b"\r\n ", b"\n",
    b"\r", b"*", b"sip:", b"sips:", b"tel:", b"[::1]", b"[::1", b"[::::]", b"::1",
    b"z9hG4bK", b";rport", b";rport=", b";expires=", b";received=", b"SIP/2.0",
    b'realm="', b'nonce="', b"Digest ", b"Basic ", b"username*=UTF-8''%ff",
    b"qop=auth", b"nc=", b"algorithm=", b"stale=true",
]  # fmt: skip
# Characters of random header values.
ALPHABET = [
    *"0123456789abcdefzZ -._~!%*+`'#$&^|\"\\,;:=<>[]@?/()\t\r\n*",
    *("¹", "²", "٣", "５", "\x00", "\x01", "\x7f", "\udcff", "é", "\u2003", "9" * 400),
]


def _seeds() -> list[bytes]:
    paths = sorted((DATA / "rfc4475").glob("*.dat"))
    paths += sorted((DATA / "rfc5118" / "archive").glob("*.dat"))
    return [p.read_bytes() for p in paths]


# --- what each header value is fed to ------------------------------------------------


def _formatted(challenges: list[Challenge]) -> list[str]:
    out = []
    for c in challenges:
        try:
            out.append(format_challenge(c))
        except LocalProtocolError:
            # The parser is lenient where formatting is strict (a qop option that is
            # not a token): refusing to write it is right; nothing writes parsed ones.
            pass
    return out


def _auth_www(value: str) -> object:
    return _formatted(parse_challenges(value))


def _auth_proxy(value: str) -> object:
    return _formatted(parse_challenges(value, proxy=True))


def _credentials(value: str) -> object:
    return format_credentials(parse_credentials(value))


def _plain_only(value: str) -> object:
    """The shortcut for the plain shape gives what the general scan gives, or nothing."""
    plain = plain_items(value)
    if plain is None:
        return None
    try:
        general = _parse_items(value, "Authorization")
    except SipParseError as exc:  # what the shortcut accepts, the scan must
        raise AssertionError(f"plain_items accepts what the scan refuses: {exc}") from exc
    if plain != general:
        raise AssertionError(f"plain_items disagrees on {value!r}")
    return plain


def _via(value: str) -> object:
    via = fields.parse_via(value)
    return via.rport, via.branch, str(via), fields.plain_via(value)


def _contact(value: str) -> object:
    found = fields.contacts(Headers([("Contact", value)]))
    return [(c.expires, str(c)) for c in found]


def _address(value: str) -> object:
    addr = parse_name_addr(value)
    return str(addr), addr.tag, fields.params_dict(addr.params)


def _params(value: str) -> object:
    return fields.params_dict(parse_header_params(value, value))


FIELD_PARSERS: dict[str, Callable[[str], object]] = {
    "via": _via,
    "plain-via": fields.plain_via,
    "cseq": fields.parse_cseq,
    "contact": _contact,
    "name-addr": _address,
    "expires": fields.parse_delta_seconds,
    "content-length": lambda v: content_length(Headers([("Content-Length", v)])),
    "max-forwards": lambda v: grammar.parse_uint(v, "Max-Forwards", maximum=255),
    "port": grammar.parse_port,
    "hostport": lambda v: grammar.parse_hostport(v, lws=True),
    "uri": parse_uri,
    "request-uri": lambda v: parse_uri(v, allow_headers=False),
    "header-params": _params,
    "www-authenticate": _auth_www,
    "proxy-authenticate": _auth_proxy,
    "authorization": _credentials,
    "plain-auth": _plain_only,
    "unquote": grammar.unquote,
}
# Which parsers a header of a parsed message is fed to, by header key.
BY_HEADER: dict[str, tuple[str, ...]] = {
    "via": ("via", "plain-via"),
    "cseq": ("cseq",),
    "contact": ("contact",),
    "to": ("name-addr",),
    "from": ("name-addr",),
    "route": ("name-addr",),
    "record-route": ("name-addr",),
    "expires": ("expires",),
    "min-expires": ("expires",),
    "content-length": ("content-length",),
    "max-forwards": ("max-forwards",),
    "www-authenticate": ("www-authenticate", "plain-auth"),
    "proxy-authenticate": ("proxy-authenticate", "plain-auth"),
    "authorization": ("authorization", "plain-auth"),
    "proxy-authorization": ("authorization", "plain-auth"),
}


# --- the cores -----------------------------------------------------------------------


def _register(cseq: int, auth: str | None = None) -> bytes:
    lines = [
        "REGISTER sip:example.com SIP/2.0",
        f"Via: SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bKfz{cseq}",
        "Max-Forwards: 70",
        "To: <sip:alice@example.com>",
        "From: <sip:alice@example.com>;tag=456248",
        "Call-ID: fuzz-call",
        f"CSeq: {cseq} REGISTER",
        "Contact: <sip:alice@192.0.2.1:5060>;expires=60",
    ]
    if auth is not None:
        lines.append(f"Authorization: {auth}")
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _authenticated_register() -> tuple[bytes, bytes]:
    """A 401 from the registrar core and a REGISTER that answers it correctly."""
    [send] = deliver(registrar_service(), _register(1), "udp", NOW).sends
    first = parse_message(send.data)
    assert isinstance(first, Response)
    [challenge] = parse_challenges(first.headers.get("WWW-Authenticate") or "")
    creds = answer_challenge(
        challenge, username="alice", password="secret", method="REGISTER",
        uri="sip:example.com", cnonce="0a4f113b", nc=1, qop_preference=("auth",),
    )  # fmt: skip
    return send.data, _register(2, format_credentials(creds))


def _drive_client(data: bytes, *, is_challenge: bool) -> None:
    reg, request = started_registration()
    response = challenge_for(request, [data]) if is_challenge else data
    reg.receive(response, 0.1)
    reg.take_outgoing()
    reg.take_events()
    for _ in range(3):
        timer = reg.next_timer()
        if timer is None or reg.done:
            break
        reg.handle_timer(timer)


# --- mutation ------------------------------------------------------------------------


class Mutator:
    def __init__(self, rng: random.Random, seeds: list[bytes], values: list[bytes]) -> None:
        self.rng = rng
        self.seeds = seeds
        self.values = values

    def text(self, max_len: int = 24) -> str:
        rng = self.rng
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, max_len)))

    def value(self) -> bytes:
        """A header value: a real one mutated, or random text."""
        if self.rng.random() < 0.3:
            return self.text().encode("utf-8", "surrogateescape")
        return self.mutate(self.rng.choice(self.values), rounds=self.rng.randint(1, 3))

    def mutate(self, data: bytes, rounds: int) -> bytes:
        rng = self.rng
        buf = bytearray(data)
        for _ in range(rounds):
            op = rng.randrange(9)
            at = rng.randint(0, len(buf))
            if op == 0 and buf:  # replace one octet
                buf[min(at, len(buf) - 1)] = rng.randrange(256)
            elif op == 1:  # insert a special string
                buf[at:at] = rng.choice(SPECIAL)
            elif op == 2 and buf:  # delete a run
                del buf[at : at + rng.randint(1, 16)]
            elif op == 3 and buf:  # duplicate a run
                end = min(len(buf), at + rng.randint(1, 64))
                buf[at:at] = buf[at:end]
            elif op == 4:  # splice from another seed
                other = rng.choice(self.seeds)
                start = rng.randrange(len(other))
                buf[at:at] = other[start : start + rng.randint(1, 80)]
            elif op == 5:  # a digit run becomes a special number
                digits = [i for i, c in enumerate(buf) if 48 <= c <= 57]
                if digits:
                    i = rng.choice(digits)
                    j = i
                    while j < len(buf) and 48 <= buf[j] <= 57:
                        j += 1
                    buf[i:j] = rng.choice(SPECIAL[:16])
            elif op == 6:  # a header value replaced by a mutated/random one
                lines = bytes(buf).split(b"\r\n")
                if len(lines) > 2:
                    k = rng.randrange(1, len(lines))
                    name, colon, _ = lines[k].partition(b":")
                    if colon:
                        lines[k] = name + b": " + self.value()
                        buf = bytearray(b"\r\n".join(lines))
            elif op == 7:  # a random octet string
                buf[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
            else:  # a random character string
                buf[at:at] = self.text(8).encode("utf-8", "surrogateescape")
        return bytes(buf)


# --- running -------------------------------------------------------------------------


@dataclass
class Failure:
    count: int
    example: bytes | str  # the first input that failed this way
    message: str


@dataclass
class Tally:
    inputs: int = 0
    failures: dict[str, Failure] = field(default_factory=dict)  # by root cause

    def fail(self, target: str, exc: BaseException, data: bytes | str) -> None:
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if "/sipcheck/" in f.filename] or frames
        where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno} {ours[-1].name}" if ours else "?"
        cause = f"{type(exc).__name__} at {where} (via {target})"
        entry = self.failures.setdefault(cause, Failure(0, data, f"{type(exc).__name__}: {exc}"))
        entry.count += 1

    def merge(self, other: Tally) -> None:
        self.inputs += other.inputs
        for cause, failure in other.failures.items():
            entry = self.failures.setdefault(cause, Failure(0, failure.example, failure.message))
            entry.count += failure.count


def _call(
    tally: Tally,
    target: str,
    func: Callable[..., object],
    data: bytes | str,
    *args: object,
    allowed: tuple[type[BaseException], ...] = (SipParseError,),
) -> object:
    try:
        return func(*args)
    except allowed:
        return None
    except Exception as exc:  # the point: anything else is a failure
        tally.fail(target, exc, data)
        return None


def _check_message(tally: Tally, data: bytes, service: RegistrarService) -> None:
    message = _call(tally, "parse_message", parse_message, data, data)
    _call(tally, "parse_message(stream)", lambda: parse_message(data, stream=True), data)
    framer = BoundedFramer(65536, 65536)
    half = len(data) // 2
    _call(
        tally, "BoundedFramer", lambda: (framer.feed(data[:half]), framer.feed(data[half:])), data
    )
    report = _call(tally, "lint_bytes", lint_bytes, data, data, allowed=())
    if isinstance(report, LintReport):
        internal = [p.message for p in report.problems if p.code == "internal-error"]
        if internal:  # lint_bytes caught what the parser must never raise
            tally.fail("lint_bytes internal-error", RuntimeError(internal[0]), data)
    for transport in ("udp", "tcp"):
        into = lambda t=transport: deliver(service, data, t, NOW)  # noqa: E731
        _call(tally, f"RegistrarService.receive({transport})", into, data, allowed=())
    if isinstance(message, Request):
        copy = Request(message.method, message.uri, message.headers.copy(), message.body)
        _call(tally, "stamp_via", stamp_via, data, copy, "192.0.2.7", 5061, allowed=())
    if isinstance(message, (Request, Response)):
        for key, (_, value) in zip(message.headers.keys(), message.headers, strict=True):
            for name in BY_HEADER.get(key, ()):
                _call(tally, name, FIELD_PARSERS[name], value, value)
        if isinstance(message, Response) and message.status in (401, 407):
            drive = lambda: _drive_client(data, is_challenge=False)  # noqa: E731
            _call(tally, "Registration.receive", drive, data, allowed=())


def _check_value(tally: Tally, value: bytes) -> None:
    text = value.decode("utf-8", "surrogateescape")
    for name, parser in FIELD_PARSERS.items():
        _call(tally, name, parser, text, text)
    _call(tally, "quote", grammar.quote, text, text, allowed=(LocalProtocolError,))
    _call(tally, "Registration challenge", lambda: _drive_client(value, is_challenge=True),
          value, allowed=())  # fmt: skip


def run(seed: int, seconds: float | None, inputs: int | None) -> Tally:
    rng = random.Random(seed)
    seeds = _seeds()
    challenge_401, auth_register = _authenticated_register()
    seeds += [challenge_401, auth_register, _register(1)]
    values = [
        line.partition(b":")[2].strip()
        for seed_data in seeds
        for line in seed_data.splitlines()[1:]
        if b":" in line
    ]
    mutator = Mutator(rng, seeds, [v for v in values if v])
    service = registrar_service(record=True)
    tally = Tally()
    deadline = None if seconds is None else time.monotonic() + seconds
    while True:
        if inputs is not None and tally.inputs >= inputs:
            break
        if deadline is not None and tally.inputs % 64 == 0 and time.monotonic() >= deadline:
            break
        if rng.random() < 0.5:
            data = mutator.mutate(rng.choice(seeds), rounds=rng.randint(1, 6))
            _check_message(tally, data, service)
        else:
            _check_value(tally, mutator.value())
        tally.inputs += 1
        if tally.inputs % 5000 == 0:
            # The attempts' timers and close, then a new service: its state stays small.
            end = lambda s=service: (s.handle_timer(NOW + 60), s.close(NOW + 61))  # noqa: E731
            _call(tally, "RegistrarService timers", end, b"", allowed=())
            service = registrar_service(record=True)
    return tally


def _worker(args: tuple[int, float | None, int | None]) -> Tally:
    return run(*args)


def _show(data: object) -> str:
    text = repr(data)
    return text if len(text) <= 300 else text[:300] + f"... ({len(text)} characters)"


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, help="run this long (default 10 s)")
    parser.add_argument("--inputs", type=int, help="try this many inputs (per job)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first job")
    parser.add_argument("--jobs", type=int, default=1, help="processes (seeds seed..seed+N-1)")
    parser.add_argument("--save", type=Path, help="write one failing input per cause here")
    args = parser.parse_args(list(argv) if argv is not None else None)
    seconds = args.seconds if args.seconds is not None or args.inputs is not None else 10.0
    started = time.monotonic()
    jobs = [(args.seed + i, seconds, args.inputs) for i in range(max(1, args.jobs))]
    if len(jobs) == 1:
        tallies = [run(*jobs[0])]
    else:
        with multiprocessing.Pool(len(jobs)) as pool:
            tallies = pool.map(_worker, jobs)
    elapsed = time.monotonic() - started
    total = Tally()
    for tally in tallies:
        total.merge(tally)
    rate = total.inputs / elapsed if elapsed else 0.0
    print(f"inputs tried: {total.inputs} in {elapsed:.1f} s ({rate:.0f} inputs/s, "
          f"{len(jobs)} job(s), seeds {args.seed}..{args.seed + len(jobs) - 1})")  # fmt: skip
    if not total.failures:
        print("failures: none")
        return 0
    count = sum(f.count for f in total.failures.values())
    print(f"failures: {count} in {len(total.failures)} root cause(s)")
    ranked = sorted(total.failures.items(), key=lambda item: -item[1].count)
    for i, (cause, failure) in enumerate(ranked):
        print(f"  {failure.count:>7}  {cause}")
        print(f"           {_show(failure.message)}\n           input: {_show(failure.example)}")
        if args.save is not None:
            args.save.mkdir(parents=True, exist_ok=True)
            data = failure.example
            raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape")
            (args.save / f"cause-{i:02d}.bin").write_bytes(raw)
    return 1


if __name__ == "__main__":
    sys.exit(main())

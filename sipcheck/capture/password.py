"""Is the password the one the phone used? Each digest answer in a capture,
recomputed with a given password (RFC 7616 §3.4.1 arithmetic, the registrar's own
``verify_credentials``), with the checks the embedded registrar makes of a client:
the digest uri against the Request-URI, the realm, algorithm and qop against the
challenge answered. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipcheck.errors import DigestError, SipParseError
from sipcheck.sip.digest.compute import verify_credentials
from sipcheck.sip.wire.auth import Challenge, Credentials, parse_challenges, parse_credentials
from sipcheck.sip.wire.message import Request, Response
from sipcheck.trace import Trace

WRONG = (
    "this answer was computed with a different password (or auth user, realm, uri) "
    "than the one given"
)
RIGHT_REFUSED = (
    "this answer is correct for that password: the server refused a correct answer "
    "(account, ACL or server problem)"
)
RIGHT = "this answer is correct for that password"


@dataclass(frozen=True)
class AnswerCheck:
    index: int  # the request's position in the Trace
    header: str  # Authorization | Proxy-Authorization
    auth_user: str
    realm: str
    uri: str
    algorithm: str
    qop: str | None
    answered_by: int | None  # the final status the request got
    correct: bool | None  # None: could not be checked
    verdict: str
    problems: tuple[str, ...] = ()


def _challenges(response: Response) -> list[Challenge]:
    name = "Proxy-Authenticate" if response.status == 407 else "WWW-Authenticate"
    out: list[Challenge] = []
    for value in response.headers.get_all(name):
        try:
            out += [c for c in parse_challenges(value, proxy=name[0] == "P") if c.is_digest]
        except SipParseError:
            continue
    return out


def _problems(creds: Credentials, request: Request, offered: list[Challenge]) -> list[str]:
    out: list[str] = []
    if creds.uri != request.uri:
        out.append(f"the digest uri {creds.uri!r} is not the Request-URI {request.uri!r}")
    same_nonce = [c for c in offered if c.nonce == creds.nonce]
    if offered and not same_nonce:
        out.append("the nonce is not the one the last challenge offered")
    challenge = same_nonce[0] if same_nonce else None
    if challenge is None:
        return out
    if challenge.realm != creds.realm:
        out.append(f"realm {creds.realm!r} is not the challenged {challenge.realm!r}")
    if (creds.algorithm or "MD5").upper() != (challenge.algorithm or "MD5").upper():
        out.append(
            f"algorithm {creds.algorithm or 'MD5'} was not offered "
            f"(the challenge said {challenge.algorithm or 'MD5'})"
        )
    offered_qop = [q.lower() for q in challenge.qop_options]
    if creds.qop and creds.qop.lower() not in offered_qop:
        out.append(f"qop {creds.qop} was not offered ({', '.join(offered_qop) or 'none'})")
    if not creds.qop and offered_qop:
        out.append(f"no qop, though the challenge offered {', '.join(offered_qop)}")
    return out


def check_answers(trace: Trace, password: str, auth_user: str | None = None) -> list[AnswerCheck]:
    """One check per Authorization / Proxy-Authorization the client sent."""
    checks: list[AnswerCheck] = []
    offered: list[Challenge] = []
    entries = trace.entries
    for index, entry in enumerate(entries):
        message = entry.message
        if isinstance(message, Response) and entry.direction == "in":
            if message.status in (401, 407):
                offered = _challenges(message)
            continue
        if not isinstance(message, Request) or entry.direction != "out" or entry.retransmission:
            continue
        for header, proxy in (("Authorization", False), ("Proxy-Authorization", True)):
            for value in message.headers.get_all(header):
                try:
                    creds = parse_credentials(value, proxy=proxy)
                except SipParseError:
                    continue
                if creds.is_digest:
                    status = _answered_by(trace, index, message)
                    checks.append(
                        _check(index, header, creds, message, offered, status, password, auth_user)
                    )
    return checks


def _check(
    index: int,
    header: str,
    creds: Credentials,
    request: Request,
    offered: list[Challenge],
    status: int | None,
    password: str,
    auth_user: str | None,
) -> AnswerCheck:
    problems = _problems(creds, request, offered)
    if auth_user is not None and not creds.userhash and creds.username != auth_user:
        problems.insert(0, f"the answer is for auth user {creds.username!r}, not {auth_user!r}")
    correct: bool | None
    try:
        username = auth_user or creds.username
        correct = verify_credentials(
            creds,
            password=password,
            method=request.method,
            body=request.body,
            username=username if creds.userhash else None,
        )
    except DigestError as exc:  # an algorithm or qop the arithmetic lacks
        correct, verdict = None, f"cannot be checked: {exc}"
    else:
        refused = status is not None and status >= 300
        verdict = WRONG if not correct else RIGHT_REFUSED if refused else RIGHT
    return AnswerCheck(
        index=index,
        header=header,
        auth_user=creds.username,
        realm=creds.realm,
        uri=creds.uri,
        algorithm=creds.algorithm or "MD5",
        qop=creds.qop,
        answered_by=status,
        correct=correct,
        verdict=verdict,
        problems=tuple(problems),
    )


def _answered_by(trace: Trace, index: int, request: Request) -> int | None:
    cseq = (request.headers.get("CSeq") or "").strip()
    for entry in trace.entries[index + 1 :]:
        message = entry.message
        if (
            isinstance(message, Response)
            and message.status >= 200
            and (message.headers.get("CSeq") or "").strip() == cseq
        ):
            return message.status
    return None

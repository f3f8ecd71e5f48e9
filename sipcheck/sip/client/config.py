"""What one client run is asked to do: the mode, the AoR, who we answer a
challenge as, timers and limits. One frozen value, built once by the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from sipcheck import __version__
from sipcheck.errors import SipParseError
from sipcheck.sip.client.transaction import Timers
from sipcheck.sip.wire.uri import SipUri, parse_uri


class Mode(Enum):
    REGISTER = "register"
    UNREGISTER = "unregister"
    UNREGISTER_ALL = "unregister-all"
    QUERY = "query"
    OPTIONS = "options"


@dataclass(frozen=True)
class Credential:
    """Who we answer a challenge as; ``realm`` None means any realm. The secret
    stays out of repr, so no log or traceback of a config shows it."""

    auth_user: str
    password: str | None = field(default=None, repr=False)
    ha1: str | None = field(default=None, repr=False)
    realm: str | None = None


@dataclass(frozen=True)
class RegistrationConfig:
    aor: SipUri
    mode: Mode = Mode.REGISTER
    request_uri: SipUri | None = None  # default: the AoR's domain (RFC 3261 §10.2)
    expires: int = 3600
    contact: str | None = None  # explicit Contact URI
    contact_user: str | None = None  # user part of our Contact (default: the AoR's)
    accounts: tuple[Credential, ...] = ()
    algorithm_preference: tuple[str, ...] = ("SHA-512-256", "SHA-256", "MD5")
    qop_preference: tuple[str, ...] = ("auth", "auth-int")
    timers: Timers = field(default_factory=Timers)
    timeout: float = 32.0
    user_agent: str = f"sipcheck/{__version__}"
    max_forwards: int = 70

    @property
    def registrar_uri(self) -> SipUri:
        if self.request_uri is not None:
            return self.request_uri
        return SipUri(self.aor.scheme, self.aor.host, port=self.aor.port)


def parse_aor(text: str) -> SipUri:
    """``user@domain``, ``sip:user@domain`` or ``sips:...`` as a SIP URI."""
    has_scheme = text[:5].lower() in ("sip:u", "sips:") or text[:4].lower() == "sip:"
    uri = parse_uri(text if has_scheme else f"sip:{text}")
    if not isinstance(uri, SipUri):
        raise SipParseError(f"{text!r} is not a sip: or sips: address")
    return uri

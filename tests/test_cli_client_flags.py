"""The flags sipsak and sipexer users reach for: -H/--header, --user-agent, --ha1-env /
--ha1-file, --from/--to/--request-uri, --max-forwards, -4/-6, --algorithm, -h.

Refusals are checked through click (exit 2, the flag named); what is sent is checked
byte for byte against sipcheck's registrar core behind a loopback UDP socket
(tests/support/capture.py), with only the drawn values (branch, tags, Call-ID, port,
nonce, cnonce, response) replaced by placeholders.
"""

from __future__ import annotations

import json
import re
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from sipcheck.cli.aor_argument import parse_aor_argument
from sipcheck.cli.client_options import ClientOptions, client_options
from sipcheck.cli.client_settings import build_client_settings, ha1_algorithms
from sipcheck.cli.main import cli
from sipcheck.cli.params import ALGORITHMS, HEADER, HEADER_TEXT, NAME_ADDR, SIP_URI, HostPort
from sipcheck.cli.passwords import PasswordOptions
from sipcheck.errors import ConfigError
from sipcheck.secret import Secret
from sipcheck.sip.client.config import Mode
from sipcheck.sip.digest.compute import compute_ha1
from tests.support.capture import CapturingRegistrar

CLEAN_ENV = {"NO_COLOR": "1", "FORCE_COLOR": "", "SIPCHECK_DEBUG": "", "CI": "true"}
PASSWORD = "Zq7-canary.9x"


def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    return CliRunner().invoke(
        cli, list(args), env={**CLEAN_ENV, **(env or {})}, input=input, catch_exceptions=False
    )


def _probe(param_type: click.ParamType[Any]) -> click.Command:
    @click.command()
    @click.option("--value", type=param_type)
    def probe(value: object) -> None:
        click.echo(repr(value))

    return probe


def _converted(param_type: click.ParamType[Any], text: str) -> Result:
    return CliRunner().invoke(_probe(param_type), ["--value", text])


# ------------------------------------------------------------ parameter types


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("X-Tenant: 42", ("X-Tenant", "42")),
        ("Route:<sip:edge.example.com;lr>", ("Route", "<sip:edge.example.com;lr>")),
        ("Subject: hello, world", ("Subject", "hello, world")),
        ("X-Empty:", ("X-Empty", "")),
        ("P-Preferred-Identity: <sip:1001@example.com>", ("P-Preferred-Identity",
                                                          "<sip:1001@example.com>")),
    ],
)  # fmt: skip
def test_a_header_is_taken_as_name_and_value(text: str, value: tuple[str, str]) -> None:
    result = _converted(HEADER, text)
    assert result.exit_code == 0, result.output
    assert result.stdout == repr(value) + "\n"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("no colon here", "is not 'Name: value'"),
        (": value", "is not 'Name: value'"),
        ("Bad Name: x", "bad header name"),
        ("X-A: one\x01two", "control characters"),
        ("X-A: one\ttwo\r\nVia: injected", "control characters"),
        ("Via: SIP/2.0/UDP 192.0.2.1", "sipcheck writes the Via"),
        ("v: SIP/2.0/UDP 192.0.2.1", "sipcheck writes the Via"),  # compact form
        ("call-id: x", "sipcheck writes the Call-ID"),
        ("CSeq: 1 REGISTER", "sipcheck writes the CSeq"),
        ("From: <sip:a@b>", "use --from"),
        ("t: <sip:a@b>", "use --to"),
        ("Max-Forwards: 1", "use --max-forwards"),
        ("User-Agent: x", "use --user-agent"),
        ("Contact: <sip:a@b>", "use --contact"),
        ("Expires: 60", "use --expires"),
        ("Authorization: Digest x", "answers the challenge itself"),
        ("Route: <sip:edge.example.com", "missing '>'"),
        ("Date: yesterday", "is not an RFC 1123 date"),
    ],
)
def test_a_bad_header_is_refused_naming_the_flag(text: str, says: str) -> None:
    result = _converted(HEADER, text)
    assert result.exit_code == 2
    assert says in result.stderr and "--value" in result.stderr


def test_algorithm_lists() -> None:
    assert _converted(ALGORITHMS, "sha-256,MD5").stdout == "('SHA-256', 'MD5')\n"
    assert _converted(ALGORITHMS, "MD5-sess, MD5").stdout == "('MD5',)\n"  # ranks with MD5
    bad = _converted(ALGORITHMS, "MD5,SHA1")
    assert bad.exit_code == 2 and "'SHA1' is not a digest algorithm" in bad.stderr
    assert "MD5, SHA-256, SHA-512-256" in bad.stderr


def test_addresses_and_uris() -> None:
    assert _converted(NAME_ADDR, "sip:ops@example.com").stdout == "'<sip:ops@example.com>'\n"
    named = _converted(NAME_ADDR, '"Ops, Team" <sip:ops@example.com>')
    assert named.stdout == repr('"Ops, Team" <sip:ops@example.com>') + "\n"
    for bad, says in (
        ("sip:ops@example.com;tag=1", "leave the tag out"),
        ("sip:ops:PW@example.com", "leave the password out"),
        ("<sip:a@b>, <sip:c@d>", "one address"),
        ("not an address", "not an address"),
    ):
        result = _converted(NAME_ADDR, bad)
        assert result.exit_code == 2 and says in result.stderr, (bad, result.stderr)
        assert "PW" not in result.stderr
    assert "host='registrar.example.com'" in _converted(SIP_URI, "sip:registrar.example.com").stdout
    for bad, says in (("tel:+1555", "sip: or sips:"), ("sip:a:PW@b", "password"), ("x", "not")):
        result = _converted(SIP_URI, bad)
        assert result.exit_code == 2 and says in result.stderr
        assert "PW" not in result.stderr
    assert _converted(HEADER_TEXT, "x\x07").exit_code == 2


# ------------------------------------------------------- options -> settings


def test_the_new_options_reach_the_settings() -> None:
    seen: list[ClientOptions] = []

    @click.command()
    @client_options
    def probe(options: ClientOptions) -> None:
        seen.append(options)

    args = [
        "-H", "X-A: 1", "--header", "X-B: 2", "--user-agent", "UA 1", "--from", "sip:o@e.com",
        "--to", "sip:t@e.com", "--request-uri", "sip:r.e.com", "--max-forwards", "3", "-6",
        "--algorithm", "MD5", "--ha1-env", "HA", "-vvv",
    ]  # fmt: skip
    result = CliRunner().invoke(probe, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    options = seen[0]
    assert options.headers == (("X-A", "1"), ("X-B", "2"))
    assert (options.user_agent, options.from_address, options.to_address) == (
        "UA 1", "<sip:o@e.com>", "<sip:t@e.com>",
    )  # fmt: skip
    assert str(options.request_uri) == "sip:r.e.com" and options.max_forwards == 3
    assert options.family == 6 and options.algorithms == ("MD5",)
    assert options.password == PasswordOptions(ha1_env="HA") and options.output.verbose == 3
    settings = build_client_settings(Mode.REGISTER, parse_aor_argument("alice@e.com"), options)
    config = settings.config
    assert config.headers == (("X-A", "1"), ("X-B", "2")) and config.user_agent == "UA 1"
    assert (config.from_address, config.to_address) == ("<sip:o@e.com>", "<sip:t@e.com>")
    assert str(config.registrar_uri) == "sip:r.e.com" and config.max_forwards == 3
    assert config.algorithm_preference == ("MD5",) and settings.family == 6


def test_defaults_and_the_empty_user_agent() -> None:
    plain = build_client_settings(Mode.REGISTER, parse_aor_argument("a@e.com"), ClientOptions())
    assert plain.config.user_agent is not None and plain.config.user_agent.startswith("sipcheck/")
    assert plain.config.algorithm_preference == ("SHA-512-256", "SHA-256", "MD5")
    assert plain.config.max_forwards == 70 and plain.family is None
    none = build_client_settings(
        Mode.REGISTER, parse_aor_argument("a@e.com"), ClientOptions(user_agent="")
    )
    assert none.config.user_agent is None


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["alice@127.0.0.1", "-6"], "-6: the address 127.0.0.1 is not IPv6"),
        (["alice@[::1]", "-4"], "-4: the address ::1 is not IPv4"),
        (["alice@example.com", "--server", "[::1]:5060", "-4"], "-4: --server ::1 is not IPv4"),
        (["alice@example.com", "-6", "--bind", "127.0.0.1"], "--bind is not IPv6"),
        (["alice@example.com", "-4", "-6"], "-4 and -6 cannot be used together"),
        (["alice@example.com", "--ha1-env", "HA", "--password-env", "PW"], "one way only"),
        (["alice:pw@example.com", "--ha1-env", "HA"], "one way only"),
        (["alice@example.com", "--ha1-env", "UNSET_HA1"], "UNSET_HA1 is not set"),
    ],
)
def test_usage_errors_exit_2_naming_the_flags(args: list[str], says: str) -> None:
    result = invoke("register", *args, env={"HA": "0" * 32, "PW": "x"})
    assert result.exit_code == 2, result.output
    assert says in result.stderr


def test_a_bad_ha1_is_refused_without_repeating_it(tmp_path: Any) -> None:
    for value in ("abc", "g" * 32, "0" * 40):
        result = invoke("register", "alice@example.com", "--ha1-env", "HA", env={"HA": value})
        assert result.exit_code == 2 and "not an HA1 (32 hex digits" in result.stderr
        assert value not in result.stderr + result.stdout
    empty = tmp_path / "ha1"
    empty.write_text("\n")
    result = invoke("register", "alice@example.com", "--ha1-file", str(empty))
    assert result.exit_code == 2 and "--ha1-file" in result.stderr and "empty" in result.stderr


def test_the_algorithm_an_ha1_is_answered_with() -> None:
    assert ha1_algorithms(32, None) == ("MD5",)
    assert ha1_algorithms(64, None) == ("SHA-256",)
    assert ha1_algorithms(64, ("SHA-512-256", "MD5")) == ("SHA-512-256",)
    assert ha1_algorithms(32, ("SHA-256", "MD5")) == ("MD5",)
    with pytest.raises(ConfigError, match="leaves that out"):
        ha1_algorithms(32, ("SHA-256",))
    with pytest.raises(ConfigError, match="the one it was computed with"):
        ha1_algorithms(64, ("SHA-256", "SHA-512-256"))
    settings = build_client_settings(
        Mode.REGISTER, parse_aor_argument("alice@e.com"), ClientOptions()
    ).with_ha1(Secret("ab" * 16))
    account = settings.config.accounts[0]
    assert (account.password, account.ha1) == (None, "ab" * 16)
    assert settings.config.algorithm_preference == ("MD5",)


# ------------------------------------------------------------ on the wire

_DRAWN = [
    (rb"branch=z9hG4bK[0-9a-f]+", b"branch=z9hG4bK*"),
    (rb"tag=[0-9a-f]+", b"tag=*"),
    (rb"Call-ID: [^\r]+", b"Call-ID: *"),
    (rb'(nonce|cnonce|response)="[^"]+"', rb'\1="*"'),
]


def normalized(request: bytes, registrar_port: int) -> bytes:
    for pattern, placeholder in _DRAWN:
        request = re.sub(pattern, placeholder, request)
    ours = re.search(rb"Via: SIP/2.0/UDP 127.0.0.1:(\d+)", request)
    assert ours is not None
    return request.replace(b":" + ours.group(1), b":PORT").replace(
        b":" + str(registrar_port).encode(), b":REGISTRAR"
    )


def test_every_override_is_sent_exactly_and_the_registration_works() -> None:
    with CapturingRegistrar({"alice": PASSWORD}) as registrar:
        result = invoke(
            "register", f"alice@{registrar.where}", "--password-env", "PW",
            "-H", "X-Tenant: 42", "-H", "P-Preferred-Identity: <sip:1001@127.0.0.1>",
            "--user-agent", "Yealink SIP-T46S 66.86.0.15",
            "--from", '"Ops" <sip:ops@127.0.0.1>', "--to", "sip:alice@127.0.0.1",
            "--request-uri", "sip:127.0.0.1", "--max-forwards", "9", "--algorithm", "MD5",
            env={"PW": PASSWORD},
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    first, answer = (normalized(r, registrar.port) for r in registrar.received)
    head = (
        b"REGISTER sip:127.0.0.1 SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 127.0.0.1:PORT;rport;branch=z9hG4bK*\r\n"
        b"Max-Forwards: 9\r\n"
        b'From: "Ops" <sip:ops@127.0.0.1>;tag=*\r\n'
        b"To: <sip:alice@127.0.0.1>\r\n"
        b"Call-ID: *\r\n"
    )
    tail = (
        b"Allow: OPTIONS\r\n"
        b"User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
        b"X-Tenant: 42\r\n"
        b"P-Preferred-Identity: <sip:1001@127.0.0.1>\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    assert (
        first
        == head
        + (b"CSeq: 1 REGISTER\r\nContact: <sip:alice@127.0.0.1:PORT>\r\nExpires: 3600\r\n")
        + tail
    )
    assert (
        answer
        == head
        + (
            b"CSeq: 2 REGISTER\r\nContact: <sip:alice@127.0.0.1:PORT>\r\nExpires: 3600\r\n"
            b'Authorization: Digest username="alice", realm="127.0.0.1", nonce="*", '
            b'uri="sip:127.0.0.1", response="*", algorithm=MD5, cnonce="*", qop=auth, '
            b"nc=00000001\r\n"
        )
        + tail
    )


def test_an_empty_user_agent_sends_none() -> None:
    with CapturingRegistrar({}) as registrar:
        result = invoke("options", registrar.where, "--user-agent", "")
    assert result.exit_code == 0, result.output
    assert b"User-Agent" not in registrar.received[0]


@pytest.mark.parametrize("source", ["env", "file", "stdin"])
def test_an_ha1_registers_and_is_never_shown_or_sent(source: str, tmp_path: Any) -> None:
    ha1 = compute_ha1("MD5", "alice", "127.0.0.1", PASSWORD).upper()  # case does not matter
    args = {"env": ["--ha1-env", "HA1"], "file": ["--ha1-file", str(tmp_path / "ha1")],
            "stdin": ["--ha1-file", "-"]}[source]  # fmt: skip
    (tmp_path / "ha1").write_text(ha1 + "\n")
    for extra in (["-vv"], ["--json"]):
        with CapturingRegistrar({"alice": PASSWORD}) as registrar:
            result = invoke(
                "register", f"alice@{registrar.where}", *args, *extra,
                env={"HA1": ha1}, input=ha1 + "\n" if source == "stdin" else None,
            )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert b"Authorization: Digest" in registrar.wire
        for secret in (ha1, ha1.lower(), PASSWORD):
            assert secret not in result.stdout + result.stderr
            assert secret.encode() not in registrar.wire


def answered_with(document: str) -> str:
    """The algorithm of the Authorization we sent, from the --json messages."""
    for message in json.loads(document)["messages"]:
        found = re.search(r"Authorization: Digest .*algorithm=([A-Za-z0-9-]+)", message["raw"])
        if message["direction"] == "out" and found:
            return found.group(1)
    raise AssertionError("no Authorization sent")


def test_a_sha256_ha1_answers_the_sha256_challenge() -> None:
    ha1 = compute_ha1("SHA-256", "alice", "127.0.0.1", PASSWORD)
    with CapturingRegistrar({"alice": PASSWORD}, algorithms=("MD5", "SHA-256")) as registrar:
        result = invoke("register", f"alice@{registrar.where}", "--ha1-env", "HA1", "--json",
                        env={"HA1": ha1})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert answered_with(result.stdout) == "SHA-256"


def test_the_algorithm_preference_chooses_among_the_challenges() -> None:
    offered = ("SHA-256", "MD5")
    for flag, answered in ((None, "SHA-256"), ("MD5", "MD5"), ("MD5,SHA-256", "MD5")):
        with CapturingRegistrar({"alice": PASSWORD}, algorithms=offered) as registrar:
            extra = [] if flag is None else ["--algorithm", flag]
            result = invoke("register", f"alice@{registrar.where}", "--password-env", "PW",
                            "--json", *extra, env={"PW": PASSWORD})  # fmt: skip
        assert result.exit_code == 0, result.output
        assert answered_with(result.stdout) == answered
    with CapturingRegistrar({"alice": PASSWORD}, algorithms=("SHA-256",)) as registrar:
        result = invoke("register", f"alice@{registrar.where}", "--password-env", "PW",
                        "--algorithm", "MD5", "--json", env={"PW": PASSWORD})  # fmt: skip
    doc = json.loads(result.stdout)
    assert doc["diagnosis"][0]["id"] == "challenge-unsupported"
    assert "algorithm MD5" in doc["diagnosis"][0]["message"]


def test_password_file_dash_reads_stdin() -> None:
    with CapturingRegistrar({"alice": PASSWORD}) as registrar:
        result = invoke("register", f"alice@{registrar.where}", "--password-file", "-",
                        input=PASSWORD + "\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.stdout + result.stderr


# --------------------------------------------------------------- -4 and -6


def test_ipv6_only_over_ipv6_loopback() -> None:
    with CapturingRegistrar({"alice": PASSWORD}, host="::1") as registrar:
        result = invoke("register", f"alice@{registrar.where}", "-6", "--password-env", "PW",
                        "--json", env={"PW": PASSWORD})  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["messages"][0]["local"].startswith("[::1]:")


def test_a_name_without_an_address_of_the_family_is_a_dns_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sipcheck.net import dns
    from sipcheck.sip.locate.targets import Resolution, ResolutionStep, Target

    asked: list[int | None] = []

    async def v4_only(*args: object, family: int | None = None, **kw: object) -> Resolution:
        asked.append(family)
        # Never sent to: -6 leaves no target, so nothing leaves the machine.
        step = ResolutionStep("A", "pbx.example.com", ("192.0.2.1",))
        return Resolution((Target("pbx.example.com", "192.0.2.1", 5060, "udp"),), (step,))

    monkeypatch.setattr(dns, "resolve", v4_only)
    result = invoke("options", "pbx.example.com", "-6", "--json")
    assert result.exit_code == 8 and asked == [6]
    diagnosis = json.loads(result.stdout)["diagnosis"][0]
    assert diagnosis["id"] == "dns-failed"
    assert "pbx.example.com: no IPv6 address (-6); it resolved to IPv4 only" in diagnosis["message"]
    monkeypatch.undo()
    with CapturingRegistrar({}) as registrar:
        four = invoke("options", f"localhost:{registrar.port}", "-4", "--json")
    assert four.exit_code == 0, four.output
    assert json.loads(four.stdout)["target"]["address"] == registrar.where


def test_only_family_keeps_the_order_and_names_the_flag() -> None:
    from sipcheck.cli.client_run import only_family
    from sipcheck.sip.locate.targets import Resolution, ResolutionFailed, Target

    both = Resolution(
        (Target("h", "192.0.2.1", 5060, "udp"), Target("h", "2001:db8::1", 5060, "udp"),
         Target("h", "192.0.2.2", 5060, "udp")), (),
    )  # fmt: skip
    assert [t.address for t in only_family(both, 4, "h").targets] == ["192.0.2.1", "192.0.2.2"]
    assert [t.address for t in only_family(both, 6, "h").targets] == ["2001:db8::1"]
    assert only_family(both, None, "h") is both
    with pytest.raises(ResolutionFailed, match=r"h: no IPv6 address \(-6\)"):
        only_family(Resolution(both.targets[:1], ()), 6, "h")


# ---------------------------------------------------------------------- -h

COMMANDS = ["register", "unregister", "query", "options", "registrar", "demo", "explain",
            "lint"]  # fmt: skip


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_dash_h_is_help_everywhere(command: str | None) -> None:
    args = ["-h"] if command is None else [command, "-h"]
    short, long = invoke(*args), invoke(*(a if a != "-h" else "--help" for a in args))
    assert short.exit_code == 0 and short.stdout == long.stdout
    assert "-h, --help" in short.stdout


def test_every_new_option_has_an_example_in_help() -> None:
    text = invoke("register", "--help").stdout
    for flag in ("-H", "--user-agent", "--ha1-env", "--ha1-file", "--from", "--to",
                 "--request-uri", "--max-forwards", "-6", "--algorithm", "--count",
                 "--interval", "-v", "--password-file -"):  # fmt: skip
        assert re.search(rf"sipcheck register .*{re.escape(flag)}\b", text) or re.search(
            rf"e\.g\. [^\n]*{re.escape(flag)}", text.replace("\n", " ")
        ), flag


def test_host_port_dataclass_is_unchanged() -> None:
    assert str(HostPort("::1", 5060)) == "[::1]:5060"

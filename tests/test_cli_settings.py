"""Typed settings and click parameter types: the argument, HOST[:PORT], commands,
the ClientOptions a command receives and the ClientSettings built from them."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from typing import Any

import click
import pytest
from click.testing import CliRunner

from sipcheck.cli.aor_argument import AorArgument, parse_aor_argument
from sipcheck.cli.client_options import ClientOptions, client_options
from sipcheck.cli.client_settings import ClientSettings, build_client_settings
from sipcheck.cli.options import OutputOptions
from sipcheck.cli.params import AOR, COMMAND, CONTACT, HOST_PORT, LOCAL_ADDRESS, HostPort
from sipcheck.cli.passwords import PasswordOptions
from sipcheck.cli.secret import Secret
from sipcheck.errors import ConfigError
from sipcheck.sip.client.config import Mode


def _probe(param_type: click.ParamType[Any]) -> click.Command:
    @click.command()
    @click.option("--value", type=param_type)
    def probe(value: object) -> None:
        click.echo(repr(value))

    return probe


# ------------------------------------------------------------- the argument


@pytest.mark.parametrize(
    ("text", "aor", "form", "password", "contact_user"),
    [
        ("alice@example.com", "sip:alice@example.com", "aor", None, None),
        ("sip:alice@example.com", "sip:alice@example.com", "uri", None, None),
        ("sips:alice@example.com:5061", "sips:alice@example.com:5061", "uri", None, None),
        ("sip:alice:s3@example.com;transport=tcp", "sip:alice@example.com;transport=tcp",
         "uri", "s3", None),
        ("sip:alice:p%40ss@example.com", "sip:alice@example.com", "uri", "p@ss", None),
        ("alice:s3@192.0.2.1:5060/1001", "sip:alice@192.0.2.1:5060", "registration-string",
         "s3", "1001"),
        ("alice:s3@cret@pbx.example.com", "sip:alice@pbx.example.com",  # "@" in an Asterisk
         "registration-string", "s3@cret", None),                      # secret
        ("alice@pbx.example.com/1001", "sip:alice@pbx.example.com", "registration-string",
         None, "1001"),
        ("alice@[::1]:5060", "sip:alice@[::1]:5060", "aor", None, None),
        ("sip.carrier.net:5070", "sip:sip.carrier.net:5070", "aor", None, None),
        ("  alice@example.com  ", "sip:alice@example.com", "aor", None, None),
    ],
)  # fmt: skip
def test_the_argument_forms(
    text: str, aor: str, form: str, password: str | None, contact_user: str | None
) -> None:
    parsed = parse_aor_argument(text)
    assert str(parsed.aor) == aor
    assert parsed.aor.password is None  # never in the AoR: never sent, never printed
    assert parsed.form == form
    assert parsed.password == (None if password is None else Secret(password))
    assert parsed.contact_user == contact_user


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty address"),
        ("alice@::1", "in brackets"),
        ("alice@2001:db8::1:5060", "in brackets"),
        ("sip:alice@::1", "in brackets"),
        ("tel:+15551234567", "tel: URI is not a SIP address"),
        ("tel:5551234", "tel: URI is not a SIP address"),
        ("mailto:alice@example.com", "mailto: URI is not a SIP address"),
        ("alice@bad host", "invalid host"),
        ("alice:pw@example.com/bad ext", "/extension"),
    ],
)
def test_bad_arguments_say_why(text: str, says: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_aor_argument(text)
    assert says in info.value.message


def test_the_aor_type_names_the_argument_and_hides_the_secret() -> None:
    @click.command()
    @click.argument("aor", type=AOR)
    def probe(aor: AorArgument) -> None:
        click.echo(f"{aor.aor} {aor.password!r}")

    runner = CliRunner()
    ok = runner.invoke(probe, ["alice:hunter2@example.com"])
    assert ok.exit_code == 0 and ok.stdout == "sip:alice@example.com Secret('***')\n"
    bad = runner.invoke(probe, ["alice:hunter2@::1"])
    assert bad.exit_code == 2
    assert "Invalid value for 'AOR'" in bad.stderr and "hunter2" not in bad.output


def test_secret_never_shows_itself() -> None:
    secret = Secret("hunter2")
    for text in (repr(secret), str(secret), f"{secret}", repr([secret])):
        assert "hunter2" not in text
    assert secret.reveal() == "hunter2"
    assert Secret("a") == Secret("a") != Secret("b")


# --------------------------------------------------------- the other types


@pytest.mark.parametrize(
    ("text", "value", "shown"),
    [
        ("example.com", HostPort("example.com"), "example.com"),
        ("192.0.2.10:5080", HostPort("192.0.2.10", 5080), "192.0.2.10:5080"),
        ("[2001:db8::1]:5060", HostPort("2001:db8::1", 5060), "[2001:db8::1]:5060"),
        ("2001:db8::1", HostPort("2001:db8::1"), "[2001:db8::1]"),
    ],
)
def test_host_port(text: str, value: HostPort, shown: str) -> None:
    result = CliRunner().invoke(_probe(HOST_PORT), ["--value", text])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{value!r}\n"
    assert str(value) == shown


@pytest.mark.parametrize("text", ["", "host:0", "host:99999", "[::1", "sip:example.com", "a b"])
def test_bad_host_port_is_refused_by_click(text: str) -> None:
    result = CliRunner().invoke(_probe(HOST_PORT), ["--value", text])
    assert result.exit_code == 2
    assert "Invalid value for '--value'" in result.stderr


def test_local_address_must_be_this_machines() -> None:
    runner = CliRunner()
    ok = runner.invoke(_probe(LOCAL_ADDRESS), ["--value", "127.0.0.1"])
    assert ok.exit_code == 0 and ok.stdout == "HostPort(host='127.0.0.1', port=None)\n"
    good = runner.invoke(_probe(LOCAL_ADDRESS), ["--value", "127.0.0.1:5099"])
    assert good.exit_code == 0 and "port=5099" in good.stdout
    foreign = runner.invoke(_probe(LOCAL_ADDRESS), ["--value", "192.0.2.1"])  # TEST-NET-1
    assert foreign.exit_code == 2
    assert "192.0.2.1 is not an address of this machine" in foreign.stderr


@pytest.mark.parametrize(
    ("text", "argv"),
    [
        ("pass show sip/alice", ("pass", "show", "sip/alice")),
        ("security find-generic-password -w -s 'sip alice'",
         ("security", "find-generic-password", "-w", "-s", "sip alice")),
        ('op read "op://vault/sip/password"', ("op", "read", "op://vault/sip/password")),
    ],
)  # fmt: skip
def test_command_is_split_like_a_shell(text: str, argv: tuple[str, ...]) -> None:
    result = CliRunner().invoke(_probe(COMMAND), ["--value", text])
    assert result.stdout == f"{argv!r}\n"


def test_contact_type() -> None:
    runner = CliRunner()
    assert runner.invoke(_probe(CONTACT), ["--value", "<sip:a@192.0.2.7:5062>"]).stdout == (
        "'sip:a@192.0.2.7:5062'\n"
    )
    for bad, says in (("garbage", "not a URI"), ("sip:a:pw@host", "leave the password out")):
        result = runner.invoke(_probe(CONTACT), ["--value", bad])
        assert result.exit_code == 2 and says in result.stderr


# ------------------------------------------------------ options -> settings


def test_client_options_reach_the_command_typed_and_frozen() -> None:
    seen: list[ClientOptions] = []

    @click.command()
    @client_options
    def probe(options: ClientOptions) -> None:
        seen.append(options)

    args = [
        "--user", "1001", "--auth-user", "88812345", "--password-env", "PW", "--realm", "r",
        "--transport", "tcp", "--server", "[2001:db8::5]:5080", "--bind", "127.0.0.1",
        "--timeout", "9", "--t1", "0.2", "--insecure", "--json", "-vv", "--no-color",
    ]  # fmt: skip
    result = CliRunner().invoke(probe, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert seen == [
        ClientOptions(
            user="1001",
            auth_user="88812345",
            password=PasswordOptions(env="PW"),
            realm="r",
            transport="tcp",
            server=HostPort("2001:db8::5", 5080),
            bind=HostPort("127.0.0.1"),
            timeout=9.0,
            t1=0.2,
            insecure=True,
            output=OutputOptions(json=True, no_color=True, verbose=2),
        )
    ]
    with pytest.raises(FrozenInstanceError):
        seen[0].user = "x"  # type: ignore[misc]


def _settings(text: str, mode: Mode = Mode.REGISTER, **options: object) -> ClientSettings:
    return build_client_settings(mode, parse_aor_argument(text), ClientOptions(**options))  # type: ignore[arg-type]


def test_settings_from_a_registration_string() -> None:
    settings = _settings(
        "alice:pw@192.0.2.1:5070/1001",
        t1=0.25,
        timeout=20.0,
        bind=HostPort("127.0.0.1", 5062),
        output=OutputOptions(json=True),
    )
    config = settings.config
    assert str(config.aor) == "sip:alice@192.0.2.1:5070" and config.contact_user == "1001"
    assert config.accounts[0].auth_user == "alice" and config.accounts[0].password is None
    assert (config.timers.t1, config.timers.t2, config.timeout) == (0.25, 4.0, 20.0)
    assert (settings.resolve_host, settings.resolve_port, settings.transport) == (
        "192.0.2.1", 5070, None,
    )  # fmt: skip
    assert settings.net.bind == ("127.0.0.1", 5062) and settings.net.connect_timeout == 10.0
    assert settings.output.json
    with_pw = settings.with_password(Secret("pw"))
    assert with_pw.config.accounts[0].password == "pw" and with_pw.config.aor.password is None


def test_settings_server_sips_user_and_options() -> None:
    settings = _settings(
        "sips:alice@example.com", server=HostPort("192.0.2.9", 5061), user="bob", auth_user="b1"
    )
    assert settings.transport == "tls" and settings.secure
    assert (settings.resolve_host, settings.resolve_port) == ("192.0.2.9", 5061)
    assert settings.net.server_name == "192.0.2.9"
    assert str(settings.config.aor) == "sips:bob@example.com"
    assert settings.config.accounts[0].auth_user == "b1"
    ping = _settings("sip.carrier.net", Mode.OPTIONS)
    assert ping.config.request_uri == ping.config.aor and ping.config.accounts == ()
    # options --user: who answers a challenge (From/To); the request goes to the target as given
    as_bob = _settings("sip.carrier.net:5070", Mode.OPTIONS, user="bob")
    assert str(as_bob.config.request_uri) == "sip:sip.carrier.net:5070"
    assert str(as_bob.config.aor) == "sip:bob@sip.carrier.net:5070"
    assert as_bob.config.accounts[0].auth_user == "bob"
    own = _settings("alice@sip.carrier.net", Mode.OPTIONS, user="bob")
    assert str(own.config.aor) == str(own.config.request_uri) == "sip:alice@sip.carrier.net"
    assert own.config.accounts[0].auth_user == "alice"


@pytest.mark.parametrize(
    ("text", "mode", "options", "says"),
    [
        ("example.com", Mode.REGISTER, {}, "no user part"),
        ("alice@example.com", Mode.UNREGISTER_ALL, {}, None),
        ("alice@[::1]", Mode.REGISTER, {"bind": HostPort("127.0.0.1")}, "--bind 127.0.0.1 is IPv4"),
        ("alice@example.com", Mode.REGISTER, {"insecure": True, "ca_file": "x.pem"}, "--insecure"),
        ("alice@example.com", Mode.REGISTER, {"cert_file": "c.pem"}, "--cert needs --key"),
        ("alice@example.com", Mode.REGISTER, {"key_file": "k.pem"}, "--key needs --cert"),
    ],
)
def test_settings_refuse_contradictions(
    text: str, mode: Mode, options: dict[str, object], says: str | None
) -> None:
    if says is None:  # --all with --contact
        with pytest.raises(ConfigError, match="--all and --contact"):
            build_client_settings(
                mode, parse_aor_argument(text), ClientOptions(), contact="sip:a@b"
            )
        return
    with pytest.raises(ConfigError) as info:
        _settings(text, mode, **options)
    assert says in info.value.message

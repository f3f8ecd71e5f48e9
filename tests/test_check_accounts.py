"""The accounts file of ``sipcheck check``: every key, the [defaults] merge, every
refusal (one line: file, account, key), passwords read lazily (real commands run
without a shell), and a Secret that never prints.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import pickle
import stat
from pathlib import Path

import pytest

from sipcheck.check.accounts import (
    AccountEntry,
    AccountsFileError,
    PasswordError,
    Secret,
    load,
    resolve_passwords,
)
from sipcheck.check.model import TlsSettings
from sipcheck.errors import ConfigError
from sipcheck.render.nagios_range import Range, Thresholds

PW = "s3cret-Pw-91"  # every clear-text password below: it must never be printed


def write(tmp_path: Path, text: str, mode: int = 0o600, name: str = "trunks.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def one(tmp_path: Path, body: str) -> AccountEntry:
    """The only account of a file holding ``body`` under [[account]]."""
    path = write(tmp_path, f'[[account]]\nname = "a"\n{body}\n')
    (account,) = load(path).accounts
    return account


def refused(tmp_path: Path, text: str) -> AccountsFileError:
    path = write(tmp_path, text)
    with pytest.raises(AccountsFileError) as caught:
        load(path)
    error = caught.value
    message = str(error)
    assert "\n" not in message
    assert message.startswith(str(path) + ": ")
    assert PW not in message
    assert isinstance(error, ConfigError)
    return error


FULL = f"""
[defaults]
server = "127.0.0.1:5080"
transport = "TCP"
expires = 300
timeout = 5
warning = "500"
critical = 2000
tags = ["prod"]
password_env = "SIP_DEFAULT_PW"
ca_file = "ca.pem"

[[account]]
name = "alice"
aor = "sip:alice@example.com"
auth_user = "alice-auth"
password_env = "ALICE_PW"
contact = "sip:alice@127.0.0.1:5099"
mode = "register"
register = true
timeout = 2.5
insecure = true
cert = "certs/client.pem"
key = "~/client.key"
warning = "~:800"
critical = "@0:1"
tags = ["eu", "pbx"]

[[account]]
name = "vici"
registration = "1001:{PW}@pbx.example.com:5070/8300"
transport = "udp"

[[account]]
name = "multi realm"
aor = "carol@example.com"
password_file = "pw/carol"
credentials = [
  {{ realm = "proxy.example.com", auth_user = "carol-proxy", password_command = "printf 'p1\\n'" }},
  {{ realm = "example.com", password_command = ["printf", "%s\\n", "p2 two"] }},
  {{ realm = "third", password = "{PW}" }},
  {{ realm = "fourth", password_env = "FOURTH" }},
  {{ realm = "fifth", password_file = "pw/fifth" }},
]
server = "[::1]:5061"
transport = "tls"

[[account]]
name = "trunk"
aor = "sip.carrier.net"
mode = "options"
server = "sip.carrier.net"
tags = []

[[account]]
name = "off"
aor = "off@example.com"
register = false
"""


@pytest.fixture
def full(tmp_path: Path) -> Path:
    (tmp_path / "pw").mkdir()
    (tmp_path / "pw" / "carol").write_text("carol-pw\nsecond line\n")
    (tmp_path / "pw" / "fifth").write_text("fifth-pw\r\n")
    for p in (tmp_path / "pw").iterdir():
        p.chmod(0o600)
    return write(tmp_path, FULL)


def test_every_key(full: Path, tmp_path: Path) -> None:
    loaded = load(full)
    alice, vici, multi, trunk, off = loaded.accounts
    assert alice == AccountEntry(
        name="alice",
        aor="sip:alice@example.com",
        user="alice",
        mode="register",
        enabled=True,
        auth_user="alice-auth",
        password=alice.password,
        server="127.0.0.1:5080",
        transport="tcp",
        expires=300,
        contact="sip:alice@127.0.0.1:5099",
        timeout=2.5,
        tls=TlsSettings(
            tmp_path / "ca.pem",
            True,
            tmp_path / "certs/client.pem",
            Path("~/client.key").expanduser(),
        ),
        thresholds=Thresholds(Range(-math.inf, 800), Range(0, 1, inside=True)),
        tags=("eu", "pbx"),
    )
    assert alice.password is not None and alice.password.kind == "env"
    assert alice.password.env == "ALICE_PW"
    assert (vici.aor, vici.user, vici.contact_user) == (
        "sip:1001@pbx.example.com:5070",
        "1001",
        "8300",
    )
    assert vici.transport == "udp" and vici.expires == 300 and vici.timeout == 5.0
    assert vici.thresholds == Thresholds(Range(0, 500), Range(0, 2000))
    assert vici.password is not None and vici.password.kind == "inline"
    assert [c.realm for c in multi.credentials] == [
        "proxy.example.com", "example.com", "third", "fourth", "fifth",
    ]  # fmt: skip
    assert [c.password.kind for c in multi.credentials] == [
        "command", "command", "inline", "env", "file",
    ]  # fmt: skip
    assert multi.credentials[1].password.argv == ("printf", "%s\n", "p2 two")
    assert multi.server == "[::1]:5061" and multi.transport == "tls"
    assert (trunk.mode, trunk.user, trunk.tags) == ("options", None, ())
    assert trunk.aor == "sip:sip.carrier.net"
    assert off.enabled is False and off.tags == ("prod",)


def test_passwords_resolve(full: Path) -> None:
    accounts = load(full).accounts
    environ = {"ALICE_PW": "alice-pw", "SIP_DEFAULT_PW": "default-pw", "FOURTH": "4"}
    resolved = resolve_passwords(accounts, environ=environ)
    assert set(resolved) == {"alice", "vici", "multi realm", "trunk"}  # "off" is not read
    plain = {
        name: [(c.realm, c.auth_user, c.password.reveal()) for c in creds]
        for name, creds in resolved.items()
    }
    assert plain == {
        "alice": [(None, "alice-auth", "alice-pw")],
        "vici": [(None, "1001", PW)],
        "multi realm": [
            (None, "carol", "carol-pw"),
            ("proxy.example.com", "carol-proxy", "p1"),
            ("example.com", "carol", "p2 two"),
            ("third", "carol", PW),
            ("fourth", "carol", "4"),
            ("fifth", "carol", "fifth-pw"),
        ],
        "trunk": [(None, "", "default-pw")],  # an OPTIONS trunk may answer challenges too
    }


def test_defaults_merge(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[defaults]
transport = "tls"
password_env = "DEFAULT_PW"
tags = ["a", "b"]
credentials = [{{ realm = "proxy", password_env = "PROXY_PW" }}]

[[account]]
name = "inherits"
aor = "x@example.com"

[[account]]
name = "overrides"
aor = "y@example.com"
transport = "udp"
password_file = "pw"
tags = ["c"]
credentials = []

[[account]]
name = "string secret"
registration = "z:{PW}@example.com"
""",
    )
    inherits, overrides, string = load(path).accounts
    assert inherits.transport == "tls" and inherits.tags == ("a", "b")
    assert inherits.password is not None and inherits.password.env == "DEFAULT_PW"
    assert inherits.password.origin.endswith("key 'password_env' (from [defaults])")
    assert inherits.password.origin.startswith(f"{path}: account 'inherits': ")
    assert [c.realm for c in inherits.credentials] == ["proxy"]
    assert inherits.credentials[0].password.origin.endswith("(from [defaults])")
    # Any password key of the account drops all of the defaults' (no "two sources").
    assert overrides.transport == "udp" and overrides.tags == ("c",)
    assert overrides.password is not None and overrides.password.kind == "file"
    assert overrides.credentials == ()
    assert string.password is not None and string.password.kind == "inline"


def test_a_default_error_is_reported_once_as_the_defaults(tmp_path: Path) -> None:
    error = refused(
        tmp_path, '[defaults]\ntransport = "sctp"\n[[account]]\nname = "a"\naor = "a@b"\n'
    )
    assert str(error).endswith(": [defaults]: key 'transport': 'sctp' is not one of udp, tcp, tls")
    assert (error.where, error.key) == ("[defaults]", "transport")


def test_passwords_are_read_lazily(tmp_path: Path) -> None:
    """Loading runs no command and reads no variable; resolving reads only the enabled
    accounts that were selected."""
    marker = tmp_path / "ran"
    command = f'password_command = ["sh", "-c", "echo x >> {marker}; echo pw"]'
    path = write(
        tmp_path,
        f"""
[[account]]
name = "on"
aor = "on@example.com"
{command}
tags = ["t"]

[[account]]
name = "off"
aor = "off@example.com"
register = false
{command}
tags = ["t"]

[[account]]
name = "other"
aor = "other@example.com"
password_env = "SURELY_NOT_SET_9F2C"
""",
    )
    loaded = load(path)
    assert not marker.exists()
    selected = loaded.select(tags=["t"])
    assert [a.name for a in selected] == ["on", "off"]
    resolved = resolve_passwords(selected, environ={})
    assert list(resolved) == ["on"]
    assert marker.read_text() == "x\n"  # once: for "on" only
    with pytest.raises(PasswordError) as caught:
        resolve_passwords(loaded.select(only=["other"]), environ={})
    assert str(caught.value) == (
        f"{path}: account 'other': key 'password_env': "
        "the environment variable SURELY_NOT_SET_9F2C is not set "
        "(export SURELY_NOT_SET_9F2C=... first)"
    )


def test_select(full: Path) -> None:
    loaded = load(full)

    def names(accounts: tuple[AccountEntry, ...]) -> list[str]:
        return [a.name for a in accounts]

    assert names(loaded.select()) == ["alice", "vici", "multi realm", "trunk", "off"]
    assert names(loaded.select(only=["trunk", "alice"])) == ["alice", "trunk"]
    assert names(loaded.select(tags=["eu", "prod"])) == ["alice", "vici", "multi realm", "off"]
    assert names(loaded.select(only=["alice", "vici"], tags=["prod"])) == ["vici"]
    with pytest.raises(ConfigError, match="no account named 'bob'"):
        loaded.select(only=["bob"])
    with pytest.raises(ConfigError, match="no account has the tag 'nope'"):
        loaded.select(tags=["nope"])
    with pytest.raises(ConfigError, match="no account is named and tagged"):
        loaded.select(only=["trunk"], tags=["prod"])


# ---------------------------------------------------------------- password sources


def test_password_command_is_not_run_by_a_shell(tmp_path: Path) -> None:
    """$HOME, | and ; reach printf as they are: no shell expands them."""
    account = one(tmp_path, "aor = \"a@x\"\npassword_command = \"printf '%s\\\\n' '$HOME|x;y'\"")
    (cred,) = account.resolve()
    assert cred.password.reveal() == "$HOME|x;y"


def test_password_command_first_line(tmp_path: Path) -> None:
    account = one(tmp_path, 'aor = "a@x"\npassword_command = "printf \'pw\\\\nsecond\\\\n\'"')
    assert account.resolve()[0].password.reveal() == "pw"


@pytest.mark.parametrize(
    ("command", "problem"),
    [
        ('["sh", "-c", "echo oops >&2; exit 3"]', "sh exited with status 3: oops"),
        ('["sh", "-c", "exit 1"]', "sh exited with status 1"),
        ('["sh", "-c", "kill -9 $$"]', "sh was killed by signal 9"),
        ('["sh", "-c", "echo; echo pw"]', "sh printed no password (its first line is empty)"),
        ('["true"]', "true printed no password (its first line is empty)"),
        ('"/nonexistent/pass show sip"', "command not found: /nonexistent/pass"),
        # A failing command that printed the password to stdout and stderr: masked.
        ('["sh", "-c", "echo leaked-pw; echo bad leaked-pw >&2; exit 2"]',
         "sh exited with status 2: bad ***"),
    ],
)  # fmt: skip
def test_password_command_failures(tmp_path: Path, command: str, problem: str) -> None:
    account = one(tmp_path, f'aor = "a@x"\npassword_command = {command}')
    with pytest.raises(PasswordError) as caught:
        account.resolve()
    assert (
        str(caught.value)
        == f"{tmp_path / 'trunks.toml'}: account 'a': key 'password_command': {problem}"
    )


def test_password_command_not_executable(tmp_path: Path) -> None:
    script = tmp_path / "pw.sh"
    script.write_text("#!/bin/sh\necho pw\n")
    script.chmod(0o600)
    account = one(tmp_path, f'aor = "a@x"\npassword_command = ["{script}"]')
    with pytest.raises(PasswordError, match="command not executable: "):
        account.resolve()
    script.chmod(0o700)
    assert account.resolve()[0].password.reveal() == "pw"


def test_password_command_timeout(tmp_path: Path) -> None:
    account = one(tmp_path, 'aor = "a@x"\npassword_command = ["sleep", "5"]')
    with pytest.raises(
        PasswordError, match=r"key 'password_command': sleep did not finish within 0.2 s$"
    ):
        account.resolve(timeout=0.2)


def test_password_env(tmp_path: Path) -> None:
    account = one(tmp_path, 'aor = "a@x"\npassword_env = "MY_PW"')
    assert account.resolve(environ={"MY_PW": "x y"})[0].password.reveal() == "x y"
    with pytest.raises(PasswordError, match="the environment variable MY_PW is set but empty"):
        account.resolve(environ={"MY_PW": ""})
    os.environ["SIPCHECK_TEST_PW_7731"] = "from-os"
    try:
        account = one(tmp_path, 'aor = "a@x"\npassword_env = "SIPCHECK_TEST_PW_7731"')
        assert account.resolve()[0].password.reveal() == "from-os"
    finally:
        del os.environ["SIPCHECK_TEST_PW_7731"]


def test_password_file(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("file-pw\n")
    (tmp_path / "pw").chmod(0o600)
    (tmp_path / "empty").write_text("")
    account = one(tmp_path, 'aor = "a@x"\npassword_file = "pw"')
    warned: list[str] = []
    assert account.resolve(warn=warned.append)[0].password.reveal() == "file-pw"
    assert warned == []
    (tmp_path / "pw").chmod(0o644)
    account.resolve(warn=warned.append)
    assert warned == [
        f"{tmp_path / 'trunks.toml'}: account 'a': key 'password_file': {tmp_path / 'pw'} holds "
        f"a password and is readable by group or others (mode 0644): chmod 600 {tmp_path / 'pw'}"
    ]
    with pytest.raises(PasswordError, match="is empty"):
        one(tmp_path, 'aor = "a@x"\npassword_file = "empty"').resolve()
    with pytest.raises(PasswordError, match=r"cannot read .*missing: No such file"):
        one(tmp_path, 'aor = "a@x"\npassword_file = "missing"').resolve()


# ---------------------------------------------------------- clear text and file mode


def test_clear_text_passwords_warn(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[defaults]
password = "{PW}"

[[account]]
name = "a"
aor = "a@x"

[[account]]
name = "b"
registration = "b:{PW}@x"

[[account]]
name = "c"
aor = "c@x"
credentials = [{{ realm = "r", password = "{PW}" }}]
""",
        mode=0o600,
    )
    warnings = load(path).warnings
    assert [w.split(": ")[1:3] for w in warnings] == [
        ["[defaults]", "key 'password'"],
        ["account 'b'", "key 'registration'"],
        ["account 'c'", "key 'credentials[1].password'"],
    ]
    assert all("clear text" in w and PW not in w for w in warnings)


@pytest.mark.parametrize(
    ("body", "mode", "warned"),
    [
        (f'password = "{PW}"', 0o644, True),
        (f'password = "{PW}"', 0o640, True),
        (f'password = "{PW}"', 0o604, True),
        (f'password = "{PW}"', 0o600, False),
        (f'password = "{PW}"', 0o400, False),
        ('password_env = "X"', 0o644, False),  # no secret in the file: its mode is its own
    ],
)
def test_file_mode_checked_when_it_holds_secrets(
    tmp_path: Path, body: str, mode: int, warned: bool
) -> None:
    path = write(tmp_path, f'[[account]]\nname = "a"\naor = "a@x"\n{body}\n', mode=mode)
    mode_warnings = [w for w in load(path).warnings if "readable by group or others" in w]
    assert bool(mode_warnings) == warned
    if warned:
        assert mode_warnings == [
            f"{path} holds passwords and is readable by group or others "
            f"(mode {stat.S_IMODE(path.stat().st_mode):04o}): chmod 600 {path}"
        ]


# ------------------------------------------------------------- the Secret never shows


def test_secret_never_printed(full: Path) -> None:
    loaded = load(full)
    environ = {"ALICE_PW": PW, "SIP_DEFAULT_PW": PW, "FOURTH": PW}
    resolved = resolve_passwords(loaded.accounts, environ=environ)
    secret = resolved["vici"][0].password
    assert secret.reveal() == PW
    shown = [
        repr(secret),
        str(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret:>20}",
        "%s" % (secret,),  # noqa: UP031
    ]
    assert shown == ["***"] * len(shown)
    texts = [repr(loaded), str(loaded), repr(resolved), *loaded.warnings]
    texts += [repr(a) for a in loaded.accounts] + [str(a.password) for a in loaded.accounts]
    # A copy (dataclasses.asdict deep-copies) keeps the mask; JSON of it too.
    as_dict = [dataclasses.asdict(a) for a in loaded.accounts]
    texts += [repr(as_dict), json.dumps(as_dict, default=repr)]
    assert copy.deepcopy(secret) is secret and copy.copy(secret) is secret
    for text in texts:
        assert PW not in text
        assert "p1" not in text and "p2 two" not in text  # a command's arguments stay out
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b")
    assert hash(Secret("a")) == hash(Secret("a"))


# ------------------------------------------------------------------------ refusals

ACCOUNT = 'name = "a"\naor = "a@example.com"\npassword_env = "PW"\n'


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        ('pasword_env = "X"', "pasword_env", "unknown key (did you mean 'password_env'?)"),
        ("colour = 1", "colour", "unknown key"),
    ],
)
def test_unknown_keys(tmp_path: Path, body: str, key: str, problem: str) -> None:
    error = refused(tmp_path, f"[[account]]\n{ACCOUNT}{body}\n")
    assert str(error) == f"{tmp_path / 'trunks.toml'}: account 'a': key {key!r}: {problem}"


def test_unknown_keys_elsewhere(tmp_path: Path) -> None:
    error = refused(tmp_path, f'[defaults]\nname = "x"\n[[account]]\n{ACCOUNT}')
    assert (error.where, error.key) == ("[defaults]", "name")
    error = refused(tmp_path, f"[account_defaults]\n[[account]]\n{ACCOUNT}")
    assert (error.where, error.key) == (None, "account_defaults")
    assert error.problem == "unknown key (did you mean 'defaults'?)"
    error = refused(
        tmp_path, f'[[account]]\n{ACCOUNT}credentials = [{{ realm = "r", user = "u" }}]\n'
    )
    assert (error.where, error.key) == ("account 'a'", "credentials[1].user")


WRONG_TYPES = [
    ("name", "1", "must be a string, not an integer"),
    ("aor", "1", "must be a string, not an integer"),
    ("registration", "[]", "must be a string, not an array"),
    ("auth_user", "true", "must be a string, not a boolean"),
    ("password", "1", "must be a string, not an integer"),
    ("password_env", "1", "must be a string, not an integer"),
    ("password_file", "[]", "must be a string, not an array"),
    ("password_command", "1", "must be a command string or an array of strings, not an integer"),
    ("password_command", "[1]", "must be a command string or an array of strings, not an array"),
    ("credentials", '"x"', "must be an array of tables ({realm, auth_user, ...})"),
    ("credentials", "[1]", "must be an array of tables ({realm, auth_user, ...})"),
    ("server", "5060", "must be a string, not an integer"),
    ("transport", "1", "must be a string, not an integer"),
    ("expires", '"60"', "must be an integer, not a string"),
    ("expires", "1.5", "must be an integer, not a number"),
    ("expires", "true", "must be an integer, not a boolean"),
    ("contact", "{}", "must be a string, not a table"),
    ("register", '"yes"', "must be true or false, not a string"),
    ("mode", "1", "must be a string, not an integer"),
    ("timeout", '"5"', "must be a number of seconds, not a string"),
    ("timeout", "true", "must be a number of seconds, not a boolean"),
    ("ca_file", "1", "must be a string, not an integer"),
    ("insecure", '"no"', "must be true or false, not a string"),
    ("cert", "1", "must be a string, not an integer"),
    ("key", "[]", "must be a string, not an array"),
    ("warning", "true", 'must be a range string such as "500" or "100:800", not a boolean'),
    ("critical", "{}", 'must be a range string such as "500" or "100:800", not a table'),
    ("tags", '"a"', "must be an array of strings, not a string"),
]


@pytest.mark.parametrize(("key", "value", "problem"), WRONG_TYPES)
def test_wrong_types(tmp_path: Path, key: str, value: str, problem: str) -> None:
    lines = {"name": '"a"', "aor": '"a@example.com"', "password_env": '"PW"'}
    if key in ("registration", "password", "password_file", "password_command"):
        lines.pop("aor" if key == "registration" else "password_env")
    lines[key] = value
    body = "".join(f"{k} = {v}\n" for k, v in lines.items())
    error = refused(tmp_path, f"[[account]]\n{body}")
    where = "account #1" if key == "name" else "account 'a'"
    assert str(error) == f"{tmp_path / 'trunks.toml'}: {where}: key {key!r}: {problem}"


NOT_HOSTPORT = " is not HOST[:PORT] (an IPv6 address in [brackets])"
NOT_RANGE = "is not a threshold range (use N, N:, ~:N, N:M or @N:M)"
NOT_REGISTRATION = "is not user[:secret]@host[:port][/extension]"
BAD_VALUES = [
    ('transport = "sctp"', "transport", "'sctp' is not one of udp, tcp, tls"),
    ('transport = "ws"', "transport", "'ws' is not one of udp, tcp, tls"),
    ('mode = "invite"', "mode", "'invite' is not one of register, options"),
    ('warning = "20:10"', "warning", "'20:10': the start 20 is greater than the end 10"),
    ('critical = "abc"', "critical", "'abc' " + NOT_RANGE),
    ("expires = 0", "expires", "0 is not between 1 and 4294967295"),
    ("expires = 4294967296", "expires", "4294967296 is not between 1 and 4294967295"),
    ("timeout = 0", "timeout", "0 is not a positive number of seconds"),
    ("timeout = -1.5", "timeout", "-1.5 is not a positive number of seconds"),
    ("timeout = nan", "timeout", "nan is not a positive number of seconds"),
    ("timeout = inf", "timeout", "inf is not a positive number of seconds"),
    ('server = "a b"', "server", "'a b'" + NOT_HOSTPORT),
    ('server = "host:99999"', "server", "'host:99999'" + NOT_HOSTPORT),
    ('server = "::1:5060"', "server", "'::1:5060'" + NOT_HOSTPORT),
    ('server = ""', "server", "must not be empty"),
    ('auth_user = " "', "auth_user", "must not be empty"),
    ('contact = "sip:a@b\\nX: y"', "contact", "must not hold control characters (tabs, newlines)"),
    ('tags = ["ok", ""]', "tags[2]", "must not be empty"),
    ('tags = ["ok", 3]', "tags[2]", "must be a string, not an integer"),
    ('key = "k.pem"', "key", "a key needs its cert"),
    ('credentials = [{ auth_user = "u", password_env = "X" }]', "credentials[1].realm",
     "missing: each credentials entry names its realm"),
    ('credentials = [{ realm = "r", password_env = "X" }, { realm = "r", password_env = "Y" }]',
     "credentials[2].realm", "a second entry for the realm 'r'"),
    ('credentials = [{ realm = "r", auth_user = "u" }]', "credentials[1].password_env",
     "no password source for this realm"),
    ('credentials = [{ realm = "r", password_env = "X", password_file = "f" }]',
     "credentials[1].password_file", "a second password source (with 'password_env')"),
    ('password_file = "f"', "password_file", "a second password source (with 'password_env')"),
    ('password_command = ""', "password_command", "the command is empty"),
    ('password_command = []', "password_command", "the command is empty"),
    ("password_command = \"pass 'unclosed\"", "password_command",
     "cannot split the command: No closing quotation"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "key", "problem"), BAD_VALUES)
def test_bad_values(tmp_path: Path, line: str, key: str, problem: str) -> None:
    body = ACCOUNT
    if line.startswith("password_command"):
        body = body.replace('password_env = "PW"\n', "")
    error = refused(tmp_path, f"[[account]]\n{body}{line}\n")
    assert str(error) == f"{tmp_path / 'trunks.toml'}: account 'a': key {key!r}: {problem}"


@pytest.mark.parametrize(
    ("body", "key", "problem"),
    [
        ('aor = "a@x"\npassword_env = "1BAD"', "password_env",
         "'1BAD' is not an environment variable name"),
        ('aor = "not an aor"', "aor",
         "not a SIP address: invalid host 'not an aor' in URI 'sip:not an aor'"),
        ('aor = "example.com"', "aor",
         "'sip:example.com' has no user part (a register check needs one)"),
        ('aor = "a@x"\nregistration = "a@x"', "registration", "give aor or registration, not both"),
        ("", "aor", "missing: give aor or registration"),
        (f'registration = "sip:a:{PW}@x"', "registration", NOT_REGISTRATION),
        (f'registration = "a:{PW}@"', "registration", NOT_REGISTRATION),
        (f'registration = "a:{PW}@x/"', "registration", NOT_REGISTRATION),
        ('registration = "a:@x"', "registration", NOT_REGISTRATION),
        ('registration = "no-at-sign"', "registration", NOT_REGISTRATION),
        (f'registration = "a:{PW}@x y"', "registration",
         "not a SIP address: invalid host 'x y' in URI 'sip:a@x y'"),
        (f'registration = "a:{PW}@x"\npassword_env = "X"', "registration",
         "a secret, and another password source too"),
    ],
)  # fmt: skip
def test_address_refusals(tmp_path: Path, body: str, key: str, problem: str) -> None:
    if "password" not in body and "registration" not in body:
        body += '\npassword_env = "PW"'
    error = refused(tmp_path, f'[[account]]\nname = "a"\n{body}\n')
    assert str(error) == f"{tmp_path / 'trunks.toml'}: account 'a': key {key!r}: {problem}"


def test_no_password_source(tmp_path: Path) -> None:
    error = refused(tmp_path, '[[account]]\nname = "a"\naor = "a@x"\n')
    assert str(error) == (
        f"{tmp_path / 'trunks.toml'}: account 'a': no password: give password_env, "
        'password_file, password_command or credentials (or mode = "options" for a trunk '
        "without registration)"
    )
    # Not needed: an OPTIONS trunk, a disabled account, or a realm's credentials.
    for body in (
        'mode = "options"',
        "register = false",
        'credentials = [{realm="r", password_env="X"}]',
    ):
        assert one(tmp_path, f'aor = "a@x"\n{body}').name == "a"


@pytest.mark.parametrize(
    ("text", "where", "key", "problem"),
    [
        (f'[[account]]\n{ACCOUNT}\n[[account]]\n{ACCOUNT}', "account 'a'", "name",
         "a duplicate name (also account #1)"),
        ('[[account]]\naor = "a@x"\npassword_env = "PW"\n', "account #1", "name",
         "missing: every [[account]] needs a name"),
        ('[[account]]\nname = "a\\u0007"\naor = "a@x"\npassword_env = "PW"\n', "account #1",
         "name", "must not hold control characters (tabs, newlines)"),
        ("[defaults]\n", None, None, "no [[account]] table"),
        (f"[account]\n{ACCOUNT}", None, "account", "must be an array of tables: [[account]]"),
        (f'defaults = "x"\n[[account]]\n{ACCOUNT}', None, "defaults",
         "must be a table: [defaults]"),
    ],
)  # fmt: skip
def test_file_refusals(
    tmp_path: Path, text: str, where: str | None, key: str | None, problem: str
) -> None:
    error = refused(tmp_path, text)
    assert (error.where, error.key, error.problem) == (where, key, problem)


def test_not_toml(tmp_path: Path) -> None:
    error = refused(tmp_path, '[[account]]\nname = "a"\naor = \n')
    assert (error.where, error.key) == (None, None)
    assert error.problem.startswith("not valid TOML: ")
    assert error.problem.endswith("(at line 3, column 7)")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(AccountsFileError, match=r"missing.toml: cannot read: No such file"):
        load(tmp_path / "missing.toml")
    (tmp_path / "latin1.toml").write_bytes(b'[[account]]\nname = "caf\xe9"\n')
    with pytest.raises(AccountsFileError, match=r"latin1.toml: not UTF-8 text$"):
        load(tmp_path / "latin1.toml")


def test_the_example_file(tmp_path: Path) -> None:
    """tests/data/check/trunks.toml, every key with a comment, loads as documented."""
    example = Path(__file__).parent / "data" / "check" / "trunks.toml"
    copied = write(tmp_path, example.read_text(encoding="utf-8"))
    loaded = load(copied)
    assert [a.name for a in loaded.accounts] == [
        "alice", "1001 (auth user differs)", "vicidial", "behind a proxy", "tls",
        "carrier trunk", "spare",
    ]  # fmt: skip
    assert [a.name for a in loaded.select(tags=["carrier"])] == [
        "1001 (auth user differs)", "carrier trunk",
    ]  # fmt: skip
    assert len(loaded.warnings) == 1 and "key 'registration'" in loaded.warnings[0]
    vici = loaded.accounts[2]
    assert (vici.aor, vici.contact_user, vici.transport) == (
        "sip:8300@pbx.example.com:5060", "8300", "tcp",
    )  # fmt: skip
    assert loaded.accounts[1].thresholds == Thresholds(Range(-math.inf, 800), Range(0, 2000))
    assert loaded.accounts[4].tls.key == tmp_path / "client.key"
    resolved = resolve_passwords(
        loaded.select(only=["alice", "vicidial", "carrier trunk", "spare"]),
        environ={"SIP_PASSWORD": "x"},
    )
    assert list(resolved) == ["alice", "vicidial", "carrier trunk"]

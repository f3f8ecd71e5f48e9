"""Fixtures for the interop tests: real Kamailio and ejabberd registrars, third-party clients.

A missing peer fails the run under CI (CI=true) and skips the test elsewhere.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.interop.ejabberd_server import EjabberdServer, ejabberd_available, start_ejabberd
from tests.interop.kamailio_server import (
    KamailioServer,
    ipv6_available,
    kamailio_available,
    make_self_signed_cert,
    start_kamailio,
    tls_available,
)

_SERVERS = pytest.StashKey[list[KamailioServer]]()
_EJABBERDS = pytest.StashKey[list[EjabberdServer]]()
# the tail of a shared ejabberd's log attached to a failing test's report
_SHARED_LOG_TAIL = 20_000


def missing(what: str) -> None:
    """pytest.fail under CI (the peers must be installed there), pytest.skip elsewhere."""
    hint = f"{what} is not installed (run scripts/install-test-deps.sh)"
    if os.environ.get("CI") == "true":
        pytest.fail(hint, pytrace=False)
    pytest.skip(hint)


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(name)
    assert path is not None
    return path


class KamailioFactory(Protocol):
    def __call__(self, **options: Any) -> KamailioServer: ...


@pytest.fixture(scope="session")
def _kamailio_checked() -> bool:
    return kamailio_available()


@pytest.fixture(scope="session")
def _tls_certs() -> dict[str, tuple[Path, Path]]:
    """One self-signed certificate per session, made on first use."""
    return {}


@pytest.fixture
def kamailio(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    _kamailio_checked: bool,
    _tls_certs: dict[str, tuple[Path, Path]],
) -> Iterator[KamailioFactory]:
    """Factory: ``kamailio(mode="proxy", qop="auth", transports=("udp", "tls"))``.

    Takes the keyword arguments of ``start_kamailio``; every server started is
    stopped after the test, and its log is attached to a failing test's report.
    """
    if not _kamailio_checked:
        missing("kamailio")
    servers: list[KamailioServer] = []
    request.node.stash[_SERVERS] = servers

    def start(**options: Any) -> KamailioServer:
        if options.get("ipv6") and not ipv6_available():
            missing("the IPv6 loopback address ::1")
        if "tls" in options.get("transports", ()):
            if not tls_available():
                missing("kamailio-tls-modules (or openssl)")
            if "cert" not in _tls_certs:
                _tls_certs["cert"] = make_self_signed_cert(tmp_path_factory.mktemp("tls-cert"))
            options.setdefault("tls_cert", _tls_certs["cert"])
        server = start_kamailio(tmp_path, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


class EjabberdFactory(Protocol):
    def __call__(self, **options: Any) -> EjabberdServer: ...


@dataclass(frozen=True)
class EjabberdAccount:
    """A fresh account on the shared ejabberd: nobody else registers it."""

    server: EjabberdServer
    user: str
    password: str

    @property
    def aor(self) -> str:
        return self.server.aor(self.user)


@pytest.fixture(scope="session")
def _ejabberd_checked() -> bool:
    return ejabberd_available()


@pytest.fixture
def ejabberd(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    _ejabberd_checked: bool,
    _tls_certs: dict[str, tuple[Path, Path]],
) -> Iterator[EjabberdFactory]:
    """Factory: ``ejabberd(transports=("udp", "tls"), max_user_sessions=1)``.

    Takes the keyword arguments of ``start_ejabberd``; every server started is
    stopped after the test, and its log is attached to a failing test's report.
    One costs about 1.5 s to start: prefer ``ejabberd_shared`` and
    ``ejabberd_account`` when the default configuration will do.
    """
    if not _ejabberd_checked:
        missing("ejabberd (with erlang-p1-sip)")
    servers: list[EjabberdServer] = []
    request.node.stash[_EJABBERDS] = servers

    def start(**options: Any) -> EjabberdServer:
        if "tls" in options.get("transports", ()):
            if shutil.which("openssl") is None:
                missing("openssl")
            if "cert" not in _tls_certs:
                _tls_certs["cert"] = make_self_signed_cert(tmp_path_factory.mktemp("tls-cert"))
            options.setdefault("tls_cert", _tls_certs["cert"])
        server = start_ejabberd(tmp_path, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def _ejabberd_shared_server(
    tmp_path_factory: pytest.TempPathFactory, _ejabberd_checked: bool
) -> Iterator[EjabberdServer | None]:
    """Started on first use, stopped at the end of the session."""
    if not _ejabberd_checked:
        yield None
        return
    server = start_ejabberd(tmp_path_factory.mktemp("ejabberd-shared"))
    yield server
    server.stop()


@pytest.fixture
def ejabberd_shared(
    request: pytest.FixtureRequest, _ejabberd_shared_server: EjabberdServer | None
) -> EjabberdServer:
    """One ejabberd for the whole session (UDP and TCP, vhost 127.0.0.1, user alice).

    Its bindings outlive the test: register only accounts of your own
    (``ejabberd_account`` or ``server.new_user()``).
    """
    if _ejabberd_shared_server is None:
        missing("ejabberd (with erlang-p1-sip)")
    assert _ejabberd_shared_server is not None
    request.node.stash[_EJABBERDS] = [_ejabberd_shared_server]
    return _ejabberd_shared_server


@pytest.fixture
def ejabberd_account(ejabberd_shared: EjabberdServer) -> EjabberdAccount:
    """A new account on the shared ejabberd, with no binding yet."""
    user, password = ejabberd_shared.new_user("t")
    return EjabberdAccount(ejabberd_shared, user, password)


@pytest.fixture
def sipsak() -> str:
    return require_tool("sipsak")


@pytest.fixture
def sipp() -> str:
    return require_tool("sipp")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    servers = item.stash.get(_SERVERS, [])
    if report.failed and servers:
        for index, server in enumerate(servers):
            report.sections.append((f"kamailio #{index} ({server.mode}) log", server.log()))
    ejabberds = item.stash.get(_EJABBERDS, [])
    if report.failed and ejabberds:
        for index, ejabberd_server in enumerate(ejabberds):
            log = ejabberd_server.log()
            if len(log) > _SHARED_LOG_TAIL:
                log = "[...]\n" + log[-_SHARED_LOG_TAIL:]
            title = f"ejabberd #{index} ({ejabberd_server.hostport()}) log"
            report.sections.append((title, log))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder talks to a real peer: mark it `interop`."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.interop)

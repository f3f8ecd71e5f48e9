"""Fixtures for the interop tests: a real Kamailio registrar and third-party clients.

A missing peer fails the run under CI (CI=true) and skips the test elsewhere.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.interop.kamailio_server import (
    KamailioServer,
    ipv6_available,
    kamailio_available,
    make_self_signed_cert,
    start_kamailio,
    tls_available,
)

_SERVERS = pytest.StashKey[list[KamailioServer]]()


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder talks to a real peer: mark it `interop`."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.interop)

"""``sipcheck sniff``: on the loopback interface while a ``register`` runs (needs the
privilege to capture: root here, skipped elsewhere), and without the privilege:
one line, exit 8."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sipcheck.cli.main import cli
from tests.support.capture import CapturingRegistrar
from tests.support.cli import cli_runner
from tests.support.processes import sipcheck

ROOT = Path(__file__).resolve().parent.parent
PW = "sniffed-pw"


@pytest.mark.parametrize("iface", ["lo", "any"])
def test_without_the_privilege_one_line_and_exit_8(
    monkeypatch: pytest.MonkeyPatch, iface: str
) -> None:
    import scapy.arch  # noqa: F401
    from scapy.config import conf

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(conf, "L2listen", refuse)
    result = cli_runner().invoke(
        cli, ["sniff", "-i", iface, "--duration", "1"], env={"NO_COLOR": "1"}
    )
    assert result.exit_code == 8
    assert result.stderr.strip().splitlines() == [
        f"error: capturing on {iface} needs root, or the CAP_NET_RAW capability "
        "(sudo setcap cap_net_raw+ep on the Python binary)"
    ]


def test_a_bad_filter_is_a_usage_error_naming_the_flag() -> None:
    """libpcap judges the filter before anything is captured (no privilege needed)."""
    run = sipcheck("sniff", "--filter", "no such ( filter", "--duration", "1")
    assert run.status == 2
    # libpcap's words, as scapy passes them on (scapy 2.8 adds libpcap's reason)
    (line,) = run.stderr.splitlines()
    assert line.startswith("error: --filter: Failed to compile filter expression ")
    assert "no such ( filter" in line


def test_an_unknown_interface_is_a_usage_error_listing_the_interfaces() -> None:
    run = sipcheck("sniff", "-i", "nosuch0", "--duration", "1")
    assert run.status == 2
    (line,) = run.stderr.splitlines()
    names = ", ".join([*(name for _index, name in socket.if_nameindex()), "any"])
    assert line == f"error: -i/--interface: no interface named 'nosuch0' here (there are: {names})"


@pytest.mark.parametrize("iface", ["lo", "any"])
def test_sniff_on_loopback_while_register_runs(tmp_path: Path, iface: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("capturing on lo needs root or CAP_NET_RAW")
    kept = tmp_path / "seen.pcapng"
    with CapturingRegistrar({"alice": PW}) as registrar:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sipcheck", "sniff", "-i", iface, "--port", str(registrar.port),
             "--count", "1", "--duration", "20", "--json", "--pcap", str(kept)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
            env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
        try:
            assert proc.stderr is not None
            line = proc.stderr.readline()
            while line.startswith("note: left out "):  # with any: an interface that is down
                line = proc.stderr.readline()
            assert line.startswith(f"capturing on {iface} ")
            live = sipcheck("register", f"alice@{registrar.where}", "--password-env", "PW",
                            "--json", env={"PW": PW})  # fmt: skip
            out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert live.status == 0 and proc.returncode == 0, err
    (line,) = out.splitlines()
    attempt = json.loads(line)
    assert (attempt["result"], attempt["final_status"]) == ("registered", 200)
    assert [m["raw"] for m in attempt["messages"]] == [m["raw"] for m in live.json()["messages"]]
    assert len(attempt["frames"]) == 4
    assert PW.encode() not in kept.read_bytes() and kept.stat().st_size > 0

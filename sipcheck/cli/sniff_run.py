"""Running ``sipcheck sniff``: frames from scapy -> the capture reader -> attempts
-> the renderers of ``analyze``, each attempt printed when it ends."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any

import click

from sipcheck.capture.analyze import result_of
from sipcheck.capture.attempts import Attempt, Grouper
from sipcheck.capture.messages import Extractor
from sipcheck.cli.options import emit_json, make_console
from sipcheck.cli.progress import CountLine
from sipcheck.errors import ConfigError
from sipcheck.exit_status import ExitStatus

LIVE_IDLE = 32.0  # Timer F: a challenge left unanswered this long is reported
TICK = 0.5


def bpf_filter(kw: Mapping[str, Any]) -> str:
    if kw.get("bpf"):
        return str(kw["bpf"])
    ports = kw.get("ports") or (5060,)
    return " or ".join(f"port {p}" for p in ports) + " or (ip[6:2] & 0x1fff != 0)"


class _Show:
    def __init__(self, kw: Mapping[str, Any], counts: CountLine | None) -> None:
        self.counts = counts  # the running count on a terminal: cleared before an attempt
        self.json = bool(kw.get("json_output"))
        self.verbose = int(kw.get("verbose") or 0)
        self.console = make_console(bool(kw.get("no_color")))
        self.shown = 0
        self.status = int(ExitStatus.SUCCESS)

    def attempts(self, attempts: list[Attempt]) -> None:
        for attempt in attempts:
            result = result_of(attempt)
            if result is None:
                continue
            self.shown += 1
            if self.counts is not None:
                self.counts.clear()
            if result.outcome.result == "failed":
                self.status = result.outcome.exit_status
            if self.json:
                from sipcheck.render.analyze import attempt_json

                emit_json(attempt_json(result), line=True)
                continue
            from sipcheck.render.ladder import render_ladder
            from sipcheck.render.verdict import render_verdict

            console = self.console
            console.print(render_ladder(result.trace, result.outcome, verbose=self.verbose,
                                        width=console.width))  # fmt: skip
            console.print(render_verdict(result.outcome))


def run_sniff(kw: Mapping[str, Any]) -> int:
    from sipcheck.capture.live import LiveCapture, filter_error, unknown_interface

    missing = unknown_interface(str(kw["iface"]))
    if missing is not None:
        raise ConfigError(f"-i/--interface: {missing}")
    refused = filter_error(bpf_filter(kw)) if kw.get("bpf") else None
    if refused is not None:
        raise ConfigError(f"--filter: {refused}")
    capture = LiveCapture(str(kw["iface"]), bpf_filter(kw))
    keep = None
    if kw.get("pcap"):
        from sipcheck.capture.pcapng_out import PcapngWriter
        from sipcheck.capture.writer import open_pcap

        keep_file = open_pcap(kw["pcap"])
        keep = PcapngWriter(keep_file)
    json_mode = bool(kw.get("json_output"))
    counting = CountLine() if sys.stderr.isatty() and not json_mode else None
    show = _Show(kw, counting)
    for skipped in capture.skipped:
        click.echo(f"note: left out {skipped}", err=True)
    click.echo(f"capturing on {kw['iface']} ({bpf_filter(kw)}); Ctrl-C stops", err=True)
    extractor, grouper = Extractor(), Grouper(idle=LIVE_IDLE)
    deadline = None if kw.get("duration") is None else time.monotonic() + kw["duration"]
    count = kw.get("count")
    try:
        while deadline is None or time.monotonic() < deadline:
            frame = capture.next_frame(TICK)
            if frame is None:
                show.attempts(grouper.expire(time.time()))
            else:
                if keep is not None:
                    keep.packet(frame.linktype, frame.time, frame.data)
                for message in extractor.feed(frame):
                    show.attempts(grouper.add(message))
            if counting is not None:
                counting.show(_counts(extractor, show))
            if count is not None and show.shown >= count:
                break
    except KeyboardInterrupt:
        pass
    finally:
        capture.close()
        if counting is not None:  # the last count stays
            counting.show(_counts(extractor, show), now=True)
            counting.keep()
        if keep is not None:
            keep.flush()
            keep_file.close()
    if count is None or show.shown < count:
        show.attempts(grouper.finish())
    return show.status


def _counts(extractor: Extractor, show: _Show) -> str:
    counts = extractor.counts
    return f"{counts.packets} packets, {counts.sip} SIP, {show.shown} attempts"

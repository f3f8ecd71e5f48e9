"""Plain-text (no colour) rendering of knowledge-base entries."""

from __future__ import annotations

import io
import json

from rich.console import Console, RenderableType

from sipcheck.render.explain import code_to_dict, render_code, render_code_list
from sipcheck.sip.knowledge.codes import all_codes, lookup


def plain(renderable: RenderableType, width: int = 100) -> str:
    out = io.StringIO()
    Console(file=out, no_color=True, width=width, force_terminal=False).print(renderable)
    return out.getvalue()


def line_with(text: str, *needles: str) -> str:
    """The one line holding every needle, in order."""
    for line in text.splitlines():
        positions = [line.find(n) for n in needles]
        if all(p >= 0 for p in positions) and positions == sorted(positions):
            return line
    raise AssertionError(f"no line holds {needles!r}:\n{text}")


def test_401_plain() -> None:
    text = plain(render_code(lookup(401)))
    assert text.startswith("401 Unauthorized\n")
    assert "Request Failure (4xx), defined in RFC 3261 §21.4.2" in text
    assert "What it means:" in text
    assert "For a REGISTER:" in text
    assert "Check next:" in text
    assert "  1. If the REGISTER had no credentials yet, this is the normal challenge" in text
    assert "  2. Check the auth username and password" in text
    assert "401 vs 407" in text
    line_with(text, "Challenge header", "WWW-Authenticate", "Proxy-Authenticate")
    line_with(text, "Answer header", "Authorization", "Proxy-Authorization")
    line_with(text, "RFC section", "RFC 3261 §22.2", "RFC 3261 §22.3")
    assert "\x1b" not in text


def test_407_plain_has_the_same_side_by_side() -> None:
    text = plain(render_code(lookup(407)))
    assert text.startswith("407 Proxy Authentication Required\n")
    assert "Request Failure (4xx), defined in RFC 3261 §21.4.8" in text
    line_with(text, "401 (registrar)", "407 (proxy)")
    line_with(text, "Challenge header", "WWW-Authenticate", "Proxy-Authenticate")
    line_with(text, "Answer header", "Authorization", "Proxy-Authorization")


def test_423_mentions_min_expires() -> None:
    text = plain(render_code(lookup(423)))
    assert text.startswith("423 Interval Too Brief\n")
    assert "Min-Expires" in text
    assert "  1. Read the Min-Expires header of the 423." in text
    assert "401 vs 407" not in text


def test_flags_for_legacy_and_unregistered() -> None:
    legacy = plain(render_code(lookup(409)))
    assert legacy.startswith("409 Conflict\n")
    assert "! legacy: RFC 2543 only, dropped by RFC 3261" in legacy
    assert "! not in the IANA registry" in legacy

    unknown = plain(render_code(lookup(499)))
    assert unknown.startswith("499\n")
    assert "! not in the IANA registry" in unknown
    assert "legacy" not in unknown

    assert "! " not in plain(render_code(lookup(200)))


def test_render_is_stable_and_fits_the_width() -> None:
    for info in all_codes():
        first = plain(render_code(info))
        assert first == plain(render_code(info))
        assert all(len(line) <= 100 for line in first.splitlines())
    narrow = plain(render_code(lookup(401)), width=60)
    assert all(len(line) <= 60 for line in narrow.splitlines())


def test_no_colour_codes_even_on_a_terminal() -> None:
    def on_terminal(no_color: bool) -> str:
        out = io.StringIO()
        console = Console(file=out, no_color=no_color, width=100, force_terminal=True)
        console.print(render_code(lookup(409)))
        return out.getvalue()

    assert "\x1b[33m" in on_terminal(no_color=False)  # the flag lines are yellow
    assert "\x1b[33m" not in on_terminal(no_color=True)


def test_prose_lines_carry_no_trailing_spaces() -> None:
    for code in (200, 423, 499, 503):  # no table in these
        for line in plain(render_code(lookup(code)), width=72).splitlines():
            assert line == line.rstrip(), repr(line)


def test_code_list_lines() -> None:
    infos = [lookup(401), lookup(409), lookup(411), lookup(499)]
    assert render_code_list(infos) == (
        "401 Unauthorized\n"
        "409 Conflict (legacy, RFC 2543)\n"
        "411 Length Required (legacy, RFC 2543)\n"
        "499 (unregistered request failure)"
    )


def test_full_code_list() -> None:
    lines = render_code_list(all_codes()).splitlines()
    assert len(lines) == len(all_codes())
    assert "100 Trying" in lines
    assert "202 Accepted" in lines
    assert "407 Proxy Authentication Required" in lines
    assert "423 Interval Too Brief" in lines
    assert "608 Rejected" in lines
    assert render_code_list([]) == ""


def test_code_to_dict_is_json_ready() -> None:
    d = code_to_dict(lookup(401))
    assert json.loads(json.dumps(d)) == d
    assert d["code"] == 401
    assert d["reason"] == "Unauthorized"
    assert d["class"] == "Request Failure"
    assert d["registered"] is True
    assert d["legacy"] is False
    assert isinstance(d["next_steps"], list) and len(d["next_steps"]) >= 2
    rows = d["auth_comparison"]
    assert isinstance(rows, list)
    assert {
        "aspect": "Challenge header",
        "401": "WWW-Authenticate",
        "407": "Proxy-Authenticate",
    } in rows

    d200 = code_to_dict(lookup(200))
    assert d200["auth_comparison"] is None
    assert set(d200) == set(d)

    d499 = code_to_dict(lookup(499))
    assert d499["reason"] == "" and d499["registered"] is False

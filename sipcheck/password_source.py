"""Where a password (or an HA1) comes from, never the command line itself: an
environment variable, a file's first line, stdin, a command's first output line, or
(the accounts file only) the file itself. One ``PasswordSource`` per place, read only
when ``resolve`` is called; every failure is one ``PasswordError`` line that starts with
the source's ``origin`` (a flag, ``--password-env PW``, or a place in the accounts
file, ``FILE: account 'NAME': key 'KEY'``).

A password command runs without a shell (an argument list, as ``pass show sip/alice``
users expect). Unattended (the accounts file) it has no stdin, a timeout and its output
captured: its stderr is never shown when it succeeded, and when it failed only its
first line is quoted, with anything that looks like the password masked. Interactive
(``--password-command``) it keeps the terminal's stdin and stderr, so that a password
manager can ask for its own passphrase, and has no timeout.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sipcheck.errors import ConfigError
from sipcheck.secret import MASK, Secret

__all__ = [
    "COMMAND_TIMEOUT",
    "Command",
    "PasswordError",
    "PasswordSource",
    "Warn",
    "readable_by_others",
]

COMMAND_TIMEOUT = 10.0  # seconds a password command may take
Kind = Literal["env", "file", "stdin", "command", "inline"]
Warn = Callable[[str], None]


class PasswordError(ConfigError):
    """A password source that gave no password: unset, unreadable, a failing command."""


def readable_by_others(path: Path) -> int | None:
    """The permission bits of ``path`` when group or others may read it, else None."""
    if os.name != "posix":
        return None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & (stat.S_IRGRP | stat.S_IROTH) else None


class Command:
    """A password command's argument list. Its arguments may hold a secret of their own
    (a token, a vault path): ``repr`` shows the program only, also in copies."""

    __slots__ = ("argv",)

    def __init__(self, argv: tuple[str, ...]) -> None:
        if not argv:
            raise ValueError("a command needs a program")
        self.argv = argv

    def __repr__(self) -> str:
        return f"Command({self.argv[0]!r} ...)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Command) and other.argv == self.argv

    def __hash__(self) -> int:
        return hash(self.argv)


@dataclass(frozen=True)
class PasswordSource:
    """Where one password comes from. ``origin`` names it in messages, as
    ``FILE: account 'NAME': key 'KEY'``; nothing here holds the password except
    ``inline``, a Secret."""

    kind: Kind
    origin: str
    env: str | None = None
    path: Path | None = None
    command: Command | None = None
    inline: Secret | None = None
    interactive: bool = False  # a command: the terminal's stdin and stderr, no timeout
    at_terminal: str | None = None  # stdin: what to do instead when it is a terminal

    @property
    def argv(self) -> tuple[str, ...]:
        return () if self.command is None else self.command.argv

    def __repr__(self) -> str:
        shown = {
            "env": self.env,
            "file": str(self.path),
            "stdin": "-",
            "command": self.argv[0] if self.argv else "",
            "inline": MASK,
        }[self.kind]
        return f"PasswordSource({self.kind}={shown})"

    __str__ = __repr__

    def resolve(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        timeout: float = COMMAND_TIMEOUT,
        warn: Warn | None = None,
    ) -> Secret:
        """Read the password now. Raises PasswordError (one line, naming the origin)."""
        if self.kind == "inline":
            assert self.inline is not None
            return self.inline
        if self.kind == "env":
            assert self.env is not None
            value = (os.environ if environ is None else environ).get(self.env)
            if value is None:
                raise self._error(
                    f"the environment variable {self.env} is not set (export {self.env}=... first)"
                )
            if not value:
                raise self._error(f"the environment variable {self.env} is set but empty")
            return Secret(value)
        if self.kind == "file":
            return self._from_file(warn)
        if self.kind == "stdin":
            return self._from_stdin()
        return self._from_command(timeout)

    def _error(self, problem: str) -> PasswordError:
        return PasswordError(f"{self.origin}: {problem}")

    def _from_file(self, warn: Warn | None) -> Secret:
        assert self.path is not None
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise self._error(f"cannot read {self.path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise self._error(f"{self.path} is not UTF-8 text") from None
        line = _password_line(text)
        if not line:
            raise self._error(f"{self.path} is empty (the password is its first line)")
        mode = readable_by_others(self.path)
        if mode is not None and warn is not None:
            warn(
                f"{self.origin}: {self.path} holds a password and is readable by group or "
                f"others (mode {mode:04o}): chmod 600 {self.path}"
            )
        return Secret(line)

    def _from_stdin(self) -> Secret:
        if sys.stdin.isatty():
            instead = f", {self.at_terminal}" if self.at_terminal else ""
            raise self._error(f"stdin is a terminal; pipe it in{instead}")
        try:
            line = sys.stdin.readline()
        except UnicodeDecodeError:
            raise self._error("stdin is not UTF-8 text") from None
        line = _password_line(line)
        if not line:
            raise self._error("stdin's first line is empty")
        return Secret(line)

    def _from_command(self, timeout: float) -> Secret:
        import subprocess  # only when a command is the source: start-up stays light

        argv = list(self.argv)
        program = argv[0]
        try:
            if self.interactive:
                done = subprocess.run(argv, stdout=subprocess.PIPE, check=False)
            else:
                done = subprocess.run(
                    argv,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=timeout,
                    check=False,
                )
        except FileNotFoundError:
            raise self._error(f"command not found: {program}") from None
        except PermissionError:
            raise self._error(f"command not executable: {program}") from None
        except subprocess.TimeoutExpired:
            raise self._error(f"{program} did not finish within {timeout:g} s") from None
        except OSError as exc:
            raise self._error(f"cannot run {program}: {exc.strerror}") from None
        try:
            first = _password_line(done.stdout.decode("utf-8"))
        except UnicodeDecodeError:
            raise self._error(f"the output of {program} is not UTF-8 text") from None
        if done.returncode != 0:
            stderr = done.stderr or b""  # an interactive command's went to the terminal
            said = _first_line(stderr.decode("utf-8", "replace"), mask=first)
            status = _status_text(done.returncode)
            raise self._error(f"{program} {status}" + (f": {said}" if said else ""))
        if not first:
            raise self._error(f"{program} printed no password (its first line is empty)")
        return Secret(first)


def _password_line(text: str) -> str:
    """The first line of what a source gave (the password), "" when there is none."""
    lines = text.splitlines()
    return lines[0] if lines else ""


def _status_text(returncode: int) -> str:
    if returncode < 0:
        return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


def _first_line(text: str, *, mask: str) -> str:
    """The first non-blank line of ``text``, at most 200 characters, with ``mask``
    (what the command printed on stdout, maybe the password) never shown."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    if mask.strip():
        line = line.replace(mask.strip(), MASK)
    line = "".join(c if c.isprintable() else "?" for c in line)
    return line[:200]

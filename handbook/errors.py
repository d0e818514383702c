"""User-facing problems: located, plain-worded, collected so all print at once.

A :class:`Problem` is a mistake in the user's project (content, settings,
templates, an overflowing card). Internal bugs are ordinary exceptions and
are never converted into problems.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake in a project, with where it is and what to do about it."""

    path: str
    line: int
    column: int
    message: str
    hint: str = ""

    def format(self) -> str:
        location = f"{self.path}:{self.line}:{self.column}" if self.line else self.path
        text = f"{_one_line(location)}: {_one_line(self.message)}"
        if self.hint:
            text += f"\n    hint: {_one_line(self.hint)}"
        return text


@dataclass(frozen=True, order=True)
class Notice:
    """Something worth knowing about a project, located like a problem, never a failure:
    a text a translation lacks, say (``kind`` says which sort of notice it is)."""

    kind: str
    problem: Problem


def _one_line(text: str) -> str:
    """Show line breaks and other control characters a user typed as escapes."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


MAX_SHOWN = 80  # characters of a value a message quotes


def shortened(text: str, limit: int = MAX_SHOWN) -> str:
    """``text``, cut to ``limit`` characters with "..." if longer (a 5000-digit number)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


class HandbookError(Exception):
    """Raised when a project has problems; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(p.format() for p in self.problems))


class OutOfTime(BaseException):
    """Raised inside a worker just before its time limit, so that the work in hand can
    say where it was (``where``: a project file and line); not an Exception, so that
    nothing on the way catches it as an error of its own."""

    where: tuple[str, int] | None = None


def relative_path(path: Path, root: Path) -> str:
    """Show a path relative to the project root when it lies inside it."""
    try:
        # realpath, unlike resolve, raises nothing for a loop of links
        return Path(os.path.realpath(path)).relative_to(os.path.realpath(root)).as_posix()
    except ValueError:
        return str(path)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest valid choice, or listing them when few."""
    options = sorted(set(choices))
    close = get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    if not options:
        return ""
    if len(options) <= 8:
        return "valid values: " + ", ".join(f"'{o}'" for o in options)
    return "valid values include: " + ", ".join(f"'{o}'" for o in options[:8]) + ", ..."


def counted(count: int, noun: str) -> str:
    """``counted(1, "page")`` is "1 page", ``counted(2, "page")`` "2 pages"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"

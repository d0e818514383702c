"""What a build reports: each output's status, pages and time, and every problem."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from handbook.errors import Notice, Problem

RENDERED = "rendered"
UP_TO_DATE = "up to date"
FAILED = "failed"
NOT_REBUILT = "not rebuilt"  # an output it is made from failed


@dataclass(frozen=True)
class Made:
    """What a job's maker reports about the file it wrote."""

    pages: int
    renders: int = 1
    scale: float = 1.0


@dataclass
class OutputResult:
    path: Path
    pages: int
    seconds: float
    scale: float = 1.0  # a card's text size after fitting it on one page (1.0 = full size)
    renders: int = 1  # layouts it took now (0 when up to date)
    status: str = RENDERED


class RenderListener(Protocol):
    """Hears how the rendering of a build goes, for a live display of it."""

    def planned(self, outputs: int, workers: int) -> None:
        """How many outputs are about to render, in how many workers."""

    def started(self, path: Path) -> None:
        """An output began rendering in a worker."""


@dataclass
class BuildReport:
    outputs: list[OutputResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notices: list[Problem] = field(default_factory=list)  # worth knowing, but no mistake
    # Per translated language (those built): the texts it lacks or has out of date.
    translation_notices: dict[str, list[Notice]] = field(default_factory=dict)

    def with_status(self, status: str) -> list[OutputResult]:
        return [output for output in self.outputs if output.status == status]


@dataclass(frozen=True)
class CardFit:
    """How a card fits on its page when ``check`` lays it out."""

    id: str
    scale: float  # its text size on the card (1.0 = full size)

"""Stage 4: HTML + CSS -> PDF with WeasyPrint.

WeasyPrint is imported here only, so commands that do not render (``--help``,
``check``) start fast. Any warning WeasyPrint logs while rendering (a missing
font, an image it cannot read, CSS it ignores) fails the build instead of
passing silently.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from handbook.errors import HandbookError, Problem

# WeasyPrint 70's PDF variants (``weasyprint.pdf.VARIANTS`` without its
# "debug"), listed here so the command line does not import WeasyPrint to
# offer them; a test keeps the two in step.
PDF_VARIANTS = (
    "pdf/a-1b",
    "pdf/a-2b",
    "pdf/a-3b",
    "pdf/a-2u",
    "pdf/a-3u",
    "pdf/a-4u",
    "pdf/a-1a",
    "pdf/a-2a",
    "pdf/a-3a",
    "pdf/a-4e",
    "pdf/a-4f",
    "pdf/ua-1",
    "pdf/ua-2",
    "pdf/x-1a",
    "pdf/x-3",
    "pdf/x-4",
    "pdf/x-5g",
)

_LENGTH = re.compile(r"^\d{1,2}(\.\d+)?(mm|cm|in|pt)$")


@dataclass(frozen=True)
class PageSource:
    """Everything WeasyPrint needs for one document."""

    html: str
    stylesheets: tuple[Path, ...]
    extra_css: str
    origin: str  # the project file the document comes from, for error messages
    allowed_roots: tuple[Path, ...] = field(default=())


@cache
def _font_config():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def _fetcher(allowed_roots: tuple[Path, ...]):
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    class ProjectFetcher(URLFetcher):
        """Serves regular files inside the project or the built-in defaults; nothing else."""

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme != "file":
                raise FatalURLFetchingError(f"refused to fetch '{url[:80]}' (only project files)")
            path = Path(unquote(parts.path)).resolve()
            inside = any(path.is_relative_to(root.resolve()) for root in allowed_roots)
            if not inside or not path.is_file():
                raise FatalURLFetchingError(f"refused to read '{path}' (outside the project)")
            return super().fetch(path.as_uri(), headers)

    return ProjectFetcher()


# Notices about the machine, not the project: without libharfbuzz-subset,
# WeasyPrint subsets fonts with fontTools instead, and the output is the same.
_ENVIRONMENT_NOTICES = ("Using fontTools instead of HarfBuzz-Subset",)


class _CollectWarnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith(_ENVIRONMENT_NOTICES):
            self.messages.append(message)


@contextmanager
def _warnings_are_errors(origin: str) -> Iterator[None]:
    logger = logging.getLogger("weasyprint")
    handler = _CollectWarnings()
    logger.addHandler(handler)
    fonttools = logging.getLogger("fontTools")
    fonttools_level = fonttools.level
    fonttools.setLevel(logging.ERROR)  # its subsetter chatters about font timestamps
    try:
        yield
    finally:
        logger.removeHandler(handler)
        fonttools.setLevel(fonttools_level)
    if handler.messages:
        raise HandbookError(
            Problem(origin, 0, 0, f"rendering problem: {message}") for message in handler.messages
        )


def render(source: PageSource):
    """Lay out a document; returns a WeasyPrint ``Document``."""
    from weasyprint import CSS, HTML
    from weasyprint.urls import FatalURLFetchingError

    fetcher = _fetcher(source.allowed_roots)
    config = _font_config()
    try:
        with _warnings_are_errors(source.origin):
            sheets = [CSS(string=source.extra_css, font_config=config, url_fetcher=fetcher)]
            sheets += [
                CSS(filename=str(path), font_config=config, url_fetcher=fetcher)
                for path in source.stylesheets
            ]
            html = HTML(
                string=source.html,
                base_url=str(source.allowed_roots[0]) + "/",
                url_fetcher=fetcher,
            )
            return html.render(stylesheets=sheets, font_config=config)
    except FatalURLFetchingError as exc:
        raise HandbookError([Problem(source.origin, 0, 0, str(exc))]) from None


def print_shop_css(bleed: str | None, marks: bool) -> str:
    """``@page`` rules for a print shop: bleed beyond the trim box, crop marks."""
    if bleed is not None and not _LENGTH.match(bleed):
        raise HandbookError(
            [
                Problem(
                    "--bleed",
                    0,
                    0,
                    f"'{bleed}' is not a bleed length",
                    "give a number and a unit, such as 3mm, 0.125in or 9pt",
                )
            ]
        )
    rules = [f"bleed: {bleed};" if bleed else "", "marks: crop;" if marks else ""]
    return f"@page {{ {' '.join(r for r in rules if r)} }}" if any(rules) else ""


def to_pdf_bytes(document, origin: str, date: str | None = None, **options) -> bytes:
    """Write a rendered document as PDF bytes (fonts subset and embedded).

    ``date`` (W3C format, such as 2026-11-24) becomes the creation and
    modification date; without it the PDF has none, so that building twice
    gives the same bytes (WeasyPrint itself only asks the clock for PDF/X).
    """
    if date is not None:
        document.metadata.created = document.metadata.modified = date
    with _warnings_are_errors(origin):
        return document.write_pdf(**options)

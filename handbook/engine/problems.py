"""WeasyPrint's warnings as located problems: any warning fails the build.

A missing font, an image WeasyPrint cannot read, CSS it ignores: each would
pass silently in WeasyPrint's log. Here each becomes a problem, at the
stylesheet line when WeasyPrint names one, at the template line asking for
an image that failed, else at the content file being rendered.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from handbook.engine.resources import Asker, Refused, needle, shown
from handbook.errors import HandbookError, Problem, did_you_mean, shortened

# Notices about the machine, not the project: without libharfbuzz-subset,
# WeasyPrint subsets fonts with fontTools instead, and the output is the same.
_ENVIRONMENT_NOTICES = ("Using fontTools instead of HarfBuzz-Subset",)

# WeasyPrint 70 writes "Ignored `colr: red` at 2:3, unknown property."
_CSS_POSITION = re.compile(r" at (\d+):(\d+)\b")
_UNKNOWN_PROPERTY = re.compile(r"^Ignored `([\w-]+):.*, unknown property\.$")
_FONT_FAILURE = re.compile(r"Font-face .* cannot be loaded")
# The font faces each stylesheet declares that could not be loaded, in this process.
# WeasyPrint tries a face once per process and is silent when the next document
# declares it again, which would then render without it.
_BROKEN_FACES: dict[str | None, list[str]] = {}
_IMAGE_FAILURE = re.compile(r"Failed to (?:load|render SVG) image (?:at )?'?([^' ]+)")


class _CollectWarnings(logging.Handler):
    """Collects WeasyPrint's warnings, each with the stylesheet being read, if any."""

    def __init__(self, origin: str, asker: Asker | None) -> None:
        super().__init__(logging.WARNING)
        self.origin, self.asker = origin, asker
        self.reading: str | None = None
        self.problems: list[Problem] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(_ENVIRONMENT_NOTICES):
            return
        image = _IMAGE_FAILURE.match(message)
        if image and self.asker:
            name = _shown_url(image[1], self.asker.root)
            refusal = Refused(f"the image '{name}' cannot be loaded (damaged or not an image)")
            self.problems.append(self.asker.problem(needle(image[1]), refusal))
            return
        if _FONT_FAILURE.match(message):
            if self.reading:
                message += f" (declared in {self.reading})"
            _BROKEN_FACES.setdefault(self.reading, []).append(message)
            self.problems.append(Problem(self.origin, 0, 0, f"rendering problem: {message}"))
            return
        position = _CSS_POSITION.search(message) if self.reading else None
        if self.reading and position:
            line, column = int(position[1]), int(position[2])
            self.problems.append(Problem(self.reading, line, column, *_css_problem(message)))
        else:
            self.problems.append(Problem(self.origin, 0, 0, f"rendering problem: {message}"))

    @contextmanager
    def reading_stylesheet(self, name: str) -> Iterator[None]:
        """Inside, warnings are the stylesheet ``name``'s; so are font faces it declared
        that could not be loaded in an earlier render of this process."""
        self.reading = name
        known = list(_BROKEN_FACES.get(name, ()))
        try:
            yield
        finally:
            self.reading = None
        for message in known:
            self.problems.append(Problem(self.origin, 0, 0, f"rendering problem: {message}"))


def _css_problem(message: str) -> tuple[str, str]:
    """A WeasyPrint CSS warning in plain words, without the position it carried,
    and for a misspelt property the one it most likely meant."""
    unknown = _UNKNOWN_PROPERTY.match(message)
    if unknown:
        return f"unknown CSS property '{unknown[1]}'", did_you_mean(unknown[1], _css_properties())
    return f"CSS problem: {_CSS_POSITION.sub('', message)}", ""


@cache
def _css_properties() -> frozenset[str]:
    from weasyprint.css.properties import KNOWN_PROPERTIES
    from weasyprint.css.validation.expanders import EXPANDERS

    return frozenset(KNOWN_PROPERTIES) | frozenset(EXPANDERS)


def _shown_url(url: str, root: Path) -> str:
    """A file URL inside the project as a project path; any other URL as it is."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = Path(unquote(parts.path))
        return shown(path, root) if path.is_relative_to(root) else str(path)
    return shortened(url)


@contextmanager
def warnings_are_errors(
    origin: str, refusals: list[Problem], asker: Asker | None
) -> Iterator[_CollectWarnings]:
    """Fail on any WeasyPrint warning; a refused resource is reported as itself.

    WeasyPrint catches some refusals (an SVG that cannot draw its ``<image>``)
    and logs a generic warning instead, so the fetchers record every refusal
    and those take the place of the warnings they caused.
    """
    from weasyprint.urls import FatalURLFetchingError

    logger = logging.getLogger("weasyprint")
    handler = _CollectWarnings(origin, asker)
    logger.addHandler(handler)
    fonttools = logging.getLogger("fontTools")
    fonttools_level = fonttools.level
    fonttools.setLevel(logging.ERROR)  # its subsetter chatters about font timestamps
    try:
        yield handler
    except FatalURLFetchingError as exc:
        if not refusals:
            raise HandbookError([Problem(origin, 0, 0, str(exc))]) from None
    finally:
        logger.removeHandler(handler)
        fonttools.setLevel(fonttools_level)
    if refusals:
        raise HandbookError(refusals)
    if handler.problems:
        raise HandbookError(handler.problems)

"""Stage 4: HTML + CSS -> PDF with WeasyPrint.

WeasyPrint is imported here only, so commands that do not render (``--help``,
``check``) start fast. Any warning WeasyPrint logs while rendering (a missing
font, an image it cannot read, CSS it ignores) fails the build instead of
passing silently.

Projects share templates and stylesheets, so what they may make WeasyPrint
read is narrow: regular files inside the project folder or the built-in
defaults, and small ``data:`` URLs. Links out of the project, devices, FIFOs,
hidden files, the network and attachments are refused, each as a problem
located at the template or stylesheet line that asked.
"""

from __future__ import annotations

import datetime
import io
import logging
import mimetypes
import os
import re
import stat
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from handbook.errors import HandbookError, Problem, relative_path

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
    allowed_roots: tuple[Path, ...] = field(default=())  # the project root first
    # The template the HTML comes from first, then the project's own templates:
    # where a refused reference in the HTML is looked for, to name file and line.
    template_files: tuple[Path, ...] = field(default=())


@cache
def _font_config():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


# --- resources: only regular files inside the project or the defaults --------

MAX_RESOURCE_BYTES = 32 * 1024 * 1024
MAX_DATA_URL_CHARS = 32 * 1024
MAX_IMAGE_PIXELS = 25_000_000  # 5000 x 5000; an A4 page at 600 dpi is 35 MP


class _Refused(Exception):
    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message, self.hint = message, hint


@dataclass(frozen=True)
class _Asker:
    """The file whose references a fetcher serves, and the files its text may be in."""

    files: tuple[Path, ...]
    root: Path
    document: str  # the content file being rendered

    def problem(self, needle: str, refusal: _Refused) -> Problem:
        """Located at the first line holding ``needle`` in the asking files."""
        message = f"{refusal.message} (while rendering {self.document})"
        for path in self.files:
            try:
                lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            for number, text in enumerate(lines, start=1):
                if needle and needle in text:
                    return Problem(
                        _shown(path, self.root),
                        number,
                        text.index(needle) + 1,
                        message,
                        refusal.hint,
                    )
        shown = _shown(self.files[0], self.root) if self.files else self.document
        return Problem(shown, 0, 0, message, refusal.hint)


def _needle(url: str) -> str:
    """The part of a URL most likely written as-is in the file that asked for it."""
    parts = urlsplit(url)
    if parts.scheme == "data":
        return "data:"
    segments = [s for s in unquote(parts.path).split("/") if s]
    return segments[-1] if segments else parts.netloc


def _shorten(url: str) -> str:
    return url if len(url) <= 80 else url[:77] + "..."


def _read_file(url: str, allowed_roots: tuple[Path, ...]) -> tuple[bytes, str, str]:
    """The bytes of a ``file:`` URL that names a regular file inside an allowed root."""
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise _Refused(f"refused to read '{_shorten(url)}': files on other hosts are not read")
    try:
        path = Path(os.path.realpath(unquote(parts.path)))
    except ValueError:
        raise _Refused(f"refused to read '{_shorten(url)}': not a valid file name") from None
    roots = [Path(os.path.realpath(root)) for root in allowed_roots]
    inside = next((root for root in roots if path.is_relative_to(root)), None)
    if inside is None:
        raise _Refused(
            f"refused to read '{path}': it is outside the project folder",
            "templates and stylesheets may only use files inside the project "
            "(copy the file into it and use a relative path)",
        )
    relative = path.relative_to(inside)
    shown = relative if inside == roots[0] else path
    if any(part.startswith(".") for part in relative.parts):
        raise _Refused(f"refused to read '{shown}': hidden files and folders are not read")
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise _Refused(f"cannot read '{shown}': no such file", "check the file name") from None
    except OSError as exc:
        raise _Refused(f"cannot read '{shown}': {exc.strerror}") from None
    with os.fdopen(handle, "rb") as stream:
        status = os.fstat(stream.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise _Refused(f"refused to read '{shown}': not a regular file")
        if status.st_size > MAX_RESOURCE_BYTES:
            raise _Refused(
                f"refused to read '{shown}': {status.st_size // 1024 // 1024} MiB is over "
                f"the {MAX_RESOURCE_BYTES // 1024 // 1024} MiB limit for one file"
            )
        data = stream.read(MAX_RESOURCE_BYTES + 1)
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return data, content_type, str(shown)


def _check_image(data: bytes, name: str, content_type: str) -> None:
    """Refuse a raster image that does not decode, or decodes to an absurd pixel count.

    WeasyPrint would drop a broken image with a warning, or draw half of a
    truncated one (it sets Pillow's LOAD_TRUNCATED_IMAGES); decoding it here
    first turns both into a clear error.
    """
    from PIL import Image, ImageFile, UnidentifiedImageError

    raster = content_type.startswith("image/") and content_type != "image/svg+xml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except UnidentifiedImageError:
            if raster:
                raise _Refused(f"the image '{name}' is damaged or not an image") from None
            return  # a stylesheet, a font, an SVG
        except Image.DecompressionBombError:
            raise _too_large(name) from None
        except Exception as exc:
            raise _Refused(f"the image '{name}' is damaged ({exc})") from None
    with image:
        if image.width * image.height > MAX_IMAGE_PIXELS:
            raise _too_large(name)
        truncated = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            image.load()
        except Exception as exc:
            raise _Refused(f"the image '{name}' is damaged ({exc})") from None
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = truncated


def _too_large(name: str) -> _Refused:
    return _Refused(
        f"the image '{name}' is too large (over {MAX_IMAGE_PIXELS // 1_000_000} million pixels)",
        "scale the image down; 300 pixels per inch of print is plenty",
    )


@cache
def _fetcher_class():
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    class ProjectFetcher(URLFetcher):
        """Serves regular files inside the project or the built-in defaults, and small
        ``data:`` URLs; refuses everything else, recording a located problem."""

        def __init__(self, allowed_roots: tuple[Path, ...], asker: _Asker, refusals: list):
            super().__init__(allowed_protocols=("file", "data"))
            self.allowed_roots, self.asker, self.refusals = allowed_roots, asker, refusals

        def fetch(self, url, headers=None):
            try:
                data, content_type, name = self._load(url, headers)
                _check_image(data, name, content_type)
            except _Refused as refusal:
                problem = self.asker.problem(_needle(url), refusal)
                self.refusals.append(problem)
                raise FatalURLFetchingError(problem.message) from None
            return URLFetcherResponse(url, data, {"Content-Type": content_type})

        def _load(self, url: str, headers) -> tuple[bytes, str, str]:
            """The bytes, content type and a name to show for an allowed URL."""
            scheme = urlsplit(url).scheme.lower()
            if scheme == "file":
                return _read_file(url, self.allowed_roots)
            if scheme != "data":
                raise _Refused(
                    f"refused to fetch '{_shorten(url)}': nothing is read from the network",
                    "copy the file into the project folder and use a relative path",
                )
            if len(url) > MAX_DATA_URL_CHARS:
                raise _Refused(
                    f"refused a data: URL of {len(url) // 1024} KiB "
                    f"(the limit is {MAX_DATA_URL_CHARS // 1024} KiB)",
                    "put the file in the project folder and use a relative path",
                )
            try:
                response = super().fetch(url, headers)
            except ValueError as exc:
                raise _Refused(f"the data: URL '{_shorten(url)}' is not valid ({exc})") from None
            content_type = response.headers.get_content_type()
            return response.read(), content_type, f"data:{content_type}"

    return ProjectFetcher, FatalURLFetchingError


# Notices about the machine, not the project: without libharfbuzz-subset,
# WeasyPrint subsets fonts with fontTools instead, and the output is the same.
_ENVIRONMENT_NOTICES = ("Using fontTools instead of HarfBuzz-Subset",)


class _CollectWarnings(logging.Handler):
    """Collects WeasyPrint's warnings, each with the stylesheet being read, if any."""

    def __init__(self, origin: str, asker: _Asker | None) -> None:
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
            shown = _shown_url(image[1], self.asker.root)
            refusal = _Refused(f"the image '{shown}' cannot be loaded (damaged or not an image)")
            self.problems.append(self.asker.problem(_needle(image[1]), refusal))
            return
        position = _CSS_POSITION.search(message) if self.reading else None
        if self.reading and position:
            line, column = int(position[1]), int(position[2])
            self.problems.append(Problem(self.reading, line, column, f"CSS problem: {message}"))
        else:
            self.problems.append(Problem(self.origin, 0, 0, f"rendering problem: {message}"))

    @contextmanager
    def reading_stylesheet(self, shown: str) -> Iterator[None]:
        self.reading = shown
        try:
            yield
        finally:
            self.reading = None


_CSS_POSITION = re.compile(r" at (\d+):(\d+)\.?$")
_IMAGE_FAILURE = re.compile(r"Failed to (?:load|render SVG) image (?:at )?'?([^' ]+)")


def _shown_url(url: str, root: Path) -> str:
    """A file URL inside the project as a project path; any other URL as it is."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = Path(unquote(parts.path))
        return _shown(path, root) if path.is_relative_to(root) else str(path)
    return _shorten(url)


@contextmanager
def _warnings_are_errors(
    origin: str, refusals: list[Problem], asker: _Asker | None
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


@cache
def _work_around_line_breaking_bugs() -> None:
    """Work around two line-breaking bugs of WeasyPrint 70 that leave short lines.

    Text before an inline element (``... from behind. <strong>Dotted</strong>``)
    keeps its trailing space. When a run fits the line but for that space,
    ``split_first_line`` takes it for a run too wide to break anywhere and
    keeps only its first word ("Each" alone, the rest below). The space would
    be dropped at the end of the line, so such a run is laid out whole; the
    inline layout already lets a trailing space overhang.

    Pango also rounds the line width in its own favour, so a first line may
    come back a fraction of a pixel wider than allowed; WeasyPrint then breaks
    the line earlier, inside the previous element ("Keep a steady" / "rhythm,
    and vary..."). Such a run is split again a pixel narrower.
    """
    from weasyprint.layout import inline
    from weasyprint.text.line_break import create_layout, line_size

    original = inline.split_first_line

    def split_first_line(text, style, context, max_width, justification_spacing, **options):
        result = original(text, style, context, max_width, justification_spacing, **options)
        if result[2] is None or max_width is None:
            return result
        if max_width < result[3] < max_width + 1:
            return original(text, style, context, max_width - 1, justification_spacing, **options)
        stripped = text.rstrip(" ")
        if stripped == text or "\n" in text:
            return result
        layout = create_layout(stripped, style, context, None, justification_spacing)
        width, _ = line_size(layout.get_first_line()[0], style)
        if width > max_width:
            return result
        return original(text, style, context, None, justification_spacing, **options)

    inline.split_first_line = split_first_line


def render(source: PageSource):
    """Lay out a document; returns a WeasyPrint ``Document``.

    Every stylesheet and the HTML get their own fetcher, so a refused
    reference names the stylesheet or template that holds it.
    """
    from weasyprint import CSS, HTML

    _work_around_line_breaking_bugs()

    fetcher_class, _ = _fetcher_class()
    refusals: list[Problem] = []
    root = source.allowed_roots[0]

    def fetcher(files: tuple[Path, ...]):
        return fetcher_class(source.allowed_roots, _Asker(files, root, source.origin), refusals)

    config = _font_config()
    style_files = [
        path
        for sheet in source.stylesheets
        for path in (sheet, *sorted(sheet.parent.glob("*.css")))
    ]
    # Images named in stylesheets are fetched by the document, hence its fetcher
    # looks for a refused reference in the stylesheets too.
    html_fetcher = fetcher((*source.template_files, *dict.fromkeys(style_files)))
    with _warnings_are_errors(source.origin, refusals, html_fetcher.asker) as seen:
        sheets = [CSS(string=source.extra_css, font_config=config, url_fetcher=html_fetcher)]
        for path in source.stylesheets:
            with seen.reading_stylesheet(_shown(path, root)):
                sheet_fetcher = fetcher((path, *sorted(path.parent.glob("*.css"))))
                sheets.append(CSS(url=path.as_uri(), font_config=config, url_fetcher=sheet_fetcher))
        html = HTML(string=source.html, base_url=str(root) + "/", url_fetcher=html_fetcher)
        document = html.render(stylesheets=sheets, font_config=config)
        _refuse_attachments(document, html_fetcher)
        return document


def _shown(path: Path, root: Path) -> str:
    """A path as the user wrote it: relative to the project, links not followed."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return relative_path(path, root)


def _refuse_attachments(document, fetcher) -> None:
    """``<link rel=attachment>`` and ``<a rel=attachment>`` would embed files in the PDF."""
    links = [
        target
        for page in document.pages
        for link_type, target, _, _ in page.links
        if link_type == "attachment"
    ]
    if document.metadata.attachments or links:
        refusal = _Refused(
            "refused to attach files to the PDF (rel=attachment)",
            "remove the rel=attachment link from the template",
        )
        fetcher.refusals.append(fetcher.asker.problem("attachment", refusal))


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
    fetcher = document.url_fetcher  # a ProjectFetcher when the document comes from render()
    refusals, asker = getattr(fetcher, "refusals", []), getattr(fetcher, "asker", None)
    with _warnings_are_errors(origin, refusals, asker), _font_timestamps(date):
        return document.write_pdf(**options)


@contextmanager
def _font_timestamps(date: str | None) -> Iterator[None]:
    """Keep subset fonts free of the clock when WeasyPrint subsets with fontTools.

    Without libharfbuzz-subset, WeasyPrint falls back to fontTools, which
    stamps each subset font with the current time unless SOURCE_DATE_EPOCH
    is set; pinning it (to the handbook's date, else 0) keeps builds
    byte-identical on such machines too.
    """
    if "SOURCE_DATE_EPOCH" in os.environ:
        yield
        return
    os.environ["SOURCE_DATE_EPOCH"] = str(_epoch(date))
    try:
        yield
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]


def _epoch(date: str | None) -> int:
    try:
        day = datetime.date.fromisoformat((date or "")[:10])
    except ValueError:
        return 0
    return int(datetime.datetime.combine(day, datetime.time(), datetime.UTC).timestamp())

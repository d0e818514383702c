"""HTML + CSS -> a laid-out document -> PDF bytes, with WeasyPrint.

WeasyPrint is imported when a document is first rendered, so commands that
do not render (``--help``, ``check``) start fast. Every resource WeasyPrint
reads goes through the project's fetcher (``resources``), and any warning it
logs fails the build (``problems``).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import gc
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from handbook.engine import fonts, stylesheets, workarounds
from handbook.engine.problems import warnings_are_errors
from handbook.engine.resources import Asker, Refused, fetcher_class, shown
from handbook.errors import HandbookError, Problem
from handbook.press.impose import PAGES_PER_SHEET


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
    # The only fonts the render may use besides its @font-face rules
    # (``Project.font_files``); none given: the bundled ones.
    fonts: tuple[Path, ...] = field(default=())


def font_files(source: PageSource) -> tuple[Path, ...]:
    """The font files a render of ``source`` may use (besides its @font-face rules)."""
    return source.fonts or fonts.bundled()


def warm_up(first: Sequence[PageSource] = (), languages: Sequence[str] = ()) -> None:
    """Import WeasyPrint now, so that worker processes forked afterwards have it loaded;
    then lay out each of ``first`` once and throw it away, so that the renders to come
    find their stylesheets parsed (see :mod:`stylesheets`) and their fonts loaded; and
    read the hyphenation dictionary of each of ``languages``.

    WeasyPrint loads a font configuration as it is imported: the bundled
    fonts', so that not even that one scans the machine's fonts.
    """
    from handbook.engine.prebuilt_ffi import import_weasyprint

    fonts.confine(fonts.bundled())
    import_weasyprint()
    # What the imports made lives as long as the process: frozen, it is not walked again
    # by the collections the first pages and the patterns set off (a fifth of the rest).
    gc.freeze()

    _hyphenation_read(languages)
    for source in first:
        # Whatever goes wrong is for the render of an output to report, with its name.
        with contextlib.suppress(Exception):
            render(source)
    if first:  # the laid-out boxes hold cycles: gone before a worker freezes what it has
        gc.collect()


def _hyphenation_read(languages: Sequence[str]) -> None:
    """Each language's hyphenation patterns read, as WeasyPrint finds them for an
    element's ``lang``: Pyphen keeps them for the process, and reading them takes longer
    than laying out a page. A few words never need them, so the first pages do not
    read them; without this, each worker's first document with a word to break would."""
    import pyphen

    for language in languages:
        found = pyphen.language_fallback(language)
        if found:
            pyphen.Pyphen(lang=found)


def _font_config(font_files: tuple[Path, ...]):
    """The WeasyPrint font configuration offering only these fonts, as they are now."""
    stamps = tuple((path, *_stamp(path)) for path in font_files)
    return _font_config_of(stamps)


def _stamp(path: Path) -> tuple[int, int]:
    try:
        status = path.stat()
    except OSError:  # gone since the build listed it: fontconfig will not find it either
        return (0, 0)
    return (status.st_size, status.st_mtime_ns)


@cache
def _font_config_of(stamps: tuple[tuple[Path, int, int], ...]):
    from weasyprint.text.fonts import FontConfiguration

    if not _font_config_of.cache_info().currsize:
        # Let it go while the interpreter still runs: WeasyPrint's clean-up of a
        # font configuration fails once Python has begun tearing its modules down.
        atexit.register(_font_config_of.cache_clear)
    fonts.confine(path for path, *_ in stamps)
    return FontConfiguration()


def render(source: PageSource):
    """Lay out a document; returns a WeasyPrint ``Document``.

    Every stylesheet and the HTML get their own fetcher, so a refused
    reference names the stylesheet or template that holds it.
    """
    from weasyprint import CSS, HTML

    refusals: list[Problem] = []
    root = source.allowed_roots[0]

    def fetcher(files: tuple[Path, ...]):
        return fetcher_class()(source.allowed_roots, Asker(files, root, source.origin), refusals)

    config = _font_config(font_files(source))
    style_files = [
        path
        for sheet in source.stylesheets
        for path in (sheet, *sorted(sheet.parent.glob("*.css")))
    ]
    # Images named in stylesheets are fetched by the document, hence its fetcher
    # looks for a refused reference in the stylesheets too.
    html_fetcher = fetcher((*source.template_files, *dict.fromkeys(style_files)))
    with (
        warnings_are_errors(source.origin, refusals, html_fetcher.asker) as seen,
        workarounds.line_breaking_fixed(),
        workarounds.fonts_dated(_font_epoch(None)),  # WOFF fonts are decoded here
    ):
        sheets = [CSS(string=source.extra_css, font_config=config, url_fetcher=html_fetcher)]
        parsed = []  # the stylesheets parsed now, kept once the render succeeded
        for path in source.stylesheets:
            sheet = stylesheets.kept(path, source.allowed_roots, config)
            if sheet is None:
                with seen.reading_stylesheet(shown(path, root)):
                    sheet_fetcher = fetcher((path, *sorted(path.parent.glob("*.css"))))
                    sheet = CSS(url=path.as_uri(), font_config=config, url_fetcher=sheet_fetcher)
                parsed.append((path, sheet, sheet_fetcher.read))
            sheets.append(sheet)
        html = HTML(string=source.html, base_url=str(root) + "/", url_fetcher=html_fetcher)
        document = html.render(stylesheets=sheets, font_config=config)
        _refuse_attachments(document, html_fetcher)
    for path, sheet, read in parsed:
        stylesheets.keep(path, source.allowed_roots, config, sheet, read)
    return document


def _refuse_attachments(document, fetcher) -> None:
    """``<link rel=attachment>`` and ``<a rel=attachment>`` would embed files in the PDF."""
    links = [
        target
        for page in document.pages
        for link_type, target, _, _ in page.links
        if link_type == "attachment"
    ]
    if document.metadata.attachments or links:
        refusal = Refused(
            "refused to attach files to the PDF (rel=attachment)",
            "remove the rel=attachment link from the template",
        )
        fetcher.refusals.append(fetcher.asker.problem("attachment", refusal))


def completed_sheets(booklet, notes, pages_before: int = 0):
    """The booklet with pages of ``notes`` (a first page, then a left and a right notes
    page) put before its back cover, until its pages fill whole folded sheets; for the
    last part of a booklet laid out in parts, ``pages_before`` it count too.

    The back cover is a left-hand page, so the pages before it end on a right
    one, and the notes pages go in as left, right, left ...
    """
    pages = list(booklet.pages)
    missing = -(pages_before + len(pages)) % PAGES_PER_SHEET
    if len(notes.pages) != 3 or missing % 2:  # a project's own templates or styles
        raise HandbookError(
            [
                Problem(
                    "templates/booklet-notes.html.j2",
                    0,
                    0,
                    "the notes pages cannot complete the booklet's last sheet: that takes a "
                    "back cover on a left-hand page and notes pages laid out as a first page, "
                    "then a left and a right one",
                    "keep 'break-before: left' on the back cover and the built-in "
                    "booklet-notes.html.j2, or use 'blank_pages: blank'",
                )
            ]
        )
    left, right = notes.pages[1:3]
    filler = [left if n % 2 == 0 else right for n in range(missing)]
    return booklet.copy([*pages[:-1], *filler, pages[-1]])


def to_pdf_bytes(document, origin: str, date: str | None = None, **options) -> bytes:
    """Write a rendered document as PDF bytes (fonts subset and embedded).

    ``date`` (W3C format, such as 2026-11-24) becomes the creation and
    modification date; without it the PDF has none, so that building twice
    gives the same bytes (WeasyPrint itself only asks the clock for PDF/X).
    Its fonts carry a date too: see :func:`_font_epoch`.
    """
    if date is not None:
        document.metadata.created = document.metadata.modified = date
    fetcher = document.url_fetcher  # a ProjectFetcher when the document comes from render()
    refusals, asker = getattr(fetcher, "refusals", []), getattr(fetcher, "asker", None)
    with (
        warnings_are_errors(origin, refusals, asker),
        workarounds.line_breaking_fixed(),  # SVG text is laid out while the PDF is drawn
        workarounds.fonts_dated(_font_epoch(date)),
        workarounds.lean_subsetting(),
    ):
        return document.write_pdf(**options)


def _font_epoch(date: str | None) -> int:
    """When the fonts in a PDF say they were modified, in seconds since 1970.

    ``SOURCE_DATE_EPOCH`` when the user set it (as fontTools itself would
    read it), else the document's ``date``, else 1970: never the clock, so
    builds are byte-identical with either font subsetter.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isascii() and epoch.isdigit():  # "²" is a digit too, but no number
        with contextlib.suppress(ValueError):  # more digits than Python converts
            return int(epoch)
    try:
        day = datetime.date.fromisoformat((date or "")[:10])
    except ValueError:
        return 0
    return int(datetime.datetime.combine(day, datetime.time(), datetime.UTC).timestamp())

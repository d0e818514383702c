"""What runs in the workers: each function writes one output into the output folder.

Every maker is called as ``make(..., out_dir)`` with the output folder last,
reads only what its job named (its page source, or the outputs it is made
from) and writes atomically, so a failing maker leaves the last good file.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from handbook import engine
from handbook.build import page_numbers
from handbook.build.cache import (
    BLEED_DIR,
    FONTS_DIR,
    GROUPS_DIR,
    MOST_FONT_BYTES,
    MOST_GROUP_BYTES,
    PAGE_MAP,
    digest,
)
from handbook.build.inputs import tool_version
from handbook.build.output import KeptFiles, read_output, write_output
from handbook.build.report import Made
from handbook.build.workers import RunFirst
from handbook.errors import HandbookError, Problem
from handbook.html.render import pages_wanted, with_pages
from handbook.press.sheets_pdf import BOXES

if TYPE_CHECKING:
    from handbook.content.validate import Origin
    from handbook.engine import PageSource
    from handbook.html.views import Card
    from handbook.press.format import Format
    from handbook.press.metadata import DocumentInfo
    from handbook.press.sheets import SheetLayout

# What card-sheets.pdf is made from: each card's boxes before it was trimmed
# (``bleed_file``), and all cards put together with their bleed (``BLEED_CARDS``).
BLEED_CARDS = f"{BLEED_DIR}/cards.pdf"
# Parts to lay out again for the booklet before they go to workers of their own: one the
# booklet's worker lays out itself as soon.
LEAST_PARTS_AHEAD = 2
# Cards are put together this many at a time, each group kept for the next build, and
# then the groups: an edit to one card merges its group and the groups again, not all.
CARDS_PER_GROUP = 16
# Groups of cards to put together before cards.pdf is, side by side on the workers,
# rather than one after the other in its task (a first build: 15 groups of 200 cards).
LEAST_GROUPS_AHEAD = 2
PREVIEW_DPI = 150


@dataclass(frozen=True)
class Variant:
    """The PDF variant a card is written as (None: a plain PDF) and the date it needs."""

    name: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class Origins:
    """The entries of ``Handbook.origins`` an overflowing card's problem needs.

    Tasks are pickled to the workers; this keeps the whole handbook out of them.
    """

    origins: dict[str, Origin]


def card_file(card_id: str, back: bool = False) -> str:
    """A card's file in the output folder, trimmed to its size."""
    return f"cards/backs/{card_id}.pdf" if back else f"cards/{card_id}.pdf"


def bleed_file(card_id: str, back: bool = False) -> str:
    """A card's (or its back's) boxes before it was trimmed: what gives its bleed back."""
    name = f"{card_id}.boxes.json"
    return f"{BLEED_DIR}/backs/{name}" if back else f"{BLEED_DIR}/{name}"


@dataclass(frozen=True)
class CardPage:
    """One page of the combined cards: a card's front or back, and its page source."""

    card_id: str
    back: bool
    source: PageSource


def make_booklet(
    date: str | None,
    variant: str | None,
    marks: bool,
    notes: PageSource | None,
    context: str,
    fresh: bool,
    ahead: bool,
    source: PageSource,
    out_dir: Path,
    made: frozenset[str] = frozenset(),
    renders_ahead: int = 0,
) -> Made | RunFirst:
    """The tagged booklet; with ``marks``, crop marks in a slug around its bleed; with
    ``notes``, the pages that complete its last sheet are notes pages; for a print
    shop, converted to PDF/X (no longer tagged).

    It is laid out in parts, each kept for the next build (see
    :mod:`handbook.build.booklet`; ``context`` is the hash of all it is made from
    besides its HTML; ``fresh``: none kept is used), or whole if it cannot be cut
    into parts. Its page numbers come from the last build's page map (see
    :func:`lay_out_booklet`). With ``ahead``, when the walk would lay out several
    parts again where the page map puts them (after a change to the styles, say),
    they are laid out first, side by side on the workers, and the booklet then
    (:class:`RunFirst`); ``made`` are their keys, ``renders_ahead`` their layouts.
    """
    from handbook.build.booklet import Written, in_parts, parts_ahead
    from handbook.html import split

    written = Written(source.origin, date, engine.weasyprint_variant(variant))
    known = page_numbers.read_page_map(out_dir)
    parts = split.split(source.html)
    if ahead:
        found = parts_ahead(source, notes, written, context, known, out_dir, fresh, parts)
        if len(found) >= LEAST_PARTS_AHEAD:
            options = (date, variant, marks, notes, context, fresh)
            return _parts_first(found, options, written, source, out_dir)
    booklet = in_parts(source, notes, written, context, known, out_dir, fresh, made, parts)
    if booklet is None:
        data, anchors, pages, renders = _booklet_whole(source, notes, written, known)
    else:
        data, anchors, pages, renders = booklet.pdf, booklet.anchors, booklet.pages, booklet.renders
    renders += renders_ahead
    if marks:
        from handbook.press.marks import with_marks

        data = with_marks(data)
    if variant == engine.PRINT_SHOP_VARIANT:
        from handbook.press import pdfx

        data = pdfx.convert(data)
    write_output(out_dir, "handbook.pdf", data)
    write_output(out_dir, PAGE_MAP, page_numbers.page_map_bytes(anchors))
    return Made(pages, renders=renders)


def _parts_first(
    found: list, options: tuple, written, source: PageSource, out_dir: Path
) -> RunFirst:
    """The parts ``found`` laid out each in a task of its own, then the booklet, with
    them kept (see :func:`make_booklet`; ``options``: its arguments before ``ahead``)."""
    from handbook.build.booklet import lay_out_ahead

    notes, context, fresh = options[3:]
    bare = dataclasses.replace(source, html="")  # each part brings its own
    runs = []
    for part in found:  # the notes pages complete the last part's sheet
        last_notes = notes if part.last else None
        lay_out = partial(lay_out_ahead, bare, last_notes, written, context, out_dir, fresh)
        runs.append(partial(lay_out, part))
    then = partial(_booklet_after_parts, options, source, out_dir)
    return RunFirst(tuple(runs), then, "laying out a part of the booklet")


def _booklet_after_parts(options: tuple, source: PageSource, out_dir: Path, laid: list) -> Made:
    """The booklet, once the parts laid out ahead are kept (``laid``: their keys and
    layouts)."""
    made = frozenset(key for key, _ in laid if key)
    renders = sum(count for _, count in laid)
    return make_booklet(*options, False, source, out_dir, made, renders)


def _booklet_whole(source: PageSource, notes: PageSource | None, written, known: dict[str, int]):
    """The booklet laid out as one document: its PDF, the page of each id, its page
    count and how many layouts it took."""
    from handbook.press import tagging

    document, renders = lay_out_booklet(source, known)
    if notes is not None:
        document = engine.completed_sheets(document, engine.render(notes))
    data = engine.to_pdf_bytes(
        document, source.origin, date=written.date, pdf_tags=True, pdf_variant=written.variant
    )
    data = tagging.finish(data, engine.continued_chains(document))
    return data, engine.anchor_pages(document), len(document.pages), renders


# Layouts with numbers from a page map before the booklet is left to target-counter():
# one where the map is right, a second where pages moved since (an edit).
_NUMBERED_LAYOUTS = 2


def lay_out_booklet(source: PageSource, known: dict[str, int]):
    """The laid-out booklet and how many layouts it took, each link printing the page
    ``known`` gives its target (see :mod:`handbook.build.page_numbers`).

    After each layout the printed numbers are checked against the pages the
    targets landed on; if one moved, the booklet is laid out again with the
    real ones. Numbers that still move (each set lays the pages out
    differently) are left to WeasyPrint's ``target-counter()``.
    """
    cited = page_numbers.cited(source.html)
    printed = {anchor: known[anchor] for anchor in cited if anchor in known}
    for layouts in range(1, _NUMBERED_LAYOUTS + 1):
        html = page_numbers.numbered(source.html, printed)
        document = engine.render(dataclasses.replace(source, html=html))
        real = engine.anchor_pages(document)
        if not page_numbers.moved(printed, real):
            return document, layouts
        printed = {anchor: real[anchor] for anchor in cited if anchor in real}
    return engine.render(source), _NUMBERED_LAYOUTS + 1


def make_edition(
    html: str, files: tuple[tuple[str, Path], ...], roots: tuple[Path, ...], out_dir: Path
) -> Made:
    """The HTML edition's page, with the pictures and fonts it names copied beside it."""
    from handbook.html.edition import EDITION_DIR, EDITION_PAGE

    for name, source in files:
        try:
            data = engine.read_allowed(source, roots)
        except engine.Refused as refusal:
            raise HandbookError([Problem(name, 0, 0, refusal.message, refusal.hint)]) from None
        write_output(out_dir, f"{EDITION_DIR}/{name}", data)
    write_output(out_dir, EDITION_PAGE, html.encode())
    return Made(0, renders=0)  # a web page has no pages to count


@dataclass(frozen=True)
class PrintSheet:
    """The sheet handbook-print.pdf is imposed on, and the body text its pages must keep."""

    size: tuple[float, float]  # landscape, in points
    name: str  # as a reader knows it: A4, Letter
    body_pt: float  # the booklet's body text size, before any scaling


def make_print(
    sheet: PrintSheet, info: DocumentInfo, names: tuple[str, ...], out_dir: Path
) -> Made:
    """The booklet imposed for saddle stitching, two pages per side of a landscape sheet."""
    return _impose(read_output(out_dir, names[0]), sheet, info, out_dir)


def make_print_edition(
    sheet: PrintSheet, info: DocumentInfo, date: str | None, source: PageSource, out_dir: Path
) -> Made:
    """The booklet laid out again at half the sheet, then imposed: for A4 and Letter
    booklets, whose own pages would have to shrink to fit half a sheet."""
    document = engine.render(source)
    made = _impose(engine.to_pdf_bytes(document, source.origin, date=date), sheet, info, out_dir)
    return Made(made.pages)


def _impose(booklet: bytes, sheet: PrintSheet, info: DocumentInfo, out_dir: Path) -> Made:
    from handbook.press import impose

    impose.check_readable(booklet, sheet.size, sheet.name, sheet.body_pt)
    imposed = impose.impose(booklet, sheet.size, info)
    write_output(out_dir, "handbook-print.pdf", imposed.pdf)
    return Made(imposed.sides, renders=0)


def make_card(
    card: Card,
    fmt: Format,
    back: bool,
    origins: Origins,
    variant: Variant,
    source: PageSource,
    out_dir: Path,
) -> Made:
    """Fit a card (or its back) on one page; write it trimmed, and how it was fitted.
    With a PDF variant, the card is tagged and written as that variant."""
    from handbook.press import sheets_pdf, tagging

    source = _with_booklet_pages(source, out_dir)
    fit = _fit(card, fmt, back, origins, source)
    data = engine.to_pdf_bytes(fit.document, source.origin, **_variant_options(variant))
    data = tagging.finish(data)
    boxes = json.dumps(sheets_pdf.bleed_boxes(data), sort_keys=True).encode()
    write_output(out_dir, bleed_file(card.id, back), boxes)
    write_output(out_dir, card_file(card.id, back), tagging.eol_safe(sheets_pdf.trimmed(data)))
    return Made(1, fit.renders, fit.scale)


def fit_card(card: Card, fmt: Format, origins: Origins, source: PageSource) -> Made:
    """Lay a card out as :func:`make_card` would, writing nothing (for ``check``).

    No booklet is laid out here, so the pages a card cites are taken as
    three-digit numbers, as wide as they can be."""
    html = with_pages(source.html, lambda _anchor: _WIDEST_PAGE)
    fit = _fit(card, fmt, False, origins, dataclasses.replace(source, html=html))
    return Made(1, fit.renders, fit.scale)


_WIDEST_PAGE = 888


def _with_booklet_pages(source: PageSource, out_dir: Path) -> PageSource:
    """The card with the booklet pages it cites filled in (left out if unknown)."""
    if not pages_wanted(source.html):
        return source
    pages = page_numbers.read_page_map(out_dir)
    return dataclasses.replace(source, html=with_pages(source.html, pages.get))


def _fit(card: Card, fmt: Format, back: bool, origins: Origins, source: PageSource):
    from handbook.press.fit import fit_card as fit_on_page
    from handbook.press.fit import overflow_problem, too_wide_problem

    fit = fit_on_page(source, fmt)
    if not fit.fits:
        raise HandbookError([overflow_problem(origins, card, fmt, fit, source.html, back=back)])
    wide = engine.too_wide(fit.document)
    if wide:
        raise HandbookError([too_wide_problem(origins, card, fmt, wide, back=back)])
    return fit


def make_cards_pdf(
    info: DocumentInfo,
    pages: tuple[CardPage, ...],
    ahead: bool,
    names: tuple[str, ...],
    out_dir: Path,
) -> Made | RunFirst:
    """All cards in one file, one card per page, sharing one set of fonts.

    The cards' own PDFs put together (fronts, then any backs), with their bleed
    given back, for card-sheets.pdf; the fronts alone, trimmed, as cards.pdf,
    saying ``info`` (a file of their own when there are backs, so that its
    structure tree holds only its pages). They are put together a group at a
    time (see :class:`_Groups`); with ``ahead``, groups no build kept are put
    together first, side by side on the workers (:class:`RunFirst`).
    """
    import pikepdf

    from handbook.press import sheets_pdf, tagging
    from handbook.press.metadata import stamp

    groups = _groups(pages[0].source, out_dir)
    parts = _card_parts(out_dir, list(pages))
    fronts = [part for part, page in zip(parts, pages, strict=True) if not page.back]
    if ahead:
        missing = groups.missing(parts, list(pages))
        if len(fronts) < len(parts):
            front_pages = [page for page in pages if not page.back]
            missing += [g for g in groups.missing(fronts, front_pages) if g not in missing]
        if len(missing) >= LEAST_GROUPS_AHEAD:
            runs = tuple(partial(_group_ahead, group, out_dir) for group in missing)
            then = partial(_cards_pdf_after_groups, info, pages, names, out_dir)
            return RunFirst(runs, then, "putting cards together for cards.pdf")
    boxes = [_bleed_boxes(out_dir, bleed_file(page.card_id, page.back)) for page in pages]
    every = groups.merged(parts)
    write_output(out_dir, BLEED_CARDS, sheets_pdf.with_bleed(every, boxes))
    cards = every if len(fronts) == len(parts) else groups.merged(fronts)
    groups.subsets.forget_unused()
    groups.kept.forget_unused()
    with pikepdf.open(io.BytesIO(cards)) as pdf:
        stamp(pdf, info)
        write_output(out_dir, "cards.pdf", tagging.saved(pdf))
    return Made(len(fronts), renders=0)


def _cards_pdf_after_groups(
    info: DocumentInfo,
    pages: tuple[CardPage, ...],
    names: tuple[str, ...],
    out_dir: Path,
    _kept: list[None],
) -> Made:
    """cards.pdf, once the groups put together ahead are kept."""
    made = make_cards_pdf(info, pages, False, names, out_dir)
    assert isinstance(made, Made)
    return made


def _group_ahead(pages: tuple[CardPage, ...], out_dir: Path) -> None:
    """Put one group of cards together and keep it (see :func:`make_cards_pdf`)."""
    _groups(pages[0].source, out_dir).group(_card_parts(out_dir, list(pages)))


def _groups(source: PageSource, out_dir: Path) -> _Groups:
    subsets = KeptFiles(out_dir, f"{BLEED_DIR}/{FONTS_DIR}", MOST_FONT_BYTES)
    kept = KeptFiles(out_dir, GROUPS_DIR, MOST_GROUP_BYTES)
    return _Groups(kept, engine.font_files(source), subsets)


def _card_parts(out_dir: Path, pages: list[CardPage]) -> list:
    from handbook.press.merge import MergePart

    return [MergePart(read_output(out_dir, card_file(p.card_id, p.back))) for p in pages]


@dataclass
class _Groups:
    """Card PDFs put together as :func:`handbook.press.merge.merged` puts them, in groups
    of :data:`CARDS_PER_GROUP`, each group's PDF kept under a hash of what it is made
    of (its cards' PDFs, the font files, the tool) for the next build; then the groups.
    The same cards give the same bytes whichever groups were kept."""

    kept: KeptFiles
    fonts: tuple[Path, ...]
    subsets: KeptFiles
    # What was found kept, by key: read once, whether to find the missing groups or to
    # put the groups together.
    found: dict[str, tuple[bytes | None, list[str] | None]] = dataclasses.field(
        default_factory=dict
    )

    def merged(self, parts: list) -> bytes:
        from handbook.press.merge import MergePart, merged

        if len(parts) <= CARDS_PER_GROUP:
            return merged(parts, None, self.fonts, self.subsets)
        grouped = [MergePart(self.group(group)) for group in _in_groups(parts)]
        return merged(grouped, None, self.fonts, self.subsets)

    def group(self, parts: list) -> bytes:
        """One group's PDF: kept, or put together now and kept."""
        from handbook.press.merge import merged

        key = self._key(parts)
        data, subsets = self._kept(key)
        if data is None or subsets is None:
            asked = _Asked(self.subsets)
            data = merged(parts, None, self.fonts, asked)
            self.kept.put(key, data)
            self.kept.put(f"{key}.fonts", json.dumps(sorted(asked.keys)).encode())
            self.found[key] = data, sorted(asked.keys)
        else:  # kept for when the group is merged again, after an edit to one of its cards
            self.subsets.keep(subsets)
        return data

    def missing(self, parts: list, pages: list[CardPage]) -> list[tuple[CardPage, ...]]:
        """The groups of these cards' pages (``parts``: their PDFs) that :meth:`merged`
        would put together now."""
        if len(parts) <= CARDS_PER_GROUP:
            return []
        return [
            tuple(group)
            for group, of_parts in zip(_in_groups(pages), _in_groups(parts), strict=True)
            if None in self._kept(self._key(of_parts))
        ]

    def _key(self, parts: list) -> str:
        return digest(self._made_of, *(part.pdf for part in parts))

    def _kept(self, key: str) -> tuple[bytes | None, list[str] | None]:
        if key not in self.found:
            self.found[key] = self.kept.get(key), _subset_keys(self.kept.get(f"{key}.fonts"))
        return self.found[key]

    @functools.cached_property
    def _made_of(self) -> str:
        """What every group is made with besides its cards: the tool and the font files."""
        files = []
        for path in self.fonts:
            try:
                files.append(path.read_bytes())
            except OSError:  # the merge leaves a font it cannot read as it is
                files.append(b"")
        return digest(tool_version(), *(str(path) for path in self.fonts), *files)


def _in_groups(items: list) -> Iterator[list]:
    for start in range(0, len(items), CARDS_PER_GROUP):
        yield items[start : start + CARDS_PER_GROUP]


@dataclass
class _Asked:
    """Subset programs kept between builds, noting which a merge asked for."""

    kept: KeptFiles
    keys: set[str] = dataclasses.field(default_factory=set)

    def get(self, key: str) -> bytes | None:
        self.keys.add(key)
        return self.kept.get(key)

    def put(self, key: str, data: bytes) -> None:
        self.keys.add(key)
        self.kept.put(key, data)


def _subset_keys(data: bytes | None) -> list[str] | None:
    """The subset programs a kept group was merged with, as recorded; None if unreadable."""
    try:
        keys = json.loads(data) if data is not None else None
    except ValueError:
        return None
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        return None
    return keys


def _bleed_boxes(out_dir: Path, name: str) -> dict[str, list[float]]:
    """The boxes a card job kept, checked: the output folder is the user's."""
    try:
        boxes = json.loads(read_output(out_dir, name, limit=_MOST_BOXES_BYTES))
    except ValueError:
        boxes = None
    sound = isinstance(boxes, dict) and all(
        isinstance(values, list)
        and len(values) == 4
        and all(type(v) in (int, float) and abs(v) < _MOST_POINTS for v in values)
        for values in boxes.values()
    )
    if not sound or set(boxes) - set(BOXES):
        raise HandbookError(
            [
                Problem(
                    str(out_dir / name),
                    0,
                    0,
                    "this file of the build was changed since the build wrote it",
                    "build again with --force",
                )
            ]
        )
    return boxes


_MOST_BOXES_BYTES = 4096
_MOST_POINTS = 100_000  # far larger than any card, in points


def _variant_options(variant: Variant) -> dict:
    """What WeasyPrint is asked for a card written as ``variant``."""
    if not variant.name:
        return {"date": variant.date}
    return {"date": variant.date, "pdf_variant": variant.name, "pdf_tags": True}


def make_sheets(
    layout: SheetLayout,
    fronts: int,
    duplex: bool,
    info: DocumentInfo,
    names: tuple[str, ...],
    out_dir: Path,
) -> Made:
    """The cards n-up with crop marks; with ``duplex``, each sheet's reverse after it."""
    from handbook.press import sheets_pdf

    cards = read_output(out_dir, BLEED_CARDS)
    write_output(
        out_dir, "card-sheets.pdf", sheets_pdf.card_sheets(layout, cards, fronts, duplex, info)
    )
    pages = layout.sheets_for(fronts) * (2 if duplex else 1)
    return Made(pages, renders=0)


def make_previews(ids: tuple[str, ...], names: tuple[str, ...], out_dir: Path) -> Made:
    """A PNG per card and a contact sheet, drawn from cards.pdf."""
    from handbook.press.preview import preview_pngs

    for name, data in preview_pngs(read_output(out_dir, names[0]), list(ids), PREVIEW_DPI).items():
        write_output(out_dir, f"png/{name}", data)
    return Made(1, renders=0)

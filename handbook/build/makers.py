"""What runs in the workers: each function writes one output into the output folder.

Every maker is called as ``make(..., out_dir)`` with the output folder last,
reads only what its job named (its page source, or the outputs it is made
from) and writes atomically, so a failing maker leaves the last good file.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from handbook import engine
from handbook.build import page_numbers
from handbook.build.cache import PAGE_MAP
from handbook.build.output import read_output, write_output
from handbook.build.report import Made
from handbook.errors import HandbookError
from handbook.html.render import pages_wanted, with_pages

if TYPE_CHECKING:
    from handbook.content.validate import Origin
    from handbook.engine import PageSource
    from handbook.html.views import Card
    from handbook.press.format import Format
    from handbook.press.metadata import DocumentInfo
    from handbook.press.sheets import SheetLayout

BLEED_DIR = ".bleed"  # each card with its bleed, for card-sheets.pdf
PREVIEW_DPI = 150


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
    """A card's file with its bleed, which card-sheets.pdf is made from."""
    return f"{BLEED_DIR}/backs/{card_id}.pdf" if back else f"{BLEED_DIR}/{card_id}.pdf"


def make_booklet(date: str | None, variant: str | None, source: PageSource, out_dir: Path) -> Made:
    """The tagged booklet, its page numbers from the last build's page map."""
    document, renders = lay_out_booklet(source, page_numbers.read_page_map(out_dir))
    data = engine.to_pdf_bytes(
        document, source.origin, date=date, pdf_tags=True, pdf_variant=variant
    )
    write_output(out_dir, "handbook.pdf", data)
    write_output(out_dir, PAGE_MAP, page_numbers.page_map_bytes(engine.anchor_pages(document)))
    return Made(len(document.pages), renders=renders)


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


def make_print(
    sheet: tuple[float, float], info: DocumentInfo, names: tuple[str, ...], out_dir: Path
) -> Made:
    """The booklet imposed for saddle stitching, two pages per side of a landscape sheet."""
    from handbook.press import impose

    imposed = impose.impose(read_output(out_dir, names[0]), sheet, info)
    write_output(out_dir, "handbook-print.pdf", imposed.pdf)
    return Made(imposed.sides, renders=0)


def make_card(
    card: Card, fmt: Format, back: bool, origins: Origins, source: PageSource, out_dir: Path
) -> Made:
    """Fit a card (or its back) on one page; write it trimmed, and with its bleed for sheets."""
    from handbook.press import sheets_pdf

    source = _with_booklet_pages(source, out_dir)
    fit = _fit(card, fmt, back, origins, source)
    data = engine.to_pdf_bytes(fit.document, source.origin)
    write_output(out_dir, bleed_file(card.id, back), data)
    write_output(out_dir, card_file(card.id, back), sheets_pdf.trimmed(data))
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


def make_cards_pdf(info: DocumentInfo, names: tuple[str, ...], out_dir: Path) -> Made:
    """All cards in one file, one card per page, from the card files just written."""
    from handbook.press import sheets_pdf

    data = sheets_pdf.combine([read_output(out_dir, name) for name in names], info)
    write_output(out_dir, "cards.pdf", data)
    return Made(len(names), renders=0)


def make_sheets(
    layout: SheetLayout,
    ids: tuple[str, ...],
    duplex: bool,
    info: DocumentInfo,
    names: tuple[str, ...],
    out_dir: Path,
) -> Made:
    """The cards n-up with crop marks; with ``duplex``, each sheet's reverse after it."""
    from handbook.press import sheets_pdf

    fronts = [read_output(out_dir, bleed_file(card_id)) for card_id in ids]
    backs = [read_output(out_dir, bleed_file(i, back=True)) for i in ids if duplex]
    data = sheets_pdf.card_sheets(layout, fronts, backs or None, info)
    write_output(out_dir, "card-sheets.pdf", data)
    pages = layout.sheets_for(len(fronts)) * (2 if duplex else 1)
    return Made(pages, renders=0)


def make_previews(ids: tuple[str, ...], names: tuple[str, ...], out_dir: Path) -> Made:
    """A PNG per card and a contact sheet, drawn from cards.pdf."""
    from handbook.press.preview import preview_pngs

    for name, data in preview_pngs(read_output(out_dir, names[0]), list(ids), PREVIEW_DPI).items():
        write_output(out_dir, f"png/{name}", data)
    return Made(1, renders=0)

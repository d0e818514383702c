"""Saddle-stitch imposition: the booklet, two pages per side of a landscape sheet.

Printed double-sided (flip on the short edge), the sheets stacked in order and
folded in the middle give the booklet in page order. The page order is a pure
function (:func:`saddle_order`); :func:`impose` only draws pages where it says.
"""

from __future__ import annotations

import io
from typing import NamedTuple

from handbook.errors import HandbookError, Problem
from handbook.press.format import READABLE_PT
from handbook.press.metadata import DocumentInfo, stamp
from handbook.press.sheets_pdf import page_form, save
from handbook.press.sizes import MM_PER_POINT

PAGES_PER_SHEET = 4  # a folded sheet of a saddle-stitched booklet: two pages a side

Side = tuple[int | None, int | None]
"""The booklet pages (0-based) on the left and right half of one side; None is blank."""


class Sheet(NamedTuple):
    front: Side
    back: Side


class Imposition(NamedTuple):
    pdf: bytes
    sides: int  # pages of the new PDF: two per sheet


def padded_order(n_pages: int) -> list[int | None]:
    """The booklet's pages padded to whole folded sheets.

    Blanks go before the last page, so the back cover stays on the back.
    """
    if n_pages < 1:
        raise ValueError("a booklet has at least one page")
    blanks: list[int | None] = [None] * (-n_pages % PAGES_PER_SHEET)
    if n_pages == 1:
        return [0, *blanks]
    return [*range(n_pages - 1), *blanks, n_pages - 1]


def saddle_order(n_pages: int) -> list[Sheet]:
    """Which pages go on each side of each sheet, outermost sheet first.

    Sheet ``i`` carries pages ``2i`` and ``2i + 1`` from the front of the
    padded booklet and their mirror images from its back: on the front, the
    later page left of the fold and the earlier one right of it; on the back
    (behind them after a short-edge flip), the other way round.
    """
    pages = padded_order(n_pages)
    last = len(pages) - 1
    return [
        Sheet(
            front=(pages[last - 2 * i], pages[2 * i]),
            back=(pages[2 * i + 1], pages[last - 2 * i - 1]),
        )
        for i in range(len(pages) // PAGES_PER_SHEET)
    ]


def fit_scale(page: tuple[float, float], sheet_size: tuple[float, float]) -> float:
    """How much a page of this (width, height) shrinks to fit half the landscape sheet;
    1 when it fits as it is (pages are never enlarged)."""
    width, height = sheet_size
    return min(1.0, width / 2 / page[0], height / page[1])


def check_readable(
    booklet: bytes, sheet_size: tuple[float, float], sheet_name: str, body_pt: float
) -> None:
    """Refuse to impose pages that would have to shrink body text below ``READABLE_PT``."""
    import pikepdf

    with pikepdf.Pdf.open(io.BytesIO(booklet)) as source:
        sizes = [_size(page.trimbox) for page in source.pages]
    page = min(sizes, key=lambda size: fit_scale(size, sheet_size))
    scale = fit_scale(page, sheet_size)
    if body_pt * scale >= READABLE_PT:
        return
    width, height = (round(v * MM_PER_POINT) for v in page)
    raise HandbookError(
        [
            Problem(
                "handbook.yaml",
                0,
                0,
                f"the booklet's {width} x {height} mm pages would print at {scale:.0%} on "
                f"the {sheet_name} sheets of handbook-print.pdf, its {body_pt:g} pt body "
                f"text at {body_pt * scale:.1f} pt, below the {READABLE_PT:g} pt a reader "
                "can read on paper",
                "give the booklet pages half the size of a sheet (paper: a5 for A4 sheets, "
                "half-letter for Letter) or remove the page size your styles set",
            )
        ]
    )


def _size(box) -> tuple[float, float]:
    x0, y0, x1, y1 = (float(v) for v in box)
    return (abs(x1 - x0), abs(y1 - y0))


def impose(booklet: bytes, sheet_size: tuple[float, float], info: DocumentInfo) -> Imposition:
    """Lay out a booklet PDF for saddle stitching, in a file that says ``info`` about itself.

    ``sheet_size`` is the landscape sheet's (width, height) in points. Each page
    becomes a form XObject clipped to its trim box (so bleed and crop marks
    do not reach the neighbour page), scaled down if it is larger than half the
    sheet (:func:`check_readable` says whether it may be) and set against the fold.
    """
    import pikepdf

    out = pikepdf.Pdf.new()
    with pikepdf.Pdf.open(io.BytesIO(booklet)) as source:  # open until saved
        forms = [page_form(out, page) for page in source.pages]
        for sheet in saddle_order(len(forms)):
            for side in sheet:
                _add_side(out, forms, side, sheet_size)
        stamp(out, info)
        return Imposition(save(out), len(out.pages))


def _add_side(out, forms: list, side: Side, sheet_size: tuple[float, float]) -> None:
    import pikepdf

    width, height = sheet_size
    half = width / 2
    resources = pikepdf.Dictionary()
    drawing = []
    for slot, index in enumerate(side):
        if index is None:
            continue
        form = forms[index]
        x0, y0, x1, y1 = (float(v) for v in form.BBox)
        scale = fit_scale((x1 - x0, y1 - y0), sheet_size)
        # Left pages touch the fold with their right edge, right pages with their left.
        left = half - scale * (x1 - x0) if slot == 0 else half
        bottom = (height - scale * (y1 - y0)) / 2
        name = f"/P{slot}"
        resources[name] = form
        drawing.append(
            f"q {scale:.6f} 0 0 {scale:.6f} {left - scale * x0:.4f} {bottom - scale * y0:.4f} cm "
            f"{name} Do Q"
        )
    page = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, round(width, 4), round(height, 4)],
        Resources=pikepdf.Dictionary(XObject=resources),
        Contents=out.make_stream("\n".join(drawing).encode()),
    )
    out.pages.append(pikepdf.Page(page))

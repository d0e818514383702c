"""Card sheet geometry (pure) and the card-sheets.pdf the build writes."""

from __future__ import annotations

import itertools
import math
from io import BytesIO

import pikepdf
import pytest
from pypdf import PdfReader

from handbook.press import sheets_pdf
from handbook.press.metadata import DocumentInfo
from handbook.press.sheets import Rect, layout, mirrored
from handbook.press.sizes import CARD_SIZES, PAPER_SIZES, points, pouch_margin
from tests.conftest import assert_size

INFO = DocumentInfo("Cards", (), "en")

SHEETS = ("a4", "letter")
COMBINATIONS = list(itertools.product(SHEETS, CARD_SIZES))
BLEED = 2.0  # the default theme's


def _layout(sheet: str, card: str, bleed: float = BLEED):
    return layout(PAPER_SIZES[sheet], CARD_SIZES[card], pouch_margin(card), bleed)


@pytest.mark.parametrize(("sheet", "card"), COMBINATIONS)
def test_cards_and_marks_stay_inside_the_printable_area(sheet, card):
    grid = _layout(sheet, card)
    assert grid.per_sheet >= 1
    for placement in grid.placements:
        assert grid.printable.contains(placement.bleed())
    for mark in grid.marks:
        assert grid.printable.contains(mark.bounds)


@pytest.mark.parametrize(("sheet", "card"), COMBINATIONS)
def test_cards_do_not_overlap_and_keep_a_pouch_margin(sheet, card):
    grid = _layout(sheet, card)
    for one, other in itertools.combinations(grid.placements, 2):
        assert not one.bleed().overlaps(other.bleed())
        assert not one.trim.grown(pouch_margin(card)).overlaps(other.trim.grown(pouch_margin(card)))


@pytest.mark.parametrize(("sheet", "card"), COMBINATIONS)
def test_crop_marks_lie_outside_every_trim_and_bleed(sheet, card):
    grid = _layout(sheet, card)
    assert len(grid.marks) == 8 * grid.per_sheet  # two at each of four corners
    for mark, placement in itertools.product(grid.marks, grid.placements):
        assert not placement.trim.overlaps(mark.bounds.grown(BLEED - 0.01))
        assert not placement.bleed().overlaps(mark.bounds)


@pytest.mark.parametrize(("sheet", "card"), COMBINATIONS)
def test_each_trimmed_card_keeps_its_size(sheet, card):
    width, height = CARD_SIZES[card]
    for placement in _layout(sheet, card).placements:
        turned = placement.rotation in (90, 270)
        expected = (height, width) if turned else (width, height)
        assert (placement.trim.width, placement.trim.height) == pytest.approx(expected)
        corners = [placement.to_sheet(u, v) for u in (0, width) for v in (0, height)]
        xs, ys = zip(*corners, strict=True)
        assert (min(xs), min(ys)) == pytest.approx((placement.trim.x, placement.trim.y))
        assert (max(xs), max(ys)) == pytest.approx((placement.trim.right, placement.trim.top))


def test_as_many_cards_as_fit():
    assert _layout("a4", "a6").per_sheet == 2  # turned: two A6 cards above each other
    assert _layout("a4", "3.5x5").per_sheet == 4
    assert _layout("a4", "a5").per_sheet == 1
    assert _layout("a4", "a6").placements[0].rotation == 90


@pytest.mark.parametrize(("sheet", "card"), COMBINATIONS)
def test_duplex_backs_land_behind_their_fronts(sheet, card):
    """Flipped on the long edge, a point of the front and the same point of the back
    (seen from behind, so mirrored left to right) share a place on the paper."""
    grid = _layout(sheet, card)
    sheet_width = grid.sheet[0]
    width, height = CARD_SIZES[card]
    for front, back in zip(grid.placements, grid.backs(), strict=True):
        assert back == mirrored(front, sheet_width)
        for u, v in [(0, 0), (width, 0), (10, 20), (width / 3, height * 0.8)]:
            x, y = front.to_sheet(u, v)
            back_x, back_y = back.to_sheet(width - u, v)
            assert (back_x, back_y) == pytest.approx((sheet_width - x, y))


def test_mirrored_backs_do_not_overlap():
    grid = _layout("a4", "3.5x5")
    for one, other in itertools.combinations(grid.backs(), 2):
        assert not one.bleed().overlaps(other.bleed())


def test_rect_overlap_ignores_touching_edges():
    assert not Rect(0, 0, 10, 10).overlaps(Rect(10, 0, 5, 5))
    assert Rect(0, 0, 10, 10).overlaps(Rect(9.9, 9.9, 5, 5))


def test_card_sheets_pdf_has_one_page_per_sheet(tiny_build):
    out, _ = tiny_build
    cards = len(PdfReader(out / "cards.pdf").pages)
    reader = PdfReader(out / "card-sheets.pdf")
    per_sheet = _layout("a4", "a6").per_sheet  # the default paper (A5) prints on A4
    assert cards > per_sheet
    assert len(reader.pages) == math.ceil(cards / per_sheet)
    for page in reader.pages:
        assert_size(page, points(PAPER_SIZES["a4"]))


@pytest.mark.parametrize("count", [1, 4, 5])
def test_duplex_doubles_the_pages(tiny_build, count):
    out, _ = tiny_build
    grid = _layout("letter", "3.5x5")
    with pikepdf.open(out / "cards" / "gliding.pdf") as card, pikepdf.new() as cards:
        cards.pages.extend([card.pages[0]] * (2 * count))  # the fronts, then the backs
        buffer = BytesIO()
        cards.save(buffer)
    data = sheets_pdf.card_sheets(grid, buffer.getvalue(), count, True, INFO)
    reader = PdfReader(BytesIO(data))
    assert len(reader.pages) == 2 * math.ceil(count / grid.per_sheet)

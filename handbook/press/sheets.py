"""Card sheets: where each card goes on an A4 or Letter sheet, and where its crop marks go.

Pure geometry in millimetres, PDF-style coordinates (origin at the sheet's
bottom-left, y upwards); :mod:`handbook.press.sheets_pdf` draws it.

Each card is printed with a bleed (its background runs past the cut, as far
as the theme's ``bleed_mm`` says; the card PDFs are rendered with the same
value) and
gets crop marks at all four corners: short lines on the extension of its
edges, starting a little outside its bleed (:func:`crop_marks`, which the
booklet's print-shop pages use too). Cards are spaced so that the marks
of one card never reach into another card's bleed, and at least a
laminating pouch's seal margin stays clear around every card, so each cut
card has room in a standard pouch and the sheet offcuts keep the marks.
Cards are turned a quarter turn when more fit that way.

For duplex printing (flipping on the long edge, the printers' default), the
backs go on the reverse at mirrored positions: a point of the card's front
and the point of its back behind it print at the same place of the paper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MARK_LENGTH = 3.0
MARK_OFFSET = 1.0  # between the bleed's edge and where a crop mark starts
MARK_REACH = MARK_OFFSET + MARK_LENGTH  # how far crop marks reach past the bleed
# The paper kept around the bleed for the marks (a print shop's slug): the
# marks with as much space beyond their ends as before their starts.
SLUG = MARK_REACH + MARK_OFFSET
MARK_CLEARANCE = 1.0  # between one card's marks and the next card's bleed
PRINTER_MARGIN = 5.0  # most desktop printers cannot print closer to the edge

Matrix = tuple[float, float, float, float, float, float]


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def top(self) -> float:
        return self.y + self.height

    def grown(self, by: float) -> Rect:
        return Rect(self.x - by, self.y - by, self.width + 2 * by, self.height + 2 * by)

    def overlaps(self, other: Rect) -> bool:
        """True when the insides meet (touching edges do not count)."""
        return (
            self.x < other.right
            and other.x < self.right
            and self.y < other.top
            and other.y < self.top
        )

    def contains(self, other: Rect) -> bool:
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.right <= self.right
            and other.top <= self.top
        )


@dataclass(frozen=True)
class Segment:
    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def bounds(self) -> Rect:
        return Rect(
            min(self.x1, self.x2),
            min(self.y1, self.y2),
            abs(self.x2 - self.x1),
            abs(self.y2 - self.y1),
        )


@dataclass(frozen=True)
class Placement:
    """One card on a sheet: its trimmed area and how far it is turned (counter-clockwise)."""

    trim: Rect
    rotation: int  # 0, 90 or 270
    card: tuple[float, float]  # the card's own (width, height), unturned
    bleed_mm: float  # background printed past the cut

    def to_sheet(self, u: float, v: float) -> tuple[float, float]:
        """A point of the card (from its trimmed bottom-left corner) on the sheet."""
        a, b, c, d, e, f = self.matrix()
        return (a * u + c * v + e, b * u + d * v + f)

    def matrix(self) -> Matrix:
        """The PDF ``cm`` matrix from card millimetres to sheet millimetres."""
        width, height = self.card
        x, y = self.trim.x, self.trim.y
        if self.rotation == 0:
            return (1, 0, 0, 1, x, y)
        if self.rotation == 90:
            return (0, 1, -1, 0, x + height, y)
        if self.rotation == 270:
            return (0, -1, 1, 0, x, y + width)
        raise ValueError(f"unsupported rotation {self.rotation}")

    def bleed(self) -> Rect:
        return self.trim.grown(self.bleed_mm)

    def crop_marks(self) -> tuple[Segment, ...]:
        return crop_marks(self.trim, self.bleed_mm)


@dataclass(frozen=True)
class SheetLayout:
    sheet: tuple[float, float]
    card: tuple[float, float]
    placements: tuple[Placement, ...]  # fronts, in reading order
    printable: Rect
    gap: float  # between neighbouring cards' trimmed edges

    @property
    def per_sheet(self) -> int:
        return len(self.placements)

    def backs(self) -> tuple[Placement, ...]:
        """The placements of the backs, in the same order as the fronts."""
        return tuple(mirrored(p, self.sheet[0]) for p in self.placements)

    @property
    def marks(self) -> tuple[Segment, ...]:
        """The crop marks of a full sheet of fronts."""
        return tuple(mark for p in self.placements for mark in p.crop_marks())

    def sheets_for(self, cards: int) -> int:
        return math.ceil(cards / self.per_sheet)


def mirrored(placement: Placement, sheet_width: float) -> Placement:
    """Where a card's back goes so it lands behind its front after a long-edge flip."""
    trim = placement.trim
    rotation = {0: 0, 90: 270, 270: 90}[placement.rotation]
    return Placement(
        Rect(sheet_width - trim.right, trim.y, trim.width, trim.height),
        rotation,
        placement.card,
        placement.bleed_mm,
    )


def card_gap(pouch_margin: float, bleed: float) -> float:
    """Space between neighbouring cards: room for marks and a pouch's seal margin each."""
    return max(2 * pouch_margin, 2 * bleed + MARK_REACH + MARK_CLEARANCE)


def layout(
    sheet: tuple[float, float], card: tuple[float, float], pouch_margin: float, bleed: float
) -> SheetLayout:
    """As many cards as fit on the sheet, upright or turned, centred, with their marks;
    ``bleed`` is how far each card's background runs past its cut, in millimetres."""
    printable = Rect(0, 0, *sheet).grown(-PRINTER_MARGIN)
    gap = card_gap(pouch_margin, bleed)
    reach = bleed + MARK_REACH  # how far marks stick out past a card's edge
    options = []
    for rotation, (width, height) in ((0, card), (90, (card[1], card[0]))):
        columns = _how_many(printable.width, width, gap, reach)
        rows = _how_many(printable.height, height, gap, reach)
        options.append((columns * rows, -rotation, rotation, columns, rows, width, height))
    count, _, rotation, columns, rows, width, height = max(options)
    if count == 0:
        raise ValueError(f"a {card[0]} x {card[1]} mm card does not fit on a {sheet} mm sheet")
    block_w = columns * width + (columns - 1) * gap
    block_h = rows * height + (rows - 1) * gap
    left = (sheet[0] - block_w) / 2
    top = (sheet[1] + block_h) / 2
    placements = tuple(
        Placement(
            Rect(left + col * (width + gap), top - (row + 1) * height - row * gap, width, height),
            rotation,
            card,
            bleed,
        )
        for row in range(rows)
        for col in range(columns)
    )
    return SheetLayout(sheet, card, placements, printable, gap)


def _how_many(space: float, size: float, gap: float, reach: float) -> int:
    return max(0, math.floor((space - 2 * reach + gap) / (size + gap) + 1e-9))


def crop_marks(trim: Rect, bleed: float) -> tuple[Segment, ...]:
    """Two marks per corner on the extension of the trim's edges, outside its bleed.

    Each points at a trim line and stays clear of the bleed by ``MARK_OFFSET``,
    so a cut that wanders a little never shows a mark on the trimmed piece.
    """
    near = bleed + MARK_OFFSET
    far = near + MARK_LENGTH
    marks = []
    for x, sx in ((trim.x, -1), (trim.right, 1)):
        for y, sy in ((trim.y, -1), (trim.top, 1)):
            marks.append(Segment(x + sx * near, y, x + sx * far, y))
            marks.append(Segment(x, y + sy * near, x, y + sy * far))
    return tuple(marks)

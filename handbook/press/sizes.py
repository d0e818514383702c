"""Paper and card sizes in millimetres (portrait: width, height)."""

from __future__ import annotations

INCH = 25.4

PAPER_SIZES: dict[str, tuple[float, float]] = {
    "a5": (148.0, 210.0),
    "a4": (210.0, 297.0),
    "letter": (8.5 * INCH, 11 * INCH),
    "half-letter": (5.5 * INCH, 8.5 * INCH),
}

CARD_SIZES: dict[str, tuple[float, float]] = {
    "a6": (105.0, 148.0),
    "a5": (148.0, 210.0),
    "4x6": (4 * INCH, 6 * INCH),
    "5x7": (5 * INCH, 7 * INCH),
    "3.5x5": (3.5 * INCH, 5 * INCH),
}

MM_PER_POINT = INCH / 72


def css_size(size: tuple[float, float]) -> str:
    """A ``@page { size: ... }`` value for a (width, height) in millimetres."""
    return f"{size[0]:.2f}mm {size[1]:.2f}mm"


def points(size: tuple[float, float]) -> tuple[float, float]:
    """Millimetres to PDF points."""
    return (size[0] / MM_PER_POINT, size[1] / MM_PER_POINT)


# The laminating pouch sold for each card size (outer size, millimetres): the
# card sheets keep at least the pouch's seal margin clear around every card.
POUCH_SIZES: dict[str, tuple[float, float]] = {
    "a6": (111.0, 154.0),
    "a5": (154.0, 216.0),
    "4x6": (4.25 * INCH, 6.25 * INCH),
    "5x7": (5.25 * INCH, 7.25 * INCH),
    "3.5x5": (3.75 * INCH, 5.25 * INCH),
}

# Paper sizes of the letter family print their card sheets on Letter.
LETTER_FAMILY = ("letter", "half-letter")

REFERENCE_CARD = "a6"


def card_scale(card_size: str) -> float:
    """How much larger than an A6 card this card is, so its type can grow with it.

    The smaller of the width and height ratios: the text keeps the same line
    breaks as on A6 and never runs out of width.
    """
    width, height = CARD_SIZES[card_size]
    ref_width, ref_height = CARD_SIZES[REFERENCE_CARD]
    return min(width / ref_width, height / ref_height)


def pouch_margin(card_size: str) -> float:
    """The seal margin a standard pouch leaves around this card, in millimetres."""
    card, pouch = CARD_SIZES[card_size], POUCH_SIZES[card_size]
    return min(pouch[0] - card[0], pouch[1] - card[1]) / 2


def sheet_for_paper(paper: str) -> str:
    """The sheet to print cards on for a booklet of this paper: Letter or A4."""
    return "letter" if paper in LETTER_FAMILY else "a4"


# A booklet folded from sheets of this paper has pages of that paper.
FOLDED: dict[str, str] = {"a4": "a5", "letter": "half-letter"}


def print_paper(paper: str) -> str:
    """The page size of the print file of a booklet of this paper: half its sheet.

    A5 and half-letter booklets already are; A4 and Letter ones are laid out
    again at half their sheet, so the print file is imposed at true size.
    """
    return FOLDED.get(paper, paper)


def print_sheet(paper: str) -> tuple[float, float]:
    """The landscape sheet, in points, that a booklet of this paper is imposed on."""
    width, height = points(PAPER_SIZES[sheet_for_paper(paper)])
    return (height, width)
